"""Bandit native JSON."""

from __future__ import annotations

from vulntune.findings.native.bandit import FORMAT
from vulntune.findings.record import FindingKind, Location, Severity, fingerprint


def parse(doc, file="bandit.json"):
    assert FORMAT.matches(doc)
    return list(FORMAT.parse(doc, file))


def test_results_with_line_range_snippet_and_cwe(load):
    sql, shell = parse(load("bandit.json"))
    assert sql.rule_id == "B608"
    assert sql.rule_name == "hardcoded_sql_expressions"
    assert sql.kind is FindingKind.CODE
    assert sql.severity is Severity.MEDIUM
    assert sql.original_severity == "MEDIUM"
    assert sql.tags == ["confidence:MEDIUM"]
    assert sql.cwe_ids == ["CWE-89"]
    # col_offset is 0-based: column 13; the range spans lines 22-24.
    assert sql.location == Location("app/db.py", 22, 13, 24, 6)
    assert sql.snippet == (
        "    query = \"SELECT * FROM users WHERE name = '%s'\" % (\n        name,\n    )"
    )
    assert sql.help_uri.endswith("b608_hardcoded_sql_expressions.html")
    assert sql.id == fingerprint("bandit", "B608", Location("app/db.py", 22, 13))

    assert shell.location.path == "app/shell.py"  # Windows separator
    assert shell.severity is Severity.HIGH
    assert shell.snippet == "    return subprocess.call(cmd, shell=True)"


def test_empty_report_and_parse_errors_do_not_fail(load):
    assert parse(load("bandit-empty.json")) == []
    assert len(parse(load("bandit.json"))) == 2  # it lists a file Bandit could not parse


def test_undefined_severity_and_unnumbered_code():
    doc = {
        "results": [
            {
                "test_id": "B000",
                "filename": "x.py",
                "issue_severity": "UNDEFINED",
                "issue_cwe": {"id": 0, "link": ""},
                "line_number": 1,
                "code": "not numbered",
            }
        ]
    }
    (finding,) = parse(doc)
    assert finding.severity is Severity.MEDIUM
    assert finding.original_severity == "UNDEFINED"
    assert finding.cwe_ids == []
    assert finding.snippet == "not numbered"
