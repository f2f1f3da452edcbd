"""Semgrep native JSON: fixtures for each quirk, and the real 107-result corpus report."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from vulntune.findings.formats import FindingsInputError
from vulntune.findings.native.semgrep import FORMAT
from vulntune.findings.record import FindingKind, Location, Severity, fingerprint


def parse(doc, file="semgrep.json"):
    assert FORMAT.matches(doc)
    return list(FORMAT.parse(doc, file))


def test_fix_cwe_list_and_real_snippet(load):
    first = parse(load("semgrep-fix.json"))[0]
    assert first.rule_id == "python.lang.security.audit.subprocess-shell-true.subprocess-shell-true"
    assert first.tool == "semgrep"
    assert first.tool_version == "1.135.0"
    assert first.severity is Severity.HIGH
    assert first.original_severity == "ERROR"
    assert first.kind is FindingKind.CODE
    assert first.cwe_ids == ["CWE-78"]
    assert first.location == Location("src/app/run.py", 14, 47, 14, 51)
    assert first.snippet == "    result = subprocess.run(command, shell=True)"
    assert first.help_uri == (
        "https://semgrep.dev/r/python.lang.security.audit.subprocess-shell-true.subprocess-shell-true"
    )
    assert "A03:2021 - Injection" in first.tags
    assert "confidence:MEDIUM" in first.tags
    change = first.fix.changes[0]
    assert (change.path, change.inserted_text) == ("src/app/run.py", "False")
    assert (change.start_line, change.start_column, change.end_line, change.end_column) == (
        14,
        47,
        14,
        51,
    )
    assert first.origin.format == "semgrep-json"
    assert first.origin.index == 0


def test_cwe_string_and_login_placeholder_is_not_a_snippet(load):
    second = parse(load("semgrep-fix.json"))[1]
    assert second.cwe_ids == ["CWE-79"]
    assert second.snippet is None  # "requires login" is Semgrep's placeholder, not code
    assert second.location.path == "web/server.js"  # "./" removed
    assert second.severity is Severity.MEDIUM
    assert second.fix is None
    assert second.suppressed is False


def test_secret_rule_is_a_secret_finding_and_nosemgrep_is_suppressed(load):
    third = parse(load("semgrep-fix.json"))[2]
    assert third.kind is FindingKind.SECRET
    assert third.severity is Severity.LOW  # Semgrep INFO, written as SARIF "note"
    assert third.suppressed is True
    assert third.suppression == "inSource"


def test_id_is_the_sarif_identity(load):
    first = parse(load("semgrep-fix.json"))[0]
    expected = fingerprint(
        "semgrep",
        first.rule_id,
        Location(path="src/app/run.py", start_line=14, start_column=47),
    )
    assert first.id == expected


def test_warn_level_errors_do_not_fail_a_report_with_results(load):
    assert len(parse(load("semgrep-fix.json"))) == 3


def test_fatal_error_report_is_an_error_not_a_clean_scan(load):
    with pytest.raises(FindingsInputError) as info:
        parse(load("semgrep-fatal.json"), "out/semgrep.json")
    message = str(info.value)
    assert message.startswith("out/semgrep.json: ")
    assert "InvalidRuleSchemaError" in message


def test_empty_report_is_claimed_and_clean(load):
    assert parse(load("semgrep-empty.json")) == []


def test_result_without_check_id_names_the_place():
    doc = {"results": [{"check_id": "a.b", "path": "x.py"}, {"path": "y.py"}], "errors": []}
    with pytest.raises(FindingsInputError, match=r"results\[1\]\.check_id"):
        parse(doc)


def test_corpus_report_gives_107_distinct_findings(webauthn_corpus):
    path = webauthn_corpus / "semgrep-results-workflow_dispatch-392" / "semgrep-results.json"
    findings = parse(json.loads(path.read_text(encoding="utf-8")), str(path))
    assert len(findings) == 107
    assert len({f.id for f in findings}) == 107
    assert Counter(f.severity for f in findings) == {
        Severity.HIGH: 90,
        Severity.MEDIUM: 9,
        Severity.LOW: 8,
    }
    assert all(f.snippet is None for f in findings)  # logged-out run: "requires login"
    assert [f.origin.index for f in findings] == list(range(107))

    first = findings[0]
    assert first.rule_id == "java.android.security.exported_activity.exported_activity"
    assert first.location == Location(
        "android-test-client/app/src/main/AndroidManifest.xml", 21, 9, 26, 69
    )
    assert first.cwe_ids == ["CWE-926"]
    assert first.tool_full_name == "Semgrep OSS"
    assert first.id == fingerprint("semgrep", first.rule_id, Location(first.location.path, 21, 9))


def test_corpus_matches_that_share_their_start_get_ids_from_their_end(webauthn_corpus):
    path = webauthn_corpus / "semgrep-results-workflow_dispatch-392" / "semgrep-results.json"
    findings = parse(json.loads(path.read_text(encoding="utf-8")))
    rule = "semgrep-rules.webauthn-challenge-storage-without-expiry"
    twins = [
        f
        for f in findings
        if f.rule_id == rule and (f.location.start_line, f.location.start_column) == (60, 29)
    ]
    assert [(f.location.end_line, f.location.end_column) for f in twins] == [(61, 82), (62, 81)]
    base = fingerprint("semgrep", rule, twins[0].location)
    assert twins[0].id == fingerprint("semgrep", base, extra="end=61:82")
    assert twins[1].id == fingerprint("semgrep", base, extra="end=62:81")
