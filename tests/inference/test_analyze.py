"""analyze_findings: which findings are asked about, how answers are read, how they are asked."""

from __future__ import annotations

import pytest

from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.findings.record import Severity
from vulntune.inference.analyze import AnalyzeError, analyze_findings, read_analysis
from vulntune.inference.analyze_inputs import read_inputs

from .scripted import CODEQL, GITLEAKS, PROJECT, ScriptedCompleter


@pytest.fixture(scope="module")
def codeql_findings():
    return read_inputs([CODEQL], PROJECT).report.findings


def test_findings_with_context_are_analysed_and_the_rest_pass_through(codeql_findings):
    completer = ScriptedCompleter(codeql_findings)
    result = analyze_findings(codeql_findings, completer)
    statuses = [(i.finding.location.path, i.status) for i in result.items]
    assert statuses == [
        ("app/db.py", "analysed"),
        ("app/db.py", "analysed"),
        ("vendor/missing.py", "no context"),  # outside the source tree, no snippet
    ]
    assert result.analysed == 2 and result.passed_through == 1
    assert result.fixes_applying == 2
    assert result.items[2].analysis is None and result.items[2].fix is None


def test_whole_lists_of_prompts_go_to_the_completer(codeql_findings):
    completer = ScriptedCompleter(codeql_findings)
    analyze_findings(codeql_findings, completer)
    assert completer.calls == [("analysis", 2), ("codefix", 2)]
    completer.calls.clear()
    analyze_findings(codeql_findings, completer, prompts_per_call=1)
    assert completer.calls == [("analysis", 1)] * 2 + [("codefix", 1)] * 2


def test_progress_reports_every_call(codeql_findings):
    seen = []
    analyze_findings(
        codeql_findings, ScriptedCompleter(codeql_findings), progress=lambda *a: seen.append(a)
    )
    assert seen == [("analysis", 0, 2), ("analysis", 2, 2), ("codefix", 0, 2), ("codefix", 2, 2)]


def test_min_severity_passes_less_severe_findings_through(codeql_findings):
    result = analyze_findings(
        codeql_findings, ScriptedCompleter(codeql_findings), min_severity=Severity.CRITICAL
    )
    assert {i.status for i in result.items} == {"below minimum severity"}


def test_a_secret_finding_is_analysed_but_never_asked_for_a_fix():
    findings = read_inputs([GITLEAKS], PROJECT).report.findings
    completer = ScriptedCompleter(findings)
    result = analyze_findings(findings, completer)
    assert [i.status for i in result.items] == ["analysed"]
    assert result.items[0].fix is None
    assert completer.calls == [("analysis", 1)]


def test_an_unusable_answer_is_counted_not_attached(codeql_findings):
    def refusing(prompts, task):
        return ["I cannot help with that." for _ in prompts]

    result = analyze_findings(codeql_findings, refusing)
    assert [i.status for i in result.items][:2] == ["unusable answer"] * 2
    assert result.analysed == 0


def test_a_completer_answering_the_wrong_number_of_prompts_is_an_error(codeql_findings):
    with pytest.raises(AnalyzeError, match=r"answered 2 analysis prompt\(s\) with 1 text"):
        analyze_findings(codeql_findings, lambda prompts, task: ["x"])


def test_the_cwe_name_comes_from_the_catalogue_and_unknown_ids_are_dropped():
    catalogue = CweCatalogue.load()
    named = read_analysis("Classification: CWE-89 made-up name\nSeverity: High", catalogue)
    assert named is not None
    assert named.cwe == "CWE-89"
    assert named.cwe_name == catalogue.name(89) and named.cwe_name != "made-up name"
    assert named.severity == "high" and not named.complete
    unknown = read_analysis("Classification: CWE-99999999 Nothing\nCategory: injection", catalogue)
    assert unknown is not None and unknown.cwe is None and unknown.category == "injection"
    assert read_analysis("no layout at all", catalogue) is None
