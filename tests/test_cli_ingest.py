"""`vulntune ingest` end to end: exit codes, --strict, output file, summary, stdout mode."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vulntune.cli import app
from vulntune.findings.ingest import ingest_paths

REPORTS = (
    Path(__file__).resolve().parent / "findings" / "fixtures" / "ingest" / "canary" / "reports"
)


@pytest.fixture()
def reports(tmp_path: Path) -> Path:
    """A CI-artifacts-like folder: four secret-scanner reports plus an HTML report."""
    folder = tmp_path / "artifacts"
    shutil.copytree(REPORTS, folder)
    (folder / "zap.html").write_text("<html><body>report</body></html>")
    return folder


def run(args: list[str], cwd: Path, monkeypatch) -> object:
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(app, ["ingest", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a crash must not pass for a clean exit code 1
    return result


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_ingest_writes_findings_and_prints_a_summary(reports, tmp_path, monkeypatch):
    result = run([str(reports)], tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    written = read_jsonl(tmp_path / "findings.jsonl")  # the default output
    assert len(written) == 4 and all(f["redacted"] for f in written)
    assert "4 finding(s) from 4 file(s)" in result.stdout
    assert "gitleaks" in result.stdout and "trivy" in result.stdout
    assert "1 duplicate(s) merged" in result.stdout
    assert "zap.html: not a scanner report (not JSON)" in result.stdout
    assert "Wrote 4 finding(s) to findings.jsonl" in result.stdout
    assert result.stderr == ""


def test_unreadable_file_is_listed_but_does_not_fail(reports, tmp_path, monkeypatch):
    (reports / "broken.sarif").write_text('{"version": "2.1.0", "runs": [')
    result = run([str(reports), "-o", "out.jsonl"], tmp_path, monkeypatch)
    assert result.exit_code == 0
    assert "error:" in result.stderr and "broken.sarif" in result.stderr
    assert len(read_jsonl(tmp_path / "out.jsonl")) == 4


def test_strict_fails_on_any_error_and_writes_nothing(reports, tmp_path, monkeypatch):
    (reports / "broken.sarif").write_text('{"version": "2.1.0", "runs": [')
    result = run([str(reports), "--strict"], tmp_path, monkeypatch)
    assert result.exit_code == 1
    assert "could not be read (--strict); findings not written" in result.stderr
    assert not (tmp_path / "findings.jsonl").exists()
    clean = run([str(REPORTS), "--strict"], tmp_path, monkeypatch)
    assert clean.exit_code == 0 and (tmp_path / "findings.jsonl").exists()


def test_no_readable_input_fails_and_keeps_the_previous_output(tmp_path, monkeypatch):
    (tmp_path / "findings.jsonl").write_text('{"previous": true}\n')
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "report.md").write_text("# not a report\n")
    result = run([str(tmp_path / "in"), str(tmp_path / "missing.json")], tmp_path, monkeypatch)
    assert result.exit_code == 1
    assert "no scanner report could be read" in result.stderr
    assert "missing.json" in result.stderr
    assert (tmp_path / "findings.jsonl").read_text() == '{"previous": true}\n'


def test_output_to_stdout_keeps_stdout_pure_jsonl(reports, tmp_path, monkeypatch):
    result = run([str(reports), "-o", "-"], tmp_path, monkeypatch)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and all(json.loads(line)["id"] for line in lines)
    assert "4 finding(s) from 4 file(s)" in result.stderr
    assert not (tmp_path / "findings.jsonl").exists()


def test_rerun_in_the_same_folder_does_not_read_its_own_output(reports, monkeypatch):
    first = run([".", "-o", "findings.jsonl"], reports, monkeypatch)
    second = run([".", "-o", "findings.jsonl", "--strict"], reports, monkeypatch)
    assert first.exit_code == second.exit_code == 0
    assert "4 finding(s) from 4 file(s)" in second.stdout


def test_source_root_and_context_lines(reports, tmp_path, monkeypatch):
    source = REPORTS.parent / "source"
    result = run([str(reports), "--source-root", str(source), "--context-lines", "1"],
                 tmp_path, monkeypatch)  # fmt: skip
    assert result.exit_code == 0
    by_path = {f["location"]["path"]: f for f in read_jsonl(tmp_path / "findings.jsonl")}
    context = by_path["config/settings.py"]["context"]
    assert context["start_line"] == 3 and len(context["lines"]) == 3  # line 4, one either side


def test_file_names_with_markup_are_printed_verbatim(tmp_path, monkeypatch):
    (tmp_path / "[bold]x.json").write_text("[1, 2]")
    result = run([str(tmp_path / "[bold]x.json")], tmp_path, monkeypatch)
    assert result.exit_code == 1 and "[bold]x.json" in result.stderr


def test_console_script_on_the_corpus_with_a_bad_source_root(tmp_path, scanner_corpus):
    """The real entry point in a subprocess: VulntuneErrors become one line and exit 1."""
    cli = [sys.executable, "-m", "vulntune.cli", "ingest"]
    bad = subprocess.run(
        [*cli, str(scanner_corpus), "--source-root", str(tmp_path / "nope")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nope'}: the source root is not a directory"
    ]
    good = subprocess.run([*cli, str(scanner_corpus)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)  # fmt: skip
    assert good.returncode == 0, good.stderr
    expected = ingest_paths([scanner_corpus]).findings  # exact counts are pinned in test_ingest.py
    assert [f["id"] for f in read_jsonl(tmp_path / "findings.jsonl")] == [f.id for f in expected]
