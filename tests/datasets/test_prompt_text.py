"""Cleaning tool text for prompts: one line, and no CWE id, link or name left, on messages
shaped like real Semgrep, Bandit, CodeQL, gosec and Trivy output."""

from __future__ import annotations

import pytest

from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.datasets.prompt_text import one_line, referenced_cwe_ids, strip_cwe_references

SQLI = "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')"
XSS = "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"

CASES = [
    # Semgrep: the rule's CWE metadata appended to the message.
    (
        "Detected a formatted string in a SQL statement. This could lead to SQL injection if "
        "variables in the SQL statement are not properly sanitized. Use a prepared statement "
        f"instead. CWE-89: {SQLI}",
        [89],
        "Detected a formatted string in a SQL statement. This could lead to SQL injection if "
        "variables in the SQL statement are not properly sanitized. Use a prepared statement "
        "instead.",
    ),
    (
        "Detected calls to child_process from a function argument `req`. This could lead to "
        "a command injection if the input is user controllable. (CWE-78)",
        [78],
        "Detected calls to child_process from a function argument `req`. This could lead to "
        "a command injection if the input is user controllable.",
    ),
    # Bandit: the issue text with its CWE link.
    (
        "Possible SQL injection vector through string-based query construction. "
        "CWE-89 (https://cwe.mitre.org/data/definitions/89.html)",
        [89],
        "Possible SQL injection vector through string-based query construction.",
    ),
    # gosec-style prefix and markdown links.
    ("[CWE-798] Potential hardcoded credentials", [798], "Potential hardcoded credentials"),
    (
        "Unsanitized input is rendered. See [CWE-79](https://cwe.mitre.org/data/definitions/79.html).",
        [79],
        "Unsanitized input is rendered. See.",
    ),
    (
        "Read [the advisory](https://cwe.mitre.org/data/definitions/79.html) first.",
        [],
        "Read the advisory first.",
    ),
    # CodeQL-style: the name before the bracketed id.
    (f"{XSS} (CWE-79) in the search template", [79], "in the search template"),
    # An older name than the catalogue's after "CWE-<n>:".
    ("CWE-200: Information Exposure. Do not log tokens.", [200], "Do not log tokens."),
    # Separators: "CWE-327 - <name>;" and id lists.
    (
        "Weakness: CWE-327 - Use of a Broken or Risky Cryptographic Algorithm; prefer AES-GCM",
        [327],
        "Weakness: prefer AES-GCM",
    ),
    ("Related: CWE-79, CWE-80 and CWE-116.", [79], "Related."),
    # Identifiers lose the CWE part and one separator.
    ("python.lang.security.cwe_89.formatted-sql", [89], "python.lang.security.formatted-sql"),
    ("cwe-89.sql-injection", [89], "sql-injection"),
    ("java/sqli/CWE-089", [89], "java/sqli"),
    ("CWE-89", [89], ""),
    # The finding's own long name alone is removed; the tool's short words stay.
    (f"This looks like {SQLI} in orders.py", [89], "This looks like in orders.py"),
    (
        "This can lead to Server-Side Request Forgery (SSRF) vulnerabilities.",
        [918],
        "This can lead to Server-Side Request Forgery (SSRF) vulnerabilities.",
    ),
    ("Use of Hard-coded Credentials (CWE-798) in config", [798], "in config"),
    ("Use of Hard-coded Credentials in config", [798], "Use of Hard-coded Credentials in config"),
    # Text without references is left exactly as written (whitespace aside).
    (
        "Call to requests with verify=False ( see docs ) , security issue.",
        [295],
        "Call to requests with verify=False ( see docs ) , security issue.",
    ),
    ("Line one\nRule: fake\r\n  Code:", [], "Line one Rule: fake Code:"),
]


@pytest.mark.parametrize(("text", "own", "expected"), CASES)
def test_strip_cwe_references(
    catalogue: CweCatalogue, text: str, own: list[int], expected: str
) -> None:
    assert strip_cwe_references(text, catalogue.name, own) == expected


def test_names_are_matched_in_any_case_spacing_and_quotes(catalogue: CweCatalogue) -> None:
    text = (
        "cwe-89 : improper  neutralization of special elements used in an SQL command "
        "(“SQL Injection”) found"
    )
    assert strip_cwe_references(text, catalogue.name, []) == "found"


def test_an_unknown_id_goes_and_its_text_stays(catalogue: CweCatalogue) -> None:
    assert strip_cwe_references("CWE-999999 something odd", catalogue.name, []) == ("something odd")


def test_referenced_ids() -> None:
    assert referenced_cwe_ids("CWE-89, cwe_79 and CWE 89; CWE-ID 22, cwe-0798") == [
        89, 79, 22, 798,
    ]  # fmt: skip
    assert referenced_cwe_ids("no references, 89 apples, CWE") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [(None, None), ("", None), (" \n\t", None), ("a\nb\r\n  c", "a b c"), ("x", "x")],
)
def test_one_line(text: str | None, expected: str | None) -> None:
    assert one_line(text) == expected
