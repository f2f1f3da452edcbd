"""The memory-mapped msgspec path through SARIF files gives what the standard-library stream
gives: the same findings, or the same error, for every fixture, every corpus file and every
irregular document; and ingest leaves the garbage collector as it found it."""

from __future__ import annotations

import dataclasses
import gc
import json
from pathlib import Path

import pytest

from vulntune.findings import sarif
from vulntune.findings.formats import FindingsInputError
from vulntune.findings.ingest import ingest_paths
from vulntune.findings.parse import parse_file
from vulntune.findings.record import Finding, Location, fingerprint, place_fingerprint
from vulntune.findings.sarif.fast import FastSarif

from ...corpus_data import corpus_files
from ..conftest import SARIF_FIXTURES

# Every SARIF fixture and every SARIF file of the corpus, by name (the corpus is written out
# by the scanner_corpus fixture).
SARIF_CASES = [
    *(f"fixtures/{p.name}" for p in sorted(SARIF_FIXTURES.glob("*.sarif"))),
    *(f"corpus/{name}" for name in corpus_files(".sarif")),
]


def outcome(path: Path, **options: bool) -> list[Finding] | str:
    """The findings of ``path``, or the problem of its FindingsInputError."""
    try:
        return list(parse_file(path, "report.sarif", **options))
    except FindingsInputError as exc:
        return f"error: {exc.problem}"


def stream_outcome(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Finding] | str:
    """:func:`outcome` with the fast path switched off: the standard library reads it all."""
    with monkeypatch.context() as patch:
        patch.setattr(FastSarif, "runs_at", lambda self, offset: None)
        return outcome(path)


@pytest.mark.parametrize("case", SARIF_CASES)
def test_fast_path_equals_the_stream_on_every_sarif_file(case, scanner_corpus, monkeypatch):
    source, name = case.split("/", 1)
    path = SARIF_FIXTURES / name if source == "fixtures" else scanner_corpus / name
    expected = stream_outcome(path, monkeypatch)
    assert outcome(path) == expected
    assert outcome(path, whole_file=True) == expected


def test_the_fast_path_is_taken_for_utf8_files(sarif_fixture, monkeypatch):
    def no_stream(*args: object) -> None:
        raise AssertionError("the stream read the results")

    monkeypatch.setattr(sarif, "scan_runs", no_stream)
    for name in ("codeql.sarif", "tool_after_results.sarif", "utf8_bom.sarif", "multi_run.sarif"):
        assert outcome(sarif_fixture(name)) == outcome(sarif_fixture(name), whole_file=True)
        assert isinstance(outcome(sarif_fixture(name)), list)


