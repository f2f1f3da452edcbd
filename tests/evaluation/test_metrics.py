"""Every metric on hand-made predictions whose right answers are known."""

from __future__ import annotations

import pytest

from vulntune.datasets.completions import AnalysisCompletion, CodeFixCompletion
from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.datasets.unified_diff import make_diff
from vulntune.evaluation.metrics import (
    score_analysis,
    score_codefix,
    summarise_analysis,
    summarise_codefix,
    version_at_least,
)
from vulntune.evaluation.prompt_facts import prompt_facts


@pytest.fixture(scope="module")
def catalogue() -> CweCatalogue:
    return CweCatalogue.load()


def _analysis(catalogue, cwe=89, severity="high", category="injection", root="r", impact="i"):
    return AnalysisCompletion(cwe, catalogue.name(cwe), severity, category, root, impact).text()


def test_a_perfect_analysis(catalogue):
    ref = _analysis(catalogue, root="User input reaches the query.", impact="Data theft.")
    score = score_analysis(ref, ref, catalogue)
    assert score.parsed and score.cwe_exact and score.cwe_related
    assert score.severity and score.category
    assert score.root_cause_chrf == score.impact_chrf == 1.0


def test_unparseable_output_scores_nothing(catalogue):
    score = score_analysis("I am a helpful assistant.", _analysis(catalogue), catalogue)
    assert not (score.parsed or score.cwe_exact or score.cwe_related or score.severity)
    assert score.root_cause_chrf == score.impact_chrf == 0.0


def test_a_parent_cwe_is_related_but_not_exact(catalogue):
    assert 943 in catalogue.parents(89)  # SQL injection is a child of CWE-943
    got = _analysis(catalogue, cwe=943)
    score = score_analysis(got, _analysis(catalogue, cwe=89), catalogue)
    assert score.parsed and not score.cwe_exact and score.cwe_related
    unrelated = score_analysis(_analysis(catalogue, cwe=79), _analysis(catalogue), catalogue)
    assert not unrelated.cwe_related


def test_fields_are_scored_one_by_one(catalogue):
    got = _analysis(catalogue, severity="low", category="xss")
    score = score_analysis(got, _analysis(catalogue), catalogue)
    assert score.cwe_exact and not score.severity and not score.category
    summary = summarise_analysis([score, score_analysis("junk", got, catalogue)])
    assert (summary.n, summary.parse_rate, summary.cwe_accuracy) == (2, 0.5, 0.5)
    assert summary.severity_accuracy == 0.0


OLD = "import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n    return 0\n"
NEW = OLD.replace("subprocess.call(cmd, shell=True)", "subprocess.call(cmd.split())")
PROMPT = (
    "Fix this security finding.\nTool: bandit\nRule: B602\nLocation: app.py:5\n"
    "Message: subprocess call with shell=True\nCode:\n" + OLD.rstrip("\n")
)
REFERENCE = CodeFixCompletion("Split the command.", make_diff("app.py", OLD, NEW)).text()


def _fix(diff: str) -> str:
    return CodeFixCompletion("Do it.", diff).text()


def test_the_reference_fix_scores_everything():
    score = score_codefix(REFERENCE, REFERENCE, prompt_facts(PROMPT))
    assert score.diff_parsed and score.applies and score.applies_recount and score.exact_match
    assert (score.files_checked, score.files_still_parse) == (1, 1)
    assert score.dependency_fix is None


def test_output_without_a_diff():
    score = score_codefix("Fix: use a list.", REFERENCE, prompt_facts(PROMPT))
    assert not (score.diff_parsed or score.applies or score.exact_match)
    assert score.problem == "no diff in the output"


def test_a_diff_that_does_not_apply():
    wrong = make_diff("app.py", OLD.replace("cmd, shell", "command, shell"), NEW)
    score = score_codefix(_fix(wrong), REFERENCE, prompt_facts(PROMPT))
    assert score.diff_parsed and not score.applies and not score.applies_recount
    assert not score.exact_match and "app.py" in (score.problem or "")


