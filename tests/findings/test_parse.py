"""The entry point: formats decided by content, never by name; one clear error otherwise."""

from __future__ import annotations

import json
import shutil

import pytest

from vulntune.findings.formats import FindingsInputError
from vulntune.findings.parse import detect_format, parse_file


def problem(path, name="report") -> str:
    with pytest.raises(FindingsInputError) as info:
        list(parse_file(path, name))
    assert info.value.file == name and str(info.value).startswith(f"{name}: ")
    return info.value.problem


def test_sarif_is_recognised_whatever_the_file_is_called(tmp_path, sarif_fixture):
    misnamed = tmp_path / "trivy-results.json.txt"
    shutil.copy(sarif_fixture("trivy_fs.sarif"), misnamed)
    assert detect_format(misnamed) == "sarif"
    found = list(parse_file(misnamed))
    assert [f.origin.file for f in found] == [str(misnamed)] * 2
    assert [f.origin.format for f in found] == ["sarif", "sarif"]


def test_native_json_goes_to_the_first_matching_native_format(tmp_path):
    report = {
        "version": "1.90.0",
        "results": [
            {
                "check_id": "python.lang.security.audit.eval-detected.eval-detected",
                "path": "tools/calc.py",
                "start": {"line": 4, "col": 12, "offset": 40},
                "end": {"line": 4, "col": 22, "offset": 50},
                "extra": {"message": "Detected the use of eval().", "severity": "WARNING"},
            }
        ],
        "errors": [],
        "paths": {"scanned": ["tools/calc.py"]},
    }
    path = tmp_path / "scan.sarif"  # a misleading name changes nothing
    path.write_text(json.dumps(report))
    assert detect_format(path) == "semgrep-json"
    (finding,) = parse_file(path, "scan.sarif")
    assert (finding.tool, finding.origin.format, finding.origin.file) == (
        "semgrep",
        "semgrep-json",
        "scan.sarif",
    )


def test_native_json_with_a_bom_and_in_utf16(tmp_path):
    text = json.dumps({"results": [], "errors": [], "paths": {"scanned": []}, "version": "1"})
    for name, data in (
        ("bom.json", b"\xef\xbb\xbf" + text.encode()),
        ("utf16.json", b"\xff\xfe" + text.encode("utf-16-le")),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        assert detect_format(path) == "semgrep-json"
        assert list(parse_file(path)) == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty file"),
        (b"\n  \n", "empty file (only whitespace)"),
        (
            b"<!DOCTYPE html><html>",
            "not a JSON document: it starts with '<' (an HTML or XML report?)",
        ),
        (
            b"# ZAP Scanning Report\n",
            "not a JSON document: it starts with '#' (a Markdown report?)",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not valid UTF-8 text near byte 0"),
        (b"42", "not a recognised scanner report: the JSON document is a single int"),
        (b'"text"', "not a recognised scanner report: the JSON document is a single str"),
        (b"nonsense", "not a JSON document: it starts with 'n'"),
        (
            b'{"name": "x", "items": [1, 2]}',
            "not a recognised scanner report: JSON object with keys ['name', 'items']",
        ),
        (b"{}", "not a recognised scanner report: empty JSON object"),
        (
            b'[{"a": 1}, {"b": 2}]',
            "not a recognised scanner report: JSON array of 2 item(s); the first has keys ['a']",
        ),
        (b'{"runs": [1]}', "runs[0] must be a JSON object, found a number"),
        (
            b'{"runs": [{"results": [1]}]}',
            "runs[0].results[0] must be a JSON object, found a number",
        ),
        (b'{"runs": [{"results": []}]} {', "unexpected data after the JSON document at byte 28"),
    ],
)
def test_anything_else_is_one_clear_error(tmp_path, data, expected):
    path = tmp_path / "report.sarif"
    path.write_bytes(data)
    assert problem(path) == expected


def test_a_missing_file_is_an_input_error_too(tmp_path):
    assert problem(tmp_path / "nope.sarif").startswith("cannot open: No such file")


def test_one_broken_file_does_not_stop_the_others(tmp_path, sarif_fixture):
    broken = tmp_path / "broken.sarif"
    broken.write_bytes(sarif_fixture("bandit.sarif").read_bytes()[:-40])
    results = {}
    for path in (sarif_fixture("bandit.sarif"), broken, sarif_fixture("gitleaks.sarif")):
        try:
            results[path.name] = len(list(parse_file(path)))
        except FindingsInputError as exc:
            results[path.name] = exc.problem.split(":")[0]
    assert results == {
        "bandit.sarif": 2,
        "broken.sarif": "JSON ends early at byte 2587 (truncated file?)",
        "gitleaks.sarif": 1,
    }
