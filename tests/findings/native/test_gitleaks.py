"""gitleaks native JSON: v8 and v7 leaks; the secret only ever in the snippet."""

from __future__ import annotations

import json

from vulntune.findings.native.gitleaks import FORMAT
from vulntune.findings.record import FindingKind, Location, Severity, fingerprint


def parse(doc, file="gitleaks.json"):
    assert FORMAT.matches(doc)
    return list(FORMAT.parse(doc, file))


def test_v8_leaks(load):
    aws, generic = parse(load("gitleaks.json"))
    assert aws.rule_id == "aws-access-token"
    assert aws.kind is FindingKind.SECRET
    assert aws.severity is Severity.MEDIUM  # gitleaks rates nothing
    assert aws.location == Location("deploy/aws.env", 4, 19, 4, 38)
    assert aws.snippet == "AKIAIOSFODNN7EXAMPLE"
    assert (
        aws.message == "Secret committed in deploy/aws.env, found by gitleaks rule aws-access-token"
    )
    assert aws.tags == ["commit:3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"]
    assert aws.id == fingerprint("gitleaks", "aws-access-token", Location("deploy/aws.env", 4, 19))

    assert generic.location.path == "src/settings.py"
    assert generic.snippet == 'api_key = "q8Zr3xLw0pVb7TnY2cMf5KdJ9sHe4GaU"'
    assert generic.tags == ["key", "API"]


def test_secret_and_personal_data_appear_nowhere_but_the_snippet(load):
    doc = load("gitleaks.json")
    for leak, finding in zip(doc, parse(doc), strict=True):
        record = finding.to_dict()
        record.pop("snippet")
        text = json.dumps(record)
        for field in ("Secret", "Author", "Email", "Message"):
            if leak[field]:
                assert leak[field] not in text, field


def test_secret_missing_from_match_is_added_to_the_snippet():
    doc = [
        {
            "RuleID": "r",
            "File": "a",
            "StartLine": 1,
            "Match": "token=<redacted>",
            "Secret": "s3cr3t-value",
        }
    ]
    assert parse(doc)[0].snippet == "token=<redacted>\ns3cr3t-value"


def test_v7_leaks(load):
    (finding,) = parse(load("gitleaks-v7.json"))
    assert finding.rule_id == "Generic Credential"
    assert finding.location == Location(path="app/config.py", start_line=9)
    assert finding.snippet == 'password = "hunter2-but-longer-7Qx"'
    assert finding.tags == [
        "key",
        "API",
        "generic",
        "commit:b8f0a61d0c2e9a2d1f3e4c5b6a798877665544aa",
    ]


def test_empty_list_is_a_clean_scan(load):
    assert parse(load("gitleaks-empty.json")) == []


def test_two_leaks_at_one_place_keep_distinct_ids():
    leak = {"RuleID": "r", "File": "a.env", "StartLine": 1, "StartColumn": 1, "EndLine": 1}
    first = dict(leak, EndColumn=10, Match="x=1", Secret="1")
    second = dict(leak, EndColumn=20, Match="x=1 y=2", Secret="2")
    ids = {f.id for f in parse([first, second])}
    assert len(ids) == 2
