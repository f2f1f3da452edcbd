"""The pipeline's progress: one display, and the same events as JSON lines."""

from __future__ import annotations

import json

import pytest

from vulntune.pipeline.progress import PipelineProgress, ProgressLog, TrainingWatcher


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_step_logs_start_updates_messages_and_done(tmp_path):
    log = ProgressLog(tmp_path / "progress.jsonl")
    with PipelineProgress(log, enabled=False) as progress, progress.step("ingest"):
        progress.update(3, 10, "files")
        progress.say("12 findings")
    events = [(r["step"], r["event"]) for r in _records(log.path)]
    assert events == [
        ("ingest", "start"),
        ("ingest", "update"),
        ("ingest", "message"),
        ("ingest", "done"),
        ("ingest", "message"),
    ]
    first, update, message, done, timing = _records(log.path)
    assert timing["text"].startswith("ingest reports: done in ")
    assert update["completed"] == 3 and update["total"] == 10 and update["detail"] == "files"
    assert message["text"] == "12 findings"
    assert done["elapsed_s"] >= 0 and first["time"].endswith("Z") is False  # ISO with offset
    assert "+00:00" in first["time"]


def test_a_failing_step_is_logged_as_failed_with_the_error_and_reraised(tmp_path):
    log = ProgressLog(tmp_path / "progress.jsonl")
    with (
        pytest.raises(ValueError, match="bad input"),
        PipelineProgress(log, enabled=False) as progress,
        progress.step("datasets"),
    ):
        raise ValueError("bad input")
    (start, failed) = _records(log.path)
    assert (start["event"], failed["event"], failed["error"]) == ("start", "failed", "bad input")


def test_the_log_can_move_into_the_run_when_it_exists(tmp_path):
    log = ProgressLog(tmp_path / "work" / "progress.jsonl")
    with PipelineProgress(log, enabled=False) as progress:
        with progress.step("ingest"):
            pass
        log.path = tmp_path / "run" / "progress.jsonl"
        with progress.step("create"):
            pass
    for folder, step in (("work", "ingest"), ("run", "create")):
        records = _records(tmp_path / folder / "progress.jsonl")
        assert {r["step"] for r in records} == {step}
        assert [r["event"] for r in records] == ["start", "done", "message"]


def test_the_training_watcher_reports_the_last_optimizer_step(tmp_path):
    live = tmp_path / "metrics.live.jsonl"
    lines = [
        {"type": "eval", "step": 0, "set": "validation", "loss": 3.0},
        {"type": "train", "step": 1, "loss": 2.5},
        {"type": "train", "step": 2, "loss": 2.25},
    ]
    live.write_text("".join(json.dumps(r) + "\n" for r in lines) + '{"type": "tr')
    log = ProgressLog(tmp_path / "progress.jsonl")
    with (
        PipelineProgress(log, enabled=False) as progress,
        progress.step("stage1"),
        TrainingWatcher(live, 8, progress),
    ):
        pass
    updates = [r for r in _records(log.path) if r["event"] == "update"]
    assert updates[-1] == {
        **updates[-1],
        "completed": 2,
        "total": 8,
        "detail": "step 2/8, loss 2.2500",
    }
