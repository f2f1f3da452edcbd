"""`evaluate_run` end to end on a trained tiny-random run: files, keys, baselines, retention."""

from __future__ import annotations

import json

import pytest

from vulntune.evaluation.evaluate import EvaluationError, evaluate_run, retention
from vulntune.runs.manager import TrainingRunManager

from .conftest import short_generator


@pytest.fixture(scope="module")
def evaluated(trained_run):
    return evaluate_run(trained_run, short_generator, say=lambda _m: None)


def test_results_and_predictions_are_published_at_the_manifest_paths(trained_run, evaluated):
    files = trained_run.evaluation
    assert evaluated.results_path == files.results and files.results.is_file()
    assert json.loads(files.results.read_text()) == evaluated.results
    assert evaluated.report_path == files.report and files.report.is_file()
    for name in ("base", "stage1", "final"):
        records = [json.loads(line) for line in files.predictions[name].read_text().splitlines()]
        # Every example twice: with and without structured decoding.
        tasks = [(r["task"], r["structured"]) for r in records]
        assert tasks.count(("analysis", True)) == tasks.count(("analysis", False)) == 5
        assert tasks.count(("codefix", True)) == tasks.count(("codefix", False)) == 4
        assert all(r["reference"] and "score" in r for r in records)


def test_results_have_the_documented_keys(evaluated):
    results = evaluated.results
    assert results["split"] == {"analysis": "test", "codefix": "test"}
    assert results["counts"] == {"analysis": 5, "codefix": 4}
    for name in ("base", "stage1", "final"):
        model = results["models"][name]
        for key in ("parse_rate", "cwe_accuracy", "severity_accuracy", "category_accuracy"):
            assert 0.0 <= model["analysis"][key] <= 1.0
            assert 0.0 <= model["analysis_unstructured"][key] <= 1.0
        for key in ("diff_parse_rate", "applies_rate", "exact_match"):
            assert 0.0 <= model["codefix"][key] <= 1.0
            assert 0.0 <= model["codefix_unstructured"][key] <= 1.0
        assert model["codefix"]["dependency_n"] == 2
    assert set(results["baselines"]) == {"majority", "keyword"}
    assert set(results["retention"]) >= {"cwe_accuracy", "severity_accuracy", "parse_rate"}


def test_structured_decoding_always_parses_and_names_from_the_catalogue(trained_run, evaluated):
    from vulntune.datasets.completions import parse_analysis
    from vulntune.datasets.cwe_catalogue import CweCatalogue

    catalogue = CweCatalogue.load()
    for name in ("base", "stage1", "final"):
        path = trained_run.evaluation.predictions[name]
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record["task"] != "analysis" or not record["structured"]:
                continue
            parsed = parse_analysis(record["prediction"])
            # 100 tokens may end inside a free line, but the closed fields are always there.
            assert parsed.cwe_id is not None and parsed.severity and parsed.category
            assert parsed.cwe_name == catalogue.name(parsed.cwe_id)


def test_keyword_baseline_writes_dependency_upgrades(evaluated):
    keyword = evaluated.results["baselines"]["keyword"]["codefix"]
    assert keyword["dependency_n"] == 2 and keyword["dependency_fix_rate"] == 1.0
    assert keyword["applies_rate"] == 0.5  # the two package-manifest upgrades of four fixes
    assert evaluated.results["baselines"]["majority"]["codefix"]["diff_parse_rate"] == 0.0


def test_retention_is_final_over_stage1_and_none_without_a_stage1_score():
    models = {
        "stage1": {"analysis": {"parse_rate": 0.8, "cwe_accuracy": 0.0, "severity_accuracy": 0.5,
                                "cwe_related_accuracy": 0.5, "category_accuracy": 0.4,
                                "root_cause_chrf": 0.2, "impact_chrf": 0.1}},
        "final": {"analysis": {"parse_rate": 0.4, "cwe_accuracy": 0.3, "severity_accuracy": 0.5,
                               "cwe_related_accuracy": 0.25, "category_accuracy": 0.4,
                               "root_cause_chrf": 0.1, "impact_chrf": 0.1}},
    }  # fmt: skip
    got = retention(models)
    assert got["parse_rate"] == 0.5 and got["cwe_accuracy"] is None
    assert got["severity_accuracy"] == 1.0 and got["cwe_related_accuracy"] == 0.5


def test_an_untrained_run_names_the_missing_stage_and_the_command(tmp_path, tiny_config):
    run = TrainingRunManager(tmp_path).create_run("tiny-random", tiny_config)
    with pytest.raises(EvaluationError, match=r"stage 1 is not complete.*vulntune train"):
        evaluate_run(run, short_generator, models=("stage1",), say=lambda _m: None)
