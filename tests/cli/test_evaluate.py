"""`vulntune evaluate`, run as a user runs it: --json keys, the table, errors."""

from __future__ import annotations

import pytest

from vulntune.runs.run import TrainingRun

from ..evaluation.conftest import build_trained_run


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, tiny_config) -> TrainingRun:
    return build_trained_run(tmp_path_factory.mktemp("evaluate-cli"), tiny_config)


def test_evaluate_prints_results_as_json_with_the_documented_keys(cli, trained_run):
    done = cli.ok("evaluate", trained_run.dir, "--no-progress", "--json", "--limit", "2",
                  timeout=400)  # fmt: skip
    results = cli.json(done)
    for name in ("base", "stage1", "final"):
        analysis = results["models"][name]["analysis"]
        assert {"parse_rate", "cwe_accuracy", "severity_accuracy", "category_accuracy"} <= set(
            analysis
        )
        codefix = results["models"][name]["codefix"]
        assert {"diff_parse_rate", "applies_rate", "exact_match"} <= set(codefix)
    assert "retention" in results and results["counts"] == {"analysis": 2, "codefix": 2}
    assert f"report: {trained_run.dir / 'report.html'}" in done.stderr
    assert "analysis.cwe_accuracy" in done.stderr  # the table went to stderr


def test_evaluating_an_untrained_run_is_one_error_line(cli, tmp_path, tiny_config_file):
    done = cli.ok("runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path,
                  "--config", tiny_config_file)  # fmt: skip
    run_dir = done.stdout.splitlines()[-1]
    stderr = cli.error("evaluate", run_dir, "--no-progress")
    assert "stage 1 is not complete" in stderr and f"vulntune train {run_dir}" in stderr


def test_limit_must_be_positive(cli, tmp_path):
    message = cli.usage_error("evaluate", tmp_path, "--limit", "0")
    assert "Invalid value for '--limit'" in message