def test_a_diff_of_context_lines_only_does_not_count_as_applying():
    context_only = "--- a/app.py\n+++ b/app.py\n@@ -4,2 +4,2 @@\n def run(cmd):\n     return 0\n"
    context_only = context_only.replace("     return 0", "     subprocess.call(cmd, shell=True)")
    score = score_codefix(_fix(context_only), REFERENCE, prompt_facts(PROMPT))
    assert score.diff_parsed and not score.applies and not score.applies_recount
    assert score.problem == "the diff changes nothing"


def test_wrong_hunk_counts_apply_only_with_recount():
    diff = make_diff("app.py", OLD, NEW)
    miscounted = diff.replace("@@ -3,4 +3,4 @@", "@@ -3,5 +3,5 @@")
    assert miscounted != diff
    score = score_codefix(_fix(miscounted), REFERENCE, prompt_facts(PROMPT))
    assert score.diff_parsed and not score.applies and score.applies_recount
    # Normalisation recounts headers, so the content still matches the reference exactly.
    assert score.exact_match


def test_trailing_whitespace_does_not_break_an_exact_match():
    diff = make_diff("app.py", OLD, NEW).replace("cmd.split())\n", "cmd.split())   \n")
    score = score_codefix(_fix(diff), REFERENCE, prompt_facts(PROMPT))
    # The added line is new text, so it applies; only context and removed lines must match.
    assert score.exact_match and score.applies


def test_a_fix_that_breaks_the_syntax():
    broken = make_diff("app.py", OLD, OLD.replace("shell=True)", "shell=False"))
    score = score_codefix(_fix(broken), REFERENCE, prompt_facts(PROMPT))
    assert score.applies and not score.exact_match
    assert (score.files_checked, score.files_still_parse) == (1, 0)
    summary = summarise_codefix([score, score_codefix(REFERENCE, REFERENCE, prompt_facts(PROMPT))])
    assert summary.patched_parse_rate == 0.5 and summary.applies_rate == 1.0


MANIFEST = "flask==2.3.3\nrequests==2.28.2\nstructlog==23.1.0\n"
DEP_PROMPT = (
    "Fix this security finding.\nTool: osv-scanner\nRule: GHSA-j8r2-6x86-q33q\n"
    "Location: requirements.txt:2\nMessage: leak\nPackage: PyPI requests 2.28.2 (fixed in 2.31.0)\n"
    "Code:\n" + MANIFEST.rstrip("\n")
)


@pytest.mark.parametrize(
    ("version", "fixed"),
    [("2.31.0", True), ("2.32.3", True), ("2.30.0", False), ("2.28.2", False)],
)
def test_a_dependency_fix_must_write_a_fixed_version(version, fixed):
    diff = make_diff("requirements.txt", MANIFEST, MANIFEST.replace("2.28.2", version))
    reference = _fix(make_diff("requirements.txt", MANIFEST, MANIFEST.replace("2.28.2", "2.31.0")))
    prediction = _fix(diff) if version != "2.28.2" else "Fix: nothing"
    score = score_codefix(
        prediction, reference, prompt_facts(DEP_PROMPT), {"fix_source": "dependency"}
    )
    assert score.dependency_fix is fixed


def test_versions_compare_as_versions_and_unknown_schemes_only_as_equal():
    assert version_at_least("2.10.0", "2.9.1") and not version_at_least("2.9.1", "2.10.0")
    assert version_at_least("1:1.2-3", "1:1.2-3") and not version_at_least("1:1.2-4", "1:1.2-3")


def test_os_packages_are_not_judged_by_version():
    prompt = (
        "Fix this security finding.\nTool: trivy\nRule: CVE-1\nLocation: Dockerfile:1\n"
        "Message: zlib\nPackage: debian zlib1g 1:1.2.11-1 (fixed in 1:1.2.11-2)\n"
        "Code:\nFROM debian:11.4-slim"
    )
    score = score_codefix("Fix: none", "Fix: x", prompt_facts(prompt), {"fix_source": "dependency"})
    assert score.dependency_fix is None
