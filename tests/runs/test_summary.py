"""What `runs list/show` report: a stage's state read from its artifacts and the run's lock."""

from __future__ import annotations

import pytest

from vulntune.io.lock import RunLock
from vulntune.runs.manager import TrainingRunManager
from vulntune.runs.summary import StageSummary, run_summary, stage_summary


@pytest.fixture
def run(tmp_path, tiny_config):
    return TrainingRunManager(tmp_path / "runs").create_run("tiny-random", tiny_config)


def test_a_fresh_run_has_not_started(run):
    assert stage_summary(run, 1) == StageSummary("not started")
    assert stage_summary(run, 1).to_dict() == {"state": "not started"}


def test_a_started_stage_without_checkpoints(run):
    run.stage1.checkpoints.mkdir(parents=True)
    summary = stage_summary(run, 1)
    assert summary.state == "started"
    assert (
        summary.problems and "stage1/merged-model: missing model directory" in (summary.problems[0])
    )


def test_a_stage_with_a_checkpoint_and_no_owner_is_interrupted(run):
    (run.stage1.checkpoints / "step-00000003").mkdir(parents=True)
    assert stage_summary(run, 1).state == "interrupted"


def test_a_stage_whose_run_lock_is_held_is_training(run):
    (run.stage1.checkpoints / "step-00000003").mkdir(parents=True)
    with RunLock(run.dir):
        assert stage_summary(run, 1) == StageSummary("training")
        assert stage_summary(run, 1).to_dict() == {"state": "training"}
        assert stage_summary(run, 2).state == "not started"  # its directory does not exist
        assert run_summary(run).stages["stage1"].state == "training"
    assert stage_summary(run, 1).state == "interrupted"


def test_the_stage_helpers_refuse_a_third_stage(run):
    for method in (run.stage_status, run.checkpoints_dir, run.evaluation_path):
        with pytest.raises(ValueError, match="stage must be 1 or 2, got 3"):
            method(3)


def test_run_summary_json_keys(run):
    data = run_summary(run).to_dict()
    assert list(data) == [
        "run_id", "dir", "created_at", "base_model", "semantics", "has_data", "stages",
        "artifacts", "inference_model",
    ]  # fmt: skip
    assert data["base_model"]["kind"] == "builtin"
    assert data["semantics"]["prompt_format"] == "fallback-v1"
    assert data["stages"] == {
        "stage1": {"state": "not started"},
        "stage2": {"state": "not started"},
    }
    assert data["artifacts"]["stage2.final_model"] == {
        "path": "stage2/final-model",
        "exists": False,
    }
