"""`vulntune ingest --json`: a summary on stdout, people's output on stderr, findings to -o."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

_SARIF = {
    "version": "2.1.0",
    "runs": [
        {
            "tool": {"driver": {"name": "Bandit", "version": "1.8.0"}},
            "results": [
                {
                    "ruleId": "B602",
                    "level": "error",
                    "message": {"text": "subprocess call with shell=True identified."},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "app/jobs.py"},
                                "region": {"startLine": 17},
                            }
                        }
                    ],
                }
            ],
        }
    ],
}


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    folder = tmp_path / "artifacts"
    folder.mkdir()
    (folder / "bandit.sarif").write_text(json.dumps(_SARIF))
    (folder / "broken.sarif").write_text('{"version": "2.1.0", "runs": [')
    (folder / "report.html").write_text("<html></html>")
    return folder


def test_json_summary_on_stdout_findings_in_the_output_file(cli, reports, tmp_path):
    output = tmp_path / "out.jsonl"
    done = cli.ok("ingest", reports, "-o", output, "--json")
    summary = cli.json(done)
    assert summary["output"] == str(output) and summary["written"] == summary["findings"] == 1
    assert summary["files"] == {str(reports / "bandit.sarif"): 1}
    assert summary["by_severity"] == {"high": 1}
    assert summary["by_tool_and_severity"] == {"bandit": {"high": 1}}
    assert (summary["duplicates"], summary["redacted"], summary["context_problems"]) == (0, 0, [])
    assert summary["skipped"] == [
        {"file": str(reports / "report.html"), "reason": "not a scanner report (not JSON)"}
    ]
    (error,) = summary["errors"]
    assert error["file"] == str(reports / "broken.sarif")
    assert len(output.read_text().splitlines()) == 1
    # The table, the skipped file and the error line are for people: stderr.
    assert "1 finding(s) from 1 file(s)" in done.stderr
    assert f"Wrote 1 finding(s) to {output}" in done.stderr
    assert done.stderr.count("error:") == 1


def test_json_when_nothing_could_be_read_still_reports_and_exits_1(cli, tmp_path):
    broken = tmp_path / "broken.sarif"
    broken.write_text("{")
    done = cli.run("ingest", broken, "-o", tmp_path / "out.jsonl", "--json")
    assert done.returncode == 1
    summary = cli.json(done)
    assert (summary["output"], summary["written"], summary["findings"]) == (None, None, 0)
    assert [e["file"] for e in summary["errors"]] == [str(broken)]
    assert "error: no scanner report could be read" in done.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_json_and_findings_on_stdout_are_a_usage_error(cli, reports):
    message = cli.usage_error("ingest", reports, "-o", "-", "--json")
    assert "Usage: vulntune ingest [OPTIONS]" in message
    assert "--json and '-o -' would both write to stdout; pick one" in message


def test_revision_is_recorded_with_every_finding(cli, reports: Path, tmp_path: Path) -> None:
    out = tmp_path / "findings.jsonl"
    cli.ok("ingest", reports / "bandit.sarif", "-o", out, "--revision", "v1.2.0")
    (line,) = out.read_text().splitlines()
    assert json.loads(line)["origin"]["revision"] == "v1.2.0"


def test_an_empty_revision_is_a_usage_error(cli, reports: Path) -> None:
    assert "--revision must name a commit, tag or branch" in cli.usage_error(
        "ingest", reports, "--revision", " "
    )
