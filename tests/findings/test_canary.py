"""A canary secret planted in secret-scanner reports and in the scanned source must never
reach any output: the JSONL, stdout or stderr, with or without a source root.

The fixtures (tests/findings/fixtures/ingest/canary) plant it in a gitleaks SARIF (snippet), a
gitleaks JSON (Match and Secret), a Trivy JSON secret (Match and code lines, one of them
partially masked) and a Trivy SARIF secret (message, rule description and help), and in the
source files those findings point to, on the flagged lines and on a neighbouring line.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vulntune.cli import app
from vulntune.findings.ingest import ingest_paths, write_jsonl

CANARY = "Zebra-Marmalade-Quixotic-Harbor-4417"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ingest" / "canary"
REPORTS = FIXTURES / "reports"
SOURCE = FIXTURES / "source"


def canary_fragments(min_length: int = 8) -> set[str]:
    """Every substring of the canary of at least ``min_length`` characters."""
    return {CANARY[i:j] for i in range(len(CANARY)) for j in range(i + min_length, len(CANARY) + 1)}


def assert_no_canary(text: str) -> None:
    leaked = sorted(f for f in canary_fragments() if f in text)
    assert not leaked, f"canary fragments in output: {leaked[:3]}"


def test_fixtures_really_contain_the_canary():
    for path in [*REPORTS.iterdir(), SOURCE / ".env", SOURCE / "config" / "settings.py"]:
        assert CANARY in path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize("with_source", [False, True])
def test_canary_never_reaches_the_findings(tmp_path, with_source):
    report = ingest_paths([REPORTS], SOURCE if with_source else None)
    assert report.errors == [] and len(report.files) == 4
    assert len(report.findings) == 4 and all(f.redacted for f in report.findings)
    if with_source:
        assert all(f.context is not None for f in report.findings)
        assert report.context_problems == []
    out = tmp_path / "findings.jsonl"
    write_jsonl(report.findings, out)
    assert_no_canary(out.read_text(encoding="utf-8"))
    assert_no_canary(json.dumps([f.to_dict() for f in report.findings]))
    assert_no_canary("".join(f.to_json() for f in report.findings))


@pytest.mark.parametrize("one", sorted(p.name for p in REPORTS.iterdir()))
def test_canary_never_reaches_the_findings_of_each_report_alone(one):
    """Each report on its own: no help from the secrets the other reports told about."""
    report = ingest_paths([REPORTS / one], SOURCE)
    assert report.findings and report.errors == []
    assert_no_canary("".join(f.to_json() for f in report.findings))


@pytest.mark.parametrize("output", ["findings.jsonl", "-"])
def test_canary_never_reaches_the_cli_output(tmp_path, monkeypatch, output):
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS, reports)
    (reports / "broken.sarif").write_text('{"runs": [{"results": [{"message": ')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app, ["ingest", str(reports), "--source-root", str(SOURCE), "-o", output]
    )
    assert result.exit_code == 0, result.output
    assert_no_canary(result.stdout)
    assert_no_canary(result.stderr)
    if output != "-":
        assert_no_canary((tmp_path / output).read_text(encoding="utf-8"))
    else:
        assert len(result.stdout.splitlines()) == 4
