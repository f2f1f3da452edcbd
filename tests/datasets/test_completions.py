"""The two completion layouts: exact text from the records, strict validation, and lenient
parsing of what a small model writes (never raising on garbage)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vulntune.datasets.builtin import load_builtin
from vulntune.datasets.completions import (
    AnalysisCompletion,
    CodeFixCompletion,
    CompletionError,
    ParsedAnalysis,
    ParsedCodeFix,
    codefix_answer_closed,
    parse_analysis,
    parse_codefix,
)

SQLI = "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')"
ANALYSIS = AnalysisCompletion(
    cwe_id=89,
    cwe_name=SQLI,
    severity="high",
    category="injection",
    root_cause="The name is formatted into the SQL text.",
    impact="Anyone can read the users table.",
)
DIFF = "--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,2 @@\n-a\n+b\n c\n"


def test_analysis_text_is_exactly_the_five_lines() -> None:
    assert ANALYSIS.text() == (
        f"Classification: CWE-89 {SQLI}\n"
        "Severity: high\n"
        "Category: injection\n"
        "Root cause: The name is formatted into the SQL text.\n"
        "Impact: Anyone can read the users table."
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"severity": "High"}, "severity"),
        ({"category": "sqli"}, "category"),
        ({"cwe_id": 0}, "cwe_id"),
        ({"cwe_name": ""}, "cwe_name"),
        ({"root_cause": "two\nlines"}, "root_cause"),
        ({"impact": " padded"}, "impact"),
    ],
)
def test_analysis_refuses_values_the_layout_cannot_hold(
    change: dict[str, object], problem: str
) -> None:
    fields = {
        "cwe_id": 89,
        "cwe_name": SQLI,
        "severity": "high",
        "category": "injection",
        "root_cause": "x.",
        "impact": "y.",
        **change,
    }
    with pytest.raises(CompletionError, match=problem):
        AnalysisCompletion(**fields)  # type: ignore[arg-type]


def test_codefix_text_and_validation() -> None:
    fix = CodeFixCompletion("Swap a for b, so the input is escaped.", DIFF)
    assert fix.text() == (
        "Fix: Swap a for b, so the input is escaped.\n"
        "```diff\n--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,2 @@\n-a\n+b\n c\n```"
    )
    with pytest.raises(CompletionError, match="sentence"):
        CodeFixCompletion("two\nlines", DIFF)
    with pytest.raises(CompletionError, match="empty"):
        CodeFixCompletion("A sentence.", "  \n")
    with pytest.raises(CompletionError, match="fence"):
        CodeFixCompletion("A sentence.", DIFF + "```\n")


BUILTIN_ANALYSES = load_builtin("analysis") + load_builtin("heldout")
BUILTIN_FIXES = load_builtin("codefix")


@pytest.mark.parametrize("record", BUILTIN_ANALYSES, ids=[r["id"] for r in BUILTIN_ANALYSES])
def test_builtin_analyses_round_trip(record: dict[str, str]) -> None:
    parsed = parse_analysis(record["completion"])
    assert parsed.complete
    rebuilt = AnalysisCompletion(
        parsed.cwe_id, parsed.cwe_name, parsed.severity, parsed.category,  # type: ignore[arg-type]
        parsed.root_cause, parsed.impact,  # type: ignore[arg-type]
    )  # fmt: skip
    assert rebuilt.text() == record["completion"]


@pytest.mark.parametrize("record", BUILTIN_FIXES, ids=[r["id"] for r in BUILTIN_FIXES])
def test_builtin_fixes_round_trip(record: dict[str, str]) -> None:
    parsed = parse_codefix(record["completion"])
    assert parsed.complete and parsed.sentence and parsed.diff
    assert CodeFixCompletion(parsed.sentence, parsed.diff).text() == record["completion"]


def test_analysis_as_a_small_model_writes_it() -> None:
    text = (
        "Sure! Here is my analysis of the finding:\n\n"
        "- **Severity:** High\n"
        "**Classification**: cwe-89 - SQL Injection\n"
        "  category:   Path Traversal.  \n"
        "root_cause: _.template builds code from the option\n"
        "Impact: `attacker runs code`\n"
        "Severity: low\n"
        "I hope this helps. Let me know if you have questions!"
    )
    assert parse_analysis(text) == ParsedAnalysis(
        cwe_id=89,
        cwe_name="SQL Injection",
        severity="high",  # the first occurrence wins
        category="path-traversal",
        root_cause="_.template builds code from the option",
        impact="attacker runs code",
    )
    assert parse_analysis(text).complete


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ParsedAnalysis()),
        ("Severity: severe\nCategory: sqli", ParsedAnalysis()),
        ("Classification: CWE-79", ParsedAnalysis(cwe_id=79)),  # a name is part of the line
        ("Classification: SQL injection", ParsedAnalysis()),
        ("Classification: CWE-0 Nothing", ParsedAnalysis(cwe_name="Nothing")),
        ("Root cause:\nImpact: something", ParsedAnalysis(impact="something")),
        ("Impact something\nCategory - xss", ParsedAnalysis()),
        ("Category: XSS", ParsedAnalysis(category="xss")),
        ("Category: information disclosure", ParsedAnalysis(category="information-disclosure")),
        ("severity: INFO.", ParsedAnalysis(severity="info")),
    ],
)
def test_analysis_fields_that_are_missing_or_malformed(text: str, expected: ParsedAnalysis) -> None:
    parsed = parse_analysis(text)
    assert parsed == expected
    assert not parsed.complete


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parsers_never_raise(text: str) -> None:
    assert isinstance(parse_analysis(text), ParsedAnalysis)
    assert isinstance(parse_codefix(text), ParsedCodeFix)


def test_codefix_without_a_closing_fence() -> None:
    parsed = parse_codefix("Fix: Escape it.\n```diff\n" + DIFF)
    assert parsed == ParsedCodeFix("Escape it.", DIFF)


def test_codefix_with_chatter_and_a_patch_fence() -> None:
    text = "Here is the fix.\n\n**Fix:** Escape it.\n\n```patch\n" + DIFF + "```\n\nThat's all!"
    assert parse_codefix(text) == ParsedCodeFix("Escape it.", DIFF)


def test_codefix_keeps_carriage_returns_and_fence_like_context_lines() -> None:
    diff = "--- a/README.md\n+++ b/README.md\n@@ -1,3 +1,3 @@\n ```\r\n-old\r\n+new\r\n ```\r\n"
    parsed = parse_codefix("Fix: Update the readme.\n```diff\n" + diff + "```")
    assert parsed.diff == diff


def test_codefix_without_fences_takes_the_diff_lines() -> None:
    parsed = parse_codefix("fix: Bump it\n" + DIFF + "\n\n")
    assert parsed == ParsedCodeFix("Bump it", DIFF)


def test_codefix_other_fenced_languages_are_not_diffs() -> None:
    parsed = parse_codefix("Fix: Use this.\n```python\nprint(1)\n```\n")
    assert parsed == ParsedCodeFix("Use this.", None)
    assert not parsed.complete
    assert parse_codefix("```diff\n```") == ParsedCodeFix(None, None)


@pytest.mark.parametrize(
    ("text", "closed"),
    [
        ("Fix: Escape it.\n```diff\n" + DIFF + "```\n", True),
        ("Fix: Escape it.\n```diff\n" + DIFF + "```", False),  # the fence line is unfinished
        ("Fix: Escape it.\n```diff\n" + DIFF + "```diff\n", False),  # opens, not closes
        ("Fix: Escape it.\n```diff\n" + DIFF, False),
        ("```\n```\n", True),  # the empty-fence loop
        ("~~~patch\n" + DIFF + "```\n", False),  # closed only by the same fence character
        ("Fix: Use this.\n```python\nprint(1)\n", False),  # not a diff block
        # A fence inside a patched Markdown file is a context line, not the end.
        ("```diff\n--- a/R.md\n+++ b/R.md\n@@ -1,1 +1,1 @@\n ```\n", False),
        ("fix: Bump it\n" + DIFF + "\n\n", False),  # no fence: read to the end
    ],
)
def test_a_codefix_answer_is_closed_by_its_first_diff_blocks_fence(text: str, closed: bool):
    assert codefix_answer_closed(text) is closed


_FENCE_HEAVY = st.lists(
    st.sampled_from(
        ["```", "```diff", "~~~", " ```", "```python", "Fix: a.", "-a", "+b", " c", ""]
    ),
    max_size=12,
).map("\n".join)


@given(_FENCE_HEAVY, st.text(max_size=40))
def test_stopping_where_an_answer_is_closed_keeps_the_diff_parsed(head: str, tail: str):
    """Generation stops at the first prefix the rule calls closed: whatever the model would
    have written after it, the diff read from the shortened answer is the same."""
    text = head + "\n" + tail
    for end in range(len(text) + 1):
        if codefix_answer_closed(text[:end]):
            assert parse_codefix(text[:end]).diff == parse_codefix(text).diff
            break