def _result(message: str = "m", **extra: object) -> dict:
    return {
        "ruleId": "r1",
        "message": {"text": message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"}}}],
        **extra,
    }


def _doc(*results: object, tool_last: bool = False) -> str:
    tool = '"tool": {"driver": {"name": "Semgrep OSS"}}'
    body = json.dumps(list(results))
    run = f'{{"results": {body}, {tool}}}' if tool_last else f'{{{tool}, "results": {body}}}'
    return f'{{"version": "2.1.0", "runs": [{run}]}}'


RUN = '{"tool": {"driver": {"name": "Semgrep OSS"}}, "results": [%s]}'
ONE_RUN = RUN % json.dumps(_result())
REGION_ONLY = {"physicalLocation": {"region": {"x-custom": 1}}}
EMPTY_REGION = {"physicalLocation": {"region": {}}}
NULL_START = {"physicalLocation": {"region": {"startLine": None}}}
HUGE = "7" * 5000


def _top(*runs: str, after: str = "") -> str:
    return '{"runs": [' + ", ".join(runs) + "]" + after + "}"


IRREGULAR = {
    # Which "runs" counts when the key is repeated, and keys after the runs array.
    "repeated runs, another length": _top(ONE_RUN, after=f', "runs": [{ONE_RUN}, {ONE_RUN}]'),
    "repeated runs, same value": _top(ONE_RUN, after=f', "runs": [{ONE_RUN}]'),
    "runs before version": _top(ONE_RUN, after=', "version": "2.1.0"'),
    "runs before version 1.0": _top(ONE_RUN, after=', "version": "1.0.0"'),
    "tool after results": _doc(_result(), _result("n"), tool_last=True),
    # Results the structs read as the stream's dicts do.
    "a result that is a number": _top(RUN % "1"),
    "a result that is null": _top(RUN % (json.dumps(_result()) + ", null")),
    "a lone result object": _top('{"results": ' + json.dumps(_result()) + "}"),
    "results null": _top('{"results": null}'),
    "a run that is a string": _top('"x"'),
    "values of other types": _doc(
        {"ruleId": 5, "message": "text", "locations": {"a": 1}, "codeFlows": [1, {"x": 2}]},
        {"message": {"text": "t", "arguments": "x"}, "locations": [None, 3], "ruleIndex": True},
        {"message": {"id": 7}, "relatedLocations": "x", "properties": [1]},
    ),
    # A region is kept by what it holds, known to the structs or not.
    "a region of unknown properties only": _doc(
        _result(locations=[REGION_ONLY], relatedLocations=[REGION_ONLY, EMPTY_REGION])
    ),
    "a null region property": _doc(_result(relatedLocations=[NULL_START])),
    # Values msgspec refuses and the standard library reads, or the other way round.
    "NaN and Infinity": _doc(_result(properties={"s": float("nan"), "x": float("inf")})),
    "a huge float": _doc(_result()).replace('"ruleId"', '"properties": {"s": 1e400}, "ruleId"'),
    "a lone surrogate escape": _doc(_result("\ud800 x")),
    "an integer of 5000 digits in a property read": _doc(_result()).replace(
        '"ruleId"', f'"properties": {{"n": {HUGE}}}, "ruleId"'
    ),
    "a control character": _doc(_result()).replace('"m"', '"m\x01"'),
    "invalid JSON in a skipped property": _doc(_result(partialFingerprints={"a": 1})).replace(
        '"a": 1', '"a": 01'
    ),
    "trailing data": _doc(_result()) + " x",
}


@pytest.mark.parametrize("name", list(IRREGULAR))
def test_irregular_documents_read_as_the_stream_reads_them(name, tmp_path, monkeypatch):
    path = tmp_path / "report.sarif"
    path.write_text(IRREGULAR[name], encoding="utf-8", errors="surrogatepass")
    expected = stream_outcome(path, monkeypatch)
    assert outcome(path) == expected
    assert outcome(path, whole_file=True) == expected


def test_invalid_utf8_in_a_skipped_string_is_the_streams_error(tmp_path, monkeypatch):
    path = tmp_path / "report.sarif"
    text = _doc(_result(partialFingerprints={"h": "XX"}))
    path.write_bytes(text.encode().replace(b"XX", b"\xff\xfe"))
    expected = stream_outcome(path, monkeypatch)
    assert isinstance(expected, str) and "not valid UTF-8 text" in expected
    assert outcome(path) == expected
    assert outcome(path, whole_file=True) == expected


def test_a_huge_integer_the_findings_do_not_read_is_accepted(tmp_path, monkeypatch):
    # The one documented difference: the stream decodes every value and refuses integers of
    # more than 4300 digits; the fast path never decodes partialFingerprints.
    path = tmp_path / "report.sarif"
    path.write_text(
        _doc(_result()).replace('"ruleId"', f'"fingerprints": {{"n": {HUGE}}}, "ruleId"')
    )
    assert str(stream_outcome(path, monkeypatch)).startswith("error: unreadable JSON value")
    (finding,) = outcome(path)
    assert finding.location == Location("a.py")


def test_unknown_region_properties_keep_the_location(tmp_path):
    path = tmp_path / "report.sarif"
    path.write_text(IRREGULAR["a region of unknown properties only"])
    (finding,) = outcome(path)
    assert finding.related_locations == [Location()]  # the empty region is dropped


def test_finding_fields_in_the_order_build_finding_passes_them():
    assert [f.name for f in dataclasses.fields(Finding)] == [
        "id", "tool", "rule_id", "severity", "message", "kind", "origin", "tool_version",
        "tool_full_name", "rule_name", "original_severity", "rule_description", "rule_help",
        "help_uri", "cwe_ids", "vulnerability_ids", "tags", "location", "related_locations",
        "code_flows", "snippet", "context", "package", "web", "fix", "suppressed", "suppression",
        "redacted",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "line", "column"), [("a.py", 3, 7), (None, 3, None), ("b/c.js", None, None)]
)
def test_place_fingerprint_is_fingerprint_of_a_location(path, line, column):
    assert place_fingerprint("Semgrep", "r.x", path, line, column) == fingerprint(
        "Semgrep", "r.x", Location(path, line, column)
    )
    assert place_fingerprint("Trivy", "r.x", path, line, column, "image=a/b") == fingerprint(
        "Trivy", "r.x", Location(path, line, column), extra="image=a/b"
    )


def test_ingest_restores_the_collector_and_unfreezes_with_the_report(sarif_fixture):
    assert gc.isenabled()
    report = ingest_paths([sarif_fixture("codeql.sarif")])
    assert gc.isenabled() and gc.get_freeze_count() > 0
    del report
    assert gc.get_freeze_count() == 0
    gc.disable()
    try:
        report = ingest_paths([sarif_fixture("codeql.sarif")])
        assert not gc.isenabled()
    finally:
        gc.enable()
        del report
