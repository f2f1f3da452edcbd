"""A secret planted in the scanned code, reported by gitleaks, and echoed by the model never
reaches any output of `analyze`."""

from __future__ import annotations

import pytest

from vulntune.inference.analyze_inputs import read_inputs
from vulntune.inference.analyze_job import analyze_reports

from .scripted import CODEQL, FAKE_MODEL, GITLEAKS, PLANTED_SECRET, PROJECT, ScriptedCompleter


def test_the_planted_secret_is_in_the_inputs():
    assert PLANTED_SECRET in (PROJECT / "app/db.py").read_text(encoding="utf-8")
    assert PLANTED_SECRET in GITLEAKS.read_text(encoding="utf-8")


@pytest.mark.parametrize("output_format", ["sarif", "jsonl", "md"])
def test_the_planted_secret_never_reaches_the_output(output_format):
    paths = [CODEQL, GITLEAKS]
    findings = read_inputs(paths, PROJECT).report.findings
    # A model that repeats the secret (memorised, or made up from the same pattern).
    leaky = (
        f"Classification: CWE-798 x\nSeverity: critical\nCategory: secrets\n"
        f"Root cause: The token {PLANTED_SECRET} is committed.\n"
        f"Impact: Anyone can use {PLANTED_SECRET}."
    )
    completer = ScriptedCompleter(findings, analysis=leaky)
    outcome = analyze_reports(paths, FAKE_MODEL, completer, output_format, source_root=PROJECT)
    assert outcome.result.analysed == 3
    assert PLANTED_SECRET not in outcome.text
    assert PLANTED_SECRET[4:20] not in outcome.text
    assert "«redacted:" in outcome.text


def test_the_secret_is_redacted_even_without_the_secret_scanner_report():
    # Only the generic detectors know it here (a GitHub token format).
    findings = read_inputs([CODEQL], PROJECT).report.findings
    leaky = f"Classification: CWE-798 x\nRoot cause: token {PLANTED_SECRET} in code."
    completer = ScriptedCompleter(findings, analysis=leaky)
    outcome = analyze_reports([CODEQL], FAKE_MODEL, completer, "sarif", source_root=PROJECT)
    assert PLANTED_SECRET not in outcome.text
