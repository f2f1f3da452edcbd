"""Step 1 of `vulntune run`: reports of several revisions into one findings file."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from vulntune.demo.project import reports_dir
from vulntune.findings import read_findings
from vulntune.pipeline.ingest_step import ingest_reports
from vulntune.pipeline.inputs import PipelineInputError, ReportInput, parse_report_arguments


def test_the_demo_reports_ingest_per_revision_with_code_of_that_revision(demo_repo, tmp_path):
    inputs = parse_report_arguments([str(reports_dir("r1").parent)], demo_repo.path)
    out = tmp_path / "findings.jsonl"
    summary = ingest_reports(inputs, demo_repo.path, out)
    findings = read_findings(out)
    by_revision = Counter(f.origin.revision for f in findings)
    # The counts the demo's README pins per revision.
    assert by_revision == {"r1": 64, "r2": 51, "r3": 43, "r4": 43, "r5": 41, "r6": 41}
    assert summary.findings == len(findings) == 283 and summary.files == 22
    # r1's shell=True finding shows r1's code, though the working tree is at r6.
    (shell,) = [
        f for f in findings
        if f.origin.revision == "r1" and f.rule_id == "B602" and f.location.path == "api/app.py"
    ]  # fmt: skip
    assert "shell=True" in (shell.snippet or "") + json.dumps(str(shell.context))


def test_a_secret_one_revision_reported_is_redacted_in_every_revision(demo_repo, tmp_path):
    # r2 has no gitleaks report, but its findings' context shows ci.yml, where the key is.
    inputs = parse_report_arguments([str(reports_dir("r1").parent)], demo_repo.path)
    out = tmp_path / "findings.jsonl"
    ingest_reports(inputs, demo_repo.path, out)
    assert "AKIA" not in out.read_text(encoding="utf-8")


def test_an_unreadable_report_is_named_and_nothing_is_written(tmp_path):
    bad = tmp_path / "broken.sarif"
    bad.write_text('{"version": "2.1.0", "runs": [')
    out = tmp_path / "findings.jsonl"
    good = ReportInput(reports_dir("r1") / "bandit.json")
    with pytest.raises(PipelineInputError, match=r"broken\.sarif: cannot read this report"):
        ingest_reports([good, ReportInput(bad)], None, out)
    assert not out.exists()


def test_reports_without_findings_are_refused(tmp_path):
    empty = tmp_path / "clean.sarif"
    run = {"tool": {"driver": {"name": "semgrep"}}, "results": []}
    empty.write_text(json.dumps({"version": "2.1.0", "runs": [run]}))
    with pytest.raises(PipelineInputError, match="no findings in 1 report file"):
        ingest_reports([ReportInput(empty)], None, tmp_path / "findings.jsonl")
