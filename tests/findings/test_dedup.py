"""De-duplication never loses a finding: location-less results, suppression state, and the
SARIF + native JSON of one Checkov scan (issue 7, item 1)."""

from __future__ import annotations

import json
from pathlib import Path

from vulntune.findings.dedup import merge_duplicates, placeless_id
from vulntune.findings.ingest import ingest_paths
from vulntune.findings.record import Finding, FindingKind, Location, Origin, Severity

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def make(id_: str, **kw) -> Finding:
    base = dict(
        id=id_,
        tool="semgrep",
        rule_id="r1",
        severity=Severity.HIGH,
        message="m",
        kind=FindingKind.CODE,
        origin=Origin(file="a.json", format="semgrep-json", index=0),
    )
    base.update(kw)
    return Finding(**base)


def _sarif(results: list[dict]) -> dict:
    return {
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "ExampleScanner", "rules": []}}, "results": results}],
    }


# Failed before: nine location-less results of one rule with different messages became one.
def test_locationless_results_with_different_messages_stay_apart(tmp_path):
    results = [{"ruleId": "R1", "message": {"text": f"weak setting number {n}"}} for n in range(9)]
    results.append({"ruleId": "R1", "message": {"text": "weak  setting NUMBER 0"}})  # a repeat
    (tmp_path / "r.sarif").write_text(json.dumps(_sarif(results)))
    report = ingest_paths([tmp_path / "r.sarif"])
    expected = [f"weak setting number {n}" for n in range(9)]
    assert sorted(f.message for f in report.findings) == expected
    assert len({f.id for f in report.findings}) == 9
    assert report.duplicates == 1


# Failed before: the suppressed copy survived and the unsuppressed results vanished.
def test_a_suppressed_duplicate_never_hides_an_unsuppressed_one(tmp_path):
    suppressed = {"ruleId": "R1", "message": {"text": "m"}, "suppressions": [{"kind": "inSource"}]}
    results = [suppressed, {"ruleId": "R1", "message": {"text": "m"}}]
    (tmp_path / "r.sarif").write_text(json.dumps(_sarif(results)))
    (finding,) = ingest_paths([tmp_path / "r.sarif"]).findings
    assert finding.suppressed is False and finding.suppression is None


def test_merge_suppression_state_any_unsuppressed_wins():
    quiet = make("1", suppressed=True, suppression="inSource: reviewed", snippet="x()")
    loud = make("1")
    for first, second in ((quiet, loud), (loud, quiet)):
        merged = merge_duplicates(first, second)
        assert merged.suppressed is False and merged.suppression is None
        assert merged.snippet == "x()"  # the richer record's fields are kept
    both = merge_duplicates(quiet, make("1", suppressed=True, suppression="external"))
    assert both.suppressed is True and both.suppression == "inSource: reviewed; external"


def test_placeless_id_only_for_findings_without_a_place():
    assert placeless_id(make("1", location=Location(path="a.py", start_line=3))) == "1"
    assert placeless_id(make("1", location=Location(path="a.py"))) == "1"
    bare = placeless_id(make("1", message="a  B"))
    assert bare != "1" and bare == placeless_id(make("1", message="A b"))
    assert bare != placeless_id(make("1", message="a c"))


# Failed before: 40 JSON + 41 SARIF findings of one Checkov scan gave 43 together: the JSON
# skipped (suppressed) check was not read, and a GitHub Actions check of a whole file has no
# line in the JSON (file_line_range [0, 1], as Checkov 3.3.30 wrote it for
# terraform-aws-s3-bucket's workflows) and line 1 in the SARIF.
def test_checkov_json_and_sarif_of_one_scan_merge_completely():
    scan_json = FIXTURES / "native" / "checkov-same-scan.json"
    scan_sarif = FIXTURES / "native" / "checkov-same-scan.sarif"
    json_only, sarif_only = ingest_paths([scan_json]), ingest_paths([scan_sarif])
    both = ingest_paths([scan_json, scan_sarif])
    assert len(json_only.findings) == len(sarif_only.findings) == 4
    assert {f.id for f in json_only.findings} == {f.id for f in sarif_only.findings}
    assert len(both.findings) == 4 and both.duplicates == 4
    whole_file = [f for f in both.findings if f.rule_id == "CKV2_GHA_1"]
    assert len(whole_file) == 1 and whole_file[0].location.path == ".github/workflows/ci.yml"
    skipped = [f for f in both.findings if f.suppressed]
    assert [f.rule_id for f in skipped] == ["CKV_AWS_20"]
    assert skipped[0].suppression == "inSource: public website bucket"
