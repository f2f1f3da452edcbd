"""SARIF 2.1.0 -> :class:`~vulntune.findings.record.Finding`, from any producer.

One module per job:

- :mod:`~vulntune.findings.sarif.document`: a file's runs and results in two passes (the
  entry points below, which :mod:`vulntune.findings.parse` calls);
- :mod:`~vulntune.findings.sarif.fast`: the memory-mapped msgspec path for UTF-8 files;
- :mod:`~vulntune.findings.sarif.model`: the typed structs a result is decoded into;
- :mod:`~vulntune.findings.sarif.run`: what a run knows about its results (tool, rules, paths);
- :mod:`~vulntune.findings.sarif.ids`: what a result's id is made of, and the id;
- :mod:`~vulntune.findings.sarif.result`: one result -> one finding;
- :mod:`~vulntune.findings.sarif.quirks`: how individual tools bend SARIF (Trivy's message
  text, Bandit's and DevSkim's own severities).
"""

from vulntune.findings.sarif.document import (
    FORMAT_NAME,
    RunHeader,
    check_version,
    fast_findings,
    fast_headers,
    is_sarif_document,
    iter_document_findings,
    iter_findings,
    scan_runs,
)

__all__ = [
    "FORMAT_NAME",
    "RunHeader",
    "check_version",
    "fast_findings",
    "fast_headers",
    "is_sarif_document",
    "iter_document_findings",
    "iter_findings",
    "scan_runs",
]
