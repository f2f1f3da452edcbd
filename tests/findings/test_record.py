"""The Finding record's one serialised form: what is kept, what is left out, and the way back."""

from __future__ import annotations

import json
from pathlib import Path

from vulntune.findings.ingest import ingest_paths
from vulntune.findings.record import (
    CodeContext,
    Finding,
    FindingKind,
    Fix,
    FixChange,
    Location,
    Origin,
    Package,
    Severity,
    WebInstance,
    WebTarget,
)


def full_finding() -> Finding:
    """A finding with every kind of part: nested records, lists of records, lists of lists."""
    return Finding(
        id="abc",
        tool="semgrep",
        rule_id="r",
        severity=Severity.HIGH,
        message="",  # an empty message is a value
        kind=FindingKind.CODE,
        origin=Origin(file="r.sarif", format="sarif", index=0, run_index=0),
        cwe_ids=["CWE-79"],
        tags=[],
        location=Location(path="a.py", start_line=3, start_column=None, end_line=4),
        related_locations=[Location(path="b.py", message="source")],
        code_flows=[[Location(path="a.py", start_line=1), Location(start_line=2)], []],
        context=CodeContext(path="a.py", start_line=1, lines=["x = 1", ""]),
        package=Package(name="lodash", ecosystem="npm", fixed_versions=[]),
        web=WebTarget(url="https://x", instances=[WebInstance(url="https://x", method="GET")]),
        fix=Fix(changes=[FixChange(path=None, inserted_text="", start_line=0)]),
        suppressed=True,
        redacted=False,
    )


EXPECTED = {
    "id": "abc",
    "tool": "semgrep",
    "rule_id": "r",
    "severity": "high",
    "message": "",
    "kind": "code",
    "origin": {"file": "r.sarif", "format": "sarif", "index": 0, "run_index": 0},
    "cwe_ids": ["CWE-79"],
    "location": {"path": "a.py", "start_line": 3, "end_line": 4},
    "related_locations": [{"path": "b.py", "message": "source"}],
    "code_flows": [[{"path": "a.py", "start_line": 1}, {"start_line": 2}], []],
    "context": {"path": "a.py", "start_line": 1, "lines": ["x = 1", ""]},
    "package": {"name": "lodash", "ecosystem": "npm"},
    "web": {"url": "https://x", "instances": [{"url": "https://x", "method": "GET"}]},
    "fix": {"changes": [{"inserted_text": "", "start_line": 0}]},
    "suppressed": True,
}


def test_to_dict_keeps_values_and_leaves_out_none_false_and_empty_lists_at_every_level():
    data = full_finding().to_dict()
    assert data == EXPECTED
    assert list(data) == list(EXPECTED)  # field order, as the JSONL file shows it
    assert type(data["severity"]) is str and type(data["kind"]) is str


def test_to_json_is_to_dict_on_one_line_with_text_as_is():
    finding = full_finding()
    finding.message = "naïve\nline — ✓"
    line = finding.to_json()
    assert "\n" not in line and "naïve" in line and "\\n" in line
    assert line == json.dumps(finding.to_dict(), ensure_ascii=False, separators=(",", ":"))


def test_from_dict_reads_back_what_to_dict_wrote():
    finding = full_finding()
    assert Finding.from_dict(json.loads(finding.to_json())) == finding


def test_a_fix_change_without_a_file_reads_back():
    # Written without "path" (None is left out), which from_dict once required.
    change = FixChange(path=None, inserted_text="safe()", start_line=2)
    finding = Finding.from_dict(
        {**EXPECTED, "fix": {"changes": [{"inserted_text": "safe()", "start_line": 2}]}}
    )
    assert finding.fix == Fix(changes=[change])


def test_every_fixture_and_corpus_finding_survives_the_round_trip(webauthn_corpus):
    fixtures = Path(__file__).resolve().parent / "fixtures"
    report = ingest_paths([webauthn_corpus, fixtures], fixtures / "ingest" / "canary" / "source")
    # 348 before issue 7, + checkov-same-scan (4; its CKV_AWS_20 is checkov-list's) + the
    # ZAP legacy report's second alert (its first is zap-traditional's).
    assert len(report.findings) == 352
    for finding in report.findings:
        line = finding.to_json()
        assert json.loads(line) == finding.to_dict()
        assert Finding.from_dict(json.loads(line)) == finding
