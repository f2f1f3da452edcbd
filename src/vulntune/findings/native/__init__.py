"""Native (non-SARIF) JSON formats of the scanners vulntune reads, one module per tool.

:data:`vulntune.findings.native.registry.FORMATS` lists them in the order the ingester tries
them. This package imports none of them itself, so that code needing one helper (the SARIF
reader uses :mod:`~vulntune.findings.native.trivy_ids`) does not load every parser.
"""
