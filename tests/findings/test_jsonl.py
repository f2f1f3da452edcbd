"""The findings-file reader: what `ingest -o` writes reads back as the same Findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vulntune.findings import FindingsFileError, iter_findings, read_findings
from vulntune.findings.ingest import write_jsonl
from vulntune.findings.record import Finding, FindingKind, Location, Origin, Severity


def _finding(n: int, **extra: object) -> Finding:
    return Finding(
        id=f"id{n}",
        tool="bandit",
        rule_id="B608",
        severity=Severity.MEDIUM,
        message=f"possible SQL injection {n}",
        kind=FindingKind.CODE,
        origin=Origin(file="bandit.json", format="bandit-json", index=n, revision="abc123"),
        location=Location(path="app/db.py", start_line=10 + n),
        cwe_ids=["CWE-89"],
        **extra,
    )


def test_what_ingest_writes_reads_back_unchanged(tmp_path: Path) -> None:
    findings = [_finding(0), _finding(1, snippet="cur.execute(q % name)")]
    out = tmp_path / "findings.jsonl"
    write_jsonl(findings, out)
    assert read_findings(out) == findings
    assert list(iter_findings(out)) == findings
    assert read_findings(out)[0].origin.revision == "abc123"


def test_every_bad_line_is_named_with_file_and_line(tmp_path: Path) -> None:
    good = json.dumps(_finding(0).to_dict())
    path = tmp_path / "f.jsonl"
    path.write_bytes(
        "\n".join([good, "{not json", "", "[1, 2]", json.dumps({"id": "x"}), good]).encode()
        + b"\n\xff\xfe\n"
    )
    with pytest.raises(FindingsFileError) as err:
        read_findings(path)
    message = str(err.value)
    assert message.startswith("4 bad line(s) in a findings file")
    assert f"{path}:2: invalid JSON (Expecting property name enclosed in double quotes" in message
    assert f"{path}:4: not a finding" in message
    assert f"{path}:5: not a finding (" in message
    assert f"{path}:7: not UTF-8" in message
    # The lazy reader stops at the first one.
    with pytest.raises(FindingsFileError, match=rf"{path}:2: invalid JSON"):
        list(iter_findings(path))


def test_a_bom_and_blank_lines_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_finding(3).to_dict()).encode() + b"\n\n")
    assert read_findings(path) == [_finding(3)]


def test_missing_files_and_folders_are_named(tmp_path: Path) -> None:
    with pytest.raises(FindingsFileError, match=r"nope.jsonl: no such findings file"):
        read_findings(tmp_path / "nope.jsonl")
    with pytest.raises(FindingsFileError, match=r"is a directory, not a findings file"):
        read_findings(tmp_path)
