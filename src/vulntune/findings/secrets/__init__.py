"""Secrets in scanner output: what they look like and what the secret scanners reported.

- :mod:`~vulntune.findings.secrets.patterns`: the markers that replace secrets and the
  detectors that find them in any text (:func:`~vulntune.findings.secrets.patterns.redact_text`);
- :mod:`~vulntune.findings.secrets.randomness`: is a string random, a placeholder, or words;
- :mod:`~vulntune.findings.secrets.index`: the values and flagged lines of every secret finding
  of an ingest.

:mod:`vulntune.findings.redact` applies them to every text of a finding.
"""
