"""Stage-1 targets from facts: the most specific CWE, CWE-798 for secrets, cleaned sentences."""

from __future__ import annotations

from vulntune.datasets.analysis_examples import (
    NoCwe,
    analysis_completion,
    category_of,
    choose_cwe,
    root_cause,
)
from vulntune.findings.record import Finding, FindingKind, Origin, Severity


def _finding(
    cwes: list[str], kind: FindingKind = FindingKind.CODE, tool: str = "semgrep", **kw
) -> Finding:
    return Finding(
        id="f1", tool=tool, rule_id="r", severity=Severity.HIGH, message=kw.pop("message", "m"),
        kind=kind, origin=Origin(file="x.sarif", format="sarif", index=0), cwe_ids=cwes, **kw,
    )  # fmt: skip


def test_the_deepest_cwe_wins_and_the_others_are_kept(catalogue) -> None:
    # CWE-89 (Base) is below CWE-943 and CWE-74 (Class); the tool lists the class first.
    chosen = choose_cwe(_finding(["CWE-74", "CWE-89", "CWE-943"]), catalogue)
    assert not isinstance(chosen, NoCwe)
    assert chosen.entry.id == 89
    assert chosen.others == ("CWE-943", "CWE-74")
    assert chosen.source == "tool"


def test_ties_go_to_the_first_the_tool_lists(catalogue) -> None:
    a = choose_cwe(_finding(["CWE-78", "CWE-89"]), catalogue)
    b = choose_cwe(_finding(["CWE-89", "CWE-78"]), catalogue)
    assert not isinstance(a, NoCwe) and not isinstance(b, NoCwe)
    assert (a.entry.id, b.entry.id) == (78, 89)


def test_secrets_without_a_cwe_are_hard_coded_credentials(catalogue) -> None:
    chosen = choose_cwe(_finding([], FindingKind.SECRET, tool="gitleaks"), catalogue)
    assert not isinstance(chosen, NoCwe)
    assert (chosen.entry.id, chosen.source) == (798, "finding-kind")
    assert category_of(_finding([], FindingKind.SECRET), 798, catalogue) == "secrets"


def test_no_cwe_and_unknown_cwe_are_told_apart(catalogue) -> None:
    assert choose_cwe(_finding([], FindingKind.CONFIG, tool="checkov"), catalogue) == NoCwe(
        "no-cwe", "checkov r"
    )
    # CWE-16 is a category, CWE-999999 does not exist.
    unknown = choose_cwe(_finding(["CWE-16", "CWE-999999"]), catalogue)
    assert isinstance(unknown, NoCwe) and unknown.reason == "unknown-cwe"


def test_dependency_findings_are_vulnerable_dependency(catalogue) -> None:
    assert category_of(_finding(["CWE-89"], FindingKind.DEPENDENCY), 89, catalogue) == (
        "vulnerable-dependency"
    )


def test_root_cause_from_the_tools_words_without_links_or_advice(catalogue) -> None:
    finding = _finding(
        ["CWE-89"],
        message="User input reaches a [SQL query](https://example.org/x) built with `%`. "
        "Use parameterised queries instead. See more at https://example.org.",
    )
    entry = catalogue.get(89)
    assert root_cause(finding, entry) == "User input reaches a SQL query built with %."
    text = analysis_completion(finding, choose_cwe(finding, catalogue), "injection").text()
    assert text.splitlines()[0] == (
        "Classification: CWE-89 Improper Neutralization of Special Elements used in an SQL "
        "Command ('SQL Injection')"
    )
    assert text.splitlines()[1:3] == ["Severity: high", "Category: injection"]


def test_a_finding_that_says_nothing_takes_the_cwe_description(catalogue) -> None:
    finding = _finding(["CWE-327"], message="Consider the md5 hash.")
    assert root_cause(finding, catalogue.get(327)) == (
        "The product uses a broken or risky cryptographic algorithm or protocol."
    )
