"""The enriched SARIF: valid 2.1.0, every original run and result kept, the analysis where
code scanning shows it, fixes only when they apply, one category per run."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from vulntune.datasets.unified_diff import Replacement, apply_check, apply_replacements
from vulntune.inference.analyze_inputs import read_inputs
from vulntune.inference.analyze_job import analyze_reports
from vulntune.inference.sarif_native import FINGERPRINT_KEY

from .scripted import ANALYSIS, CODEQL, FAKE_MODEL, PROJECT, ScriptedCompleter

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
# What analyze may change in a result; everything else must come back as it was.
ENRICHED_KEYS = {"message", "properties", "fixes"}


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def analyse(paths, **kwargs):
    findings = read_inputs(paths, kwargs.get("source_root")).report.findings
    completer = kwargs.pop("completer", None) or ScriptedCompleter(findings)
    return analyze_reports(paths, FAKE_MODEL, completer, "sarif", now=NOW, **kwargs)


def assert_valid(validator, doc):
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def assert_kept(original_run, enriched_run):
    """Every original field of the run and of every result is there, unchanged, apart from
    the enriched ones."""
    for key, value in original_run.items():
        if key in ("results", "properties", "automationDetails"):
            continue
        assert enriched_run[key] == value, key
    original_results = original_run.get("results") or []
    assert len(enriched_run.get("results") or []) == len(original_results)
    for before, after in zip(original_results, enriched_run.get("results") or [], strict=True):
        for key, value in before.items():
            if key == "properties":
                assert {k: after[key][k] for k in value} == value
            elif key == "fixes":  # the tool's own fixes first, the suggested one after them
                assert after[key][: len(value)] == value
            elif key != "message":
                assert after[key] == value, key
        assert set(after) - set(before) <= ENRICHED_KEYS


def test_the_codeql_report_keeps_every_result_and_field(validator):
    outcome = analyse([CODEQL], source_root=PROJECT)
    doc = json.loads(outcome.text)
    assert_valid(validator, doc)
    original = json.loads(CODEQL.read_text(encoding="utf-8"))
    assert len(doc["runs"]) == 1
    run, before = doc["runs"][0], original["runs"][0]
    assert_kept(before, run)
    flagged = run["results"][0]
    assert flagged["codeFlows"] == before["results"][0]["codeFlows"]
    assert flagged["suppressions"] == before["results"][0]["suppressions"]
    assert flagged["partialFingerprints"] == before["results"][0]["partialFingerprints"]
    assert flagged["properties"]["github/alertNumber"] == 7
    assert run["properties"]["metricResults"] == []


def test_the_original_first_sentence_stays_first_and_the_analysis_follows(validator):
    run = json.loads(analyse([CODEQL], source_root=PROJECT).text)["runs"][0]
    text = run["results"][0]["message"]["text"]
    assert text.startswith("This SQL query depends on a [user-provided value](1).\n\nAI analysis")
    assert "Root cause: The query is built by concatenating request input." in text
    assert text.endswith("Review how it is built.")
    markdown = run["results"][0]["message"]["markdown"]
    assert "**AI analysis**" in markdown and "```diff\n--- a/app/db.py" in markdown
    # Passed through: the result outside the source tree is exactly as it was.
    original = json.loads(CODEQL.read_text(encoding="utf-8"))["runs"][0]["results"][2]
    assert run["results"][2] == original


def test_ai_properties_and_provenance(validator):
    run = json.loads(analyse([CODEQL], source_root=PROJECT).text)["runs"][0]
    props = run["results"][0]["properties"]
    assert props["ai.cwe"] == "CWE-89"
    assert props["ai.cweName"].startswith("Improper Neutralization of Special Elements")
    assert props["ai.severity"] == "high" and props["ai.category"] == "injection"
    assert props["ai.rootCause"] and props["ai.impact"]
    assert props["ai.model"] == "scripted-model"
    assert props["ai.promptFormat"] == "vulntune-prompt-v1"
    assert props["ai.fixApplies"] is True
    provenance = run["properties"]
    assert provenance["ai.tool"] == "vulntune" and provenance["ai.toolVersion"]
    assert provenance["ai.modelHash"] == FAKE_MODEL.content_hash
    assert provenance["ai.analyzedAt"] == "2026-01-02T03:04:05+00:00"
    assert provenance["ai.results"] == {"analysed": 2, "passedThrough": 1}


def test_fixes_only_when_the_diff_applies_and_they_reproduce_it():
    findings = read_inputs([CODEQL], PROJECT).report.findings
    completer = ScriptedCompleter(findings, broken=frozenset({findings[0].id}))
    run = json.loads(analyse([CODEQL], source_root=PROJECT, completer=completer).text)["runs"][0]
    not_applying, applying = run["results"][0], run["results"][1]
    assert "fixes" not in not_applying
    assert not_applying["properties"]["ai.fixApplies"] is False
    assert "```diff" not in not_applying["message"]["markdown"]
    (fix,) = applying["fixes"]
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "app/db.py", "uriBaseId": "%SRCROOT%", "index": 0}
    real = (PROJECT / "app/db.py").read_text(encoding="utf-8")
    replacements = [
        Replacement(
            start_line=r["deletedRegion"]["startLine"],
            start_column=r["deletedRegion"]["startColumn"],
            end_line=r["deletedRegion"]["endLine"],
            end_column=r["deletedRegion"]["endColumn"],
            inserted_text=r["insertedContent"]["text"],
            deleted_text="",
        )
        for r in change["replacements"]
    ]
    diff = applying["message"]["markdown"].split("```diff\n", 1)[1].rsplit("\n```", 1)[0]
    patched = apply_check(diff + "\n", {"app/db.py": real}).patched
    assert patched is not None
    assert apply_replacements(real, replacements) == patched["app/db.py"]


def test_the_corpus_reports_stay_valid_and_complete(validator, webauthn_corpus):
    sarif_files = sorted(p for p in webauthn_corpus.rglob("*.sarif") if p.is_file())
    natives = [
        webauthn_corpus / "osv-scanner-results-workflow_dispatch-392/osv-results.json",
        webauthn_corpus / "zap-full-scan-webauthn-server/report_json.json",
    ]
    outcome = analyse([*sarif_files, *natives])
    doc = json.loads(outcome.text)
    assert_valid(validator, doc)
    original_runs = [
        run for path in sarif_files for run in json.loads(path.read_text("utf-8"))["runs"]
    ]
    assert len(doc["runs"]) == len(original_runs) + 2
    secret_tools = {"gitleaks"}
    for before, after in zip(original_runs, doc["runs"], strict=False):
        if before["tool"]["driver"]["name"].lower() in secret_tools:
            assert len(after["results"]) == len(before["results"])  # texts are redacted
            continue
        assert_kept(before, after)
    # One run per native tool, after the original runs.
    native_runs = doc["runs"][len(original_runs) :]
    assert [r["tool"]["driver"]["name"].lower() for r in native_runs] == ["osv-scanner", "zap"]
    for run in native_runs:
        for result in run["results"]:
            assert result["partialFingerprints"][FINGERPRINT_KEY]
    assert outcome.result.analysed > 100


def test_every_run_has_its_own_category_never_the_raw_scans(webauthn_corpus):
    semgrep = webauthn_corpus / "semgrep-results-workflow_dispatch-392"
    paths = [semgrep / "semgrep.sarif", *sorted(webauthn_corpus.rglob("*comprehensive.sarif"))]
    doc = json.loads(analyse(paths).text)
    originals = {
        run.get("automationDetails", {}).get("id")
        for path in paths
        for run in json.loads(path.read_text("utf-8"))["runs"]
    }
    categories = [run["automationDetails"]["id"] for run in doc["runs"]]
    assert len(set(categories)) == len(categories) == 3
    assert all(c.endswith("/vulntune/") or "/vulntune-" in c for c in categories)
    assert not set(categories) & originals


def test_the_same_scan_as_sarif_and_native_json_enriches_the_sarif_only(webauthn_corpus):
    semgrep = webauthn_corpus / "semgrep-results-workflow_dispatch-392"
    doc = json.loads(analyse([semgrep / "semgrep.sarif", semgrep / "semgrep-results.json"]).text)
    tools = [run["tool"]["driver"]["name"] for run in doc["runs"]]
    assert tools.count("Semgrep OSS") + tools.count("semgrep") >= 1
    analysed = sum(
        "ai.model" in (result.get("properties") or {})
        for run in doc["runs"]
        for result in run["results"]
    )
    assert analysed >= 107


def test_a_result_merged_from_duplicates_enriches_each_of_them(tmp_path, validator):
    original = json.loads(CODEQL.read_text(encoding="utf-8"))
    doubled = copy.deepcopy(original)
    doubled["runs"].append(copy.deepcopy(original["runs"][0]))
    path = tmp_path / "doubled.sarif"
    path.write_text(json.dumps(doubled), encoding="utf-8")
    doc = json.loads(analyse([path], source_root=PROJECT).text)
    assert_valid(validator, doc)
    for run in doc["runs"]:
        assert run["results"][0]["properties"]["ai.cwe"] == "CWE-89"
        assert ANALYSIS.splitlines()[3].split(": ", 1)[1] in run["results"][0]["message"]["text"]
    assert doc["runs"][0]["automationDetails"]["id"] != doc["runs"][1]["automationDetails"]["id"]


def test_a_utf16_report_is_read_back_as_ingest_read_it(tmp_path):
    original = CODEQL.read_text(encoding="utf-8")
    path = tmp_path / "utf16.sarif"
    path.write_bytes(b"\xff\xfe" + original.encode("utf-16-le"))
    doc = json.loads(analyse([path], source_root=PROJECT).text)
    assert doc["runs"][0]["results"][0]["properties"]["ai.cwe"] == "CWE-89"
