"""`vulntune train`, run as a user runs it: usage errors, prerequisites, --json, the model path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vulntune.datasets.examples import read_examples
from vulntune.runs.run import TrainingRun


@pytest.fixture
def run_dir(cli, tmp_path, data, tiny_config_file) -> Path:
    done = cli.ok(
        "runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path,
        "--config", tiny_config_file, "--analysis-data", data[0], "--codefix-data", data[1],
    )  # fmt: skip
    return Path(done.stdout.splitlines()[-1])


def test_stage2_on_a_fresh_run_names_the_stage1_artifact(cli, run_dir):
    stderr = cli.error("train", run_dir, "--stage", "2", "--no-progress")
    assert "stage1/merged-model" in stderr and f"vulntune train {run_dir} --stage 1" in stderr
    assert sorted(p.name for p in run_dir.iterdir()) == ["config.json", "data", "run-manifest.json"]


@pytest.mark.parametrize("stage", ["3", "0", "both", ""])
def test_an_unknown_stage_is_a_usage_error(cli, tmp_path, stage):
    message = cli.usage_error("train", tmp_path / "no-such-run", "--stage", stage)
    assert "Usage: vulntune train [OPTIONS]" in message
    assert "Invalid value for '--stage'" in message
    assert f"'{stage}' is not one of '1', '2', 'all'" in message


def test_stage_by_stage_with_json_then_nothing_left_to_do(cli, run_dir):
    stage1 = cli.ok("train", run_dir, "--stage", "1", "--no-progress", timeout=240)
    assert stage1.stdout.splitlines() == ["stage1: 8 steps"]  # no model path: none exists yet
    assert not (run_dir / "stage2").exists()

    stage2 = cli.ok(
        "train", run_dir.name, "--runs-dir", run_dir.parent, "--no-progress", "--json",
        "--no-evaluate",
    )  # fmt: skip
    result = cli.json(stage2)
    final_model = run_dir / "stage2" / "final-model"
    assert result["run_id"] == run_dir.name and result["run_dir"] == str(run_dir)
    assert result["model"] == str(final_model) and final_model.is_dir()
    assert result["stages"]["stage1"] == {"trained": False}
    trained = result["stages"]["stage2"]
    assert (trained["trained"], trained["steps"], trained["resumed_from_step"]) == (True, 10, 0)
    assert trained["evaluation"] == json.loads((run_dir / "stage2" / "evaluation.json").read_text())
    # People's lines went to stderr: progress, and the summary the plain command prints.
    assert "stage2: 10 steps" in stage2.stderr and f"model: {final_model}" in stage2.stderr

    summary = cli.json(cli.ok("runs", "show", run_dir, "--json"))
    for stage in ("stage1", "stage2"):
        assert summary["stages"][stage]["state"] == "complete"
        assert summary["stages"][stage]["validation"]["validation"]["tokens"] > 0
    # Training makes every artifact but what evaluation and `vulntune datasets` make.
    missing = {name for name, info in summary["artifacts"].items() if not info["exists"]}
    assert missing == {
        "stage1.test_data", "stage2.test_data", "data_stats", "evaluation.results",
        "evaluation.predictions.base", "evaluation.predictions.stage1",
        "evaluation.predictions.final", "evaluation.report",
    }  # fmt: skip
    # Both files numbered their examples 0..15: the mix still has unique ids.
    replay = json.loads((run_dir / "stage2" / "replay.json").read_text())
    mixed = read_examples(run_dir / "stage2" / "mixed-train.jsonl")
    assert len(mixed) == 14 + replay["n_replayed"] == 19
    assert {e.id for e in mixed} >= {f"stage1:{i}" for i in replay["replayed_ids"]}

    again = cli.ok("train", run_dir, "--no-progress", "--no-evaluate")
    assert again.stdout.splitlines() == [
        "stage1: skipped (already complete)",
        "stage2: skipped (already complete)",
        f"model: {final_model}",
    ]
    assert TrainingRun.load(run_dir).is_complete(2)


def test_train_evaluates_the_run_once_both_stages_are_complete(cli, run_dir):
    done = cli.ok("train", run_dir, "--no-progress", "--json", timeout=400)
    result = cli.json(done)
    results_path = run_dir / "evaluation" / "results.json"
    assert result["evaluation"] == {
        "results": str(results_path),
        "report": str(run_dir / "report.html"),
    }
    results = json.loads(results_path.read_text())
    assert set(results["models"]) == {"base", "stage1", "final"}
    assert results["split"] == {"analysis": "validation", "codefix": "validation"}
    for name in ("base", "stage1", "final"):
        assert (run_dir / "evaluation" / f"predictions-{name}.jsonl").is_file()
    assert "retention (final / stage 1)" in done.stderr
    # Nothing trained and results present: a second call does not evaluate again.
    again = cli.ok("train", run_dir, "--no-progress")
    assert "report:" not in again.stdout
    assert (
        results_path.read_bytes() == json.dumps(results, indent=2, sort_keys=True).encode() + b"\n"
    )
