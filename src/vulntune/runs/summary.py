"""A JSON-ready summary of a run for `vulntune runs list/show` and other programs."""

from __future__ import annotations

from typing import Any

from vulntune.runs.run import TrainingRun


def stage_summary(run: TrainingRun, stage: int) -> dict[str, Any]:
    """Status read from the artifacts, plus the headline numbers when the stage is done."""
    status = run.stage_status(stage)
    checkpoints = run.stage1.checkpoints if stage == 1 else run.stage2.checkpoints
    if status.complete:
        state = "complete"
    elif any(checkpoints.glob("step-*")):
        state = "interrupted"  # resumable from its last checkpoint
    elif checkpoints.parent.exists():
        state = "started"
    else:
        state = "not started"
    summary: dict[str, Any] = {"state": state}
    if not status.complete and state != "not started":
        summary["problems"] = status.problems
    evaluation = run.read_evaluation(stage) if status.complete else None
    if evaluation:
        summary["steps"] = evaluation.get("steps")
        summary["final_train_loss"] = evaluation.get("final_train_loss")
        summary["validation"] = evaluation.get("evaluation", {})
    return summary


def run_summary(run: TrainingRun) -> dict[str, Any]:
    """Identity, base model, settings, every artifact path and each stage's state."""
    m = run.manifest
    return {
        "run_id": m.run_id,
        "dir": str(run.dir),
        "created_at": m.created_at,
        "base_model": m.base_model.model_dump(),
        "semantics": m.semantics.model_dump(),
        "has_data": run.has_data(),
        "stages": {"stage1": stage_summary(run, 1), "stage2": stage_summary(run, 2)},
        "artifacts": {
            name: {"path": rel, "exists": (run.dir / rel).exists()}
            for name, rel in m.artifact_paths().items()
        },
        "inference_model": m.inference.model,
    }
