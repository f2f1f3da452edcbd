"""The baselines: a valid keyword table, the majority class, the dependency upgrade diff."""

from __future__ import annotations

from vulntune.conversation import Example, Message
from vulntune.datasets.builtin import load_builtin
from vulntune.datasets.completions import parse_analysis, parse_codefix
from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.datasets.unified_diff import apply_check
from vulntune.evaluation.baselines import (
    KEYWORDS,
    KeywordBaseline,
    MajorityBaseline,
    SimilarBaseline,
    majority_answers,
    match_keyword,
    reported_severity,
)
from vulntune.evaluation.prompt_facts import prompt_facts


def _example(i: int, completion: str) -> Example:
    return Example(str(i), (Message("user", "p"), Message("assistant", completion)))


def test_every_keyword_names_a_live_weakness():
    catalogue = CweCatalogue.load()
    assert 30 <= len(KEYWORDS) <= 45
    for keyword in KEYWORDS:
        entry = catalogue.get(keyword.cwe)
        assert entry is not None and entry.kind == "weakness", keyword
        assert not catalogue.deprecated(keyword.cwe), keyword


def test_keywords_match_rule_ids_and_messages():
    assert match_keyword("python.lang.security.audit.formatted-sql-query").cwe == 89
    assert match_keyword("Detected calls to child_process from a function argument").cwe == 78
    assert match_keyword("Prototype pollution in lodash merge").cwe == 1321
    assert match_keyword("nothing to see here") is None
    assert reported_severity("ERROR") == "high" and reported_severity("9.8") == "critical"
    assert reported_severity("6.1") == "medium" and reported_severity("whatever") is None


def test_majority_counts_each_field_and_breaks_ties_by_first_seen():
    catalogue = CweCatalogue.load()
    texts = [
        "Classification: CWE-79 X\nSeverity: low\nCategory: xss\nRoot cause: a\nImpact: b",
        "Classification: CWE-89 Y\nSeverity: high\nCategory: injection\nRoot cause: a\nImpact: c",
        "Classification: CWE-89 Y\nSeverity: low\nCategory: xss\nRoot cause: d\nImpact: c",
    ]
    answers = majority_answers([_example(i, t) for i, t in enumerate(texts)], [])
    assert (answers.cwe_id, answers.severity, answers.category) == (89, "low", "xss")
    assert (answers.root_cause, answers.impact) == ("a", "c")
    parsed = parse_analysis(MajorityBaseline(answers, catalogue).analysis("any prompt"))
    assert parsed.complete and parsed.cwe_name == catalogue.name(89)


def test_keyword_baseline_writes_an_applying_upgrade_for_every_builtin_package_manifest():
    catalogue = CweCatalogue.load()
    answers = majority_answers([], [])
    baseline = KeywordBaseline(answers, catalogue)
    upgraded = 0
    for record in load_builtin("codefix"):
        facts = prompt_facts(record["prompt"])
        diff = parse_codefix(baseline.codefix(record["prompt"])).diff
        if diff is None:
            continue
        assert apply_check(diff, facts.files()).applies, record["id"]
        assert facts.fixed_version in diff
        upgraded += 1
    assert upgraded >= 8


SQL_PROMPT = (
    "Analyze this security finding.\nTool: semgrep\nRule: tainted-sql\n"
    "Message: query built from input\n"
    "Similar finding: bandit B602: subprocess call with shell=True -> CWE-78 OS Command\n"
    "Similar finding: semgrep tainted-sql: query -> CWE-89 SQL Injection\nCode:\nq = 1\n"
)


def test_the_similar_finding_baseline_takes_the_nearest_findings_cwe():
    catalogue = CweCatalogue.load()
    answers = majority_answers([], [])
    assert prompt_facts(SQL_PROMPT).similar_cwe == 78  # the first line is the nearest
    similar = parse_analysis(SimilarBaseline(answers, catalogue).analysis(SQL_PROMPT))
    keyword = parse_analysis(KeywordBaseline(answers, catalogue).analysis(SQL_PROMPT))
    assert (similar.cwe_id, keyword.cwe_id) == (78, 89)
    assert similar.cwe_name == catalogue.name(78)
    assert (similar.severity, similar.category) == (keyword.severity, keyword.category)


def test_without_a_similar_finding_or_with_an_unknown_id_it_is_the_keyword_lookup():
    catalogue = CweCatalogue.load()
    answers = majority_answers([], [])
    plain = SQL_PROMPT.replace("Similar finding", "Other")
    unknown = SQL_PROMPT.replace("CWE-78 OS", "CWE-999999 OS")
    for prompt in (plain, unknown):
        assert SimilarBaseline(answers, catalogue).analysis(prompt) == KeywordBaseline(
            answers, catalogue
        ).analysis(prompt)
    assert prompt_facts(plain).similar_cwe is None
    odd = SQL_PROMPT.replace("shell=True ->", "shell=True -> CWE-89 in its words ->")
    assert prompt_facts(odd).similar_cwe == 78
