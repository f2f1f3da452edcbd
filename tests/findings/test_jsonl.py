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


# --------------------------------------------------------------------------------------------
# Rule texts written once (issue 7, item 4)
# --------------------------------------------------------------------------------------------

HELP = "Use parameterised queries. " * 40


def test_rule_texts_are_written_once_and_read_back_into_every_finding(tmp_path: Path) -> None:
    findings = [
        _finding(n, rule_description="SQL built from input", rule_help=HELP) for n in range(5)
    ]
    findings.append(_finding(9, rule_description="Another rule", rule_help=None))
    findings.append(_finding(10))  # no rule texts at all
    expected = [Finding.from_dict(f.to_dict()) for f in findings]
    out = tmp_path / "findings.jsonl"
    assert write_jsonl(findings, out) == 7
    assert findings == expected  # the writer leaves the findings as they were
    text = out.read_text(encoding="utf-8")
    assert text.count(HELP) == 1 and text.count("Another rule") == 1
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line.get("$rule") for line in lines] == ["1", "1", "1", "1", "1", "2", None]
    assert lines[0]["rule_help"] == HELP and lines[1]["rule_help"] is None
    assert all("id" in line for line in lines)  # every line is a finding
    assert read_findings(out) == expected
    assert list(iter_findings(out)) == expected


def test_a_finding_naming_an_unknown_rule_text_is_a_bad_line(tmp_path: Path) -> None:
    line = {"$rule": "7", **_finding(0).to_dict()}  # no texts, and no earlier line has them
    path = tmp_path / "f.jsonl"
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(FindingsFileError, match=rf"{path}:1: names rule text '7', which no"):
        read_findings(path)


def test_one_finding_per_line_files_are_still_read(tmp_path: Path) -> None:
    """The layout of older vulntune (and of other tools): Finding.to_json() per line."""
    findings = [_finding(n, rule_description="d", rule_help=HELP) for n in range(3)]
    path = tmp_path / "old.jsonl"
    path.write_text("".join(f.to_json() + "\n" for f in findings), encoding="utf-8")
    assert read_findings(path) == findings


def test_a_lone_surrogate_survives_the_fast_writer(tmp_path: Path) -> None:
    findings = [_finding(0, snippet="bad \ud83d escape", rule_help="h \udc00")]
    out = tmp_path / "findings.jsonl"
    write_jsonl(findings, out)
    assert read_findings(out) == findings


def test_the_buffered_writer_writes_each_line_as_the_record_encodes(tmp_path: Path) -> None:
    # Lines go through one buffer, written in pieces: a reference in front of an encoded
    # finding, the slow path of a lone surrogate between fast lines, and lines past a piece's
    # end must all come out as each finding encoded on its own.
    import msgspec

    from vulntune.findings import jsonl

    texts = {"rule_description": "d", "rule_help": "h"}
    findings = [
        _finding(0, **texts),
        _finding(1, snippet="bad \ud83d escape", **texts),
        _finding(2),
        *(_finding(n, snippet="x" * 500, **texts) for n in range(3, 3000)),
    ]
    out = tmp_path / "findings.jsonl"
    write_jsonl(findings, out)
    lines = out.read_bytes().split(b"\n")
    assert len(out.read_bytes()) > jsonl._WRITE_EVERY  # more than one piece
    assert lines[0] == b'{"$rule":"1",' + msgspec.json.encode(findings[0])[1:]
    assert lines[1].startswith(b'{"$rule":"1","id":"id1",')
    assert b'"snippet":"bad \\ud83d escape"' in lines[1] and b'"rule_help"' not in lines[1]
    assert lines[2] == msgspec.json.encode(findings[2])
    assert lines[-1] == b""
    assert read_findings(out) == findings
