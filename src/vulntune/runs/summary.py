"""What `vulntune runs list/show` report about a run, as typed records with a JSON form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from vulntune.io.lock import lock_is_held
from vulntune.runs.manifest import STAGE_NAMES, BaseModelRecord, Semantics, StageNumber
from vulntune.runs.run import TrainingRun

# complete: its artifacts validate; training: a process holds the run's lock and the stage has
# started; interrupted: stopped with a checkpoint to resume from; started: stopped before its
# first checkpoint; not started: its directory does not exist yet.
StageState = Literal["complete", "training", "interrupted", "started", "not started"]


@dataclass(frozen=True)
class StageSummary:
    """A stage's state read from its artifacts, and its headline numbers once complete."""

    state: StageState
    problems: list[str] | None = None  # why an interrupted or started stage is not complete
    steps: int | None = None
    final_train_loss: float | None = None
    validation: dict[str, dict[str, float]] | None = None  # set name -> loss, tokens, examples

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``state`` always, the other keys only when they have a value."""
        data: dict[str, Any] = {"state": self.state}
        if self.problems is not None:
            data["problems"] = self.problems
        if self.validation is not None:
            data |= {
                "steps": self.steps,
                "final_train_loss": self.final_train_loss,
                "validation": self.validation,
            }
        return data


@dataclass(frozen=True)
class ArtifactSummary:
    path: str  # relative to the run directory, as the manifest lists it
    exists: bool


@dataclass(frozen=True)
class RunSummary:
    """Identity, base model, settings, every artifact path and each stage's state."""

    run_id: str
    dir: str
    created_at: str
    base_model: BaseModelRecord
    semantics: Semantics
    has_data: bool
    stages: dict[str, StageSummary]
    artifacts: dict[str, ArtifactSummary]
    inference_model: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form `vulntune runs show --json` prints."""
        return {
            "run_id": self.run_id,
            "dir": self.dir,
            "created_at": self.created_at,
            "base_model": self.base_model.model_dump(mode="json"),
            "semantics": self.semantics.model_dump(mode="json"),
            "has_data": self.has_data,
            "stages": {name: stage.to_dict() for name, stage in self.stages.items()},
            "artifacts": {
                name: {"path": a.path, "exists": a.exists} for name, a in self.artifacts.items()
            },
            "inference_model": self.inference_model,
        }


def stage_summary(
    run: TrainingRun, stage: StageNumber, training: bool | None = None
) -> StageSummary:
    """Status read from the artifacts, plus the headline numbers when the stage is done.

    ``training`` says whether the run's lock is held; None probes it (`lock_is_held`).
    """
    status = run.stage_status(stage)
    if status.complete:
        return _complete(run, stage)
    checkpoints = run.checkpoints_dir(stage)
    if not checkpoints.parent.exists():
        return StageSummary("not started")
    if training is None:
        training = lock_is_held(run.dir)
    if training:
        return StageSummary("training")
    started_or_interrupted: StageState = (
        "interrupted" if any(checkpoints.glob("step-*")) else "started"
    )
    return StageSummary(started_or_interrupted, problems=status.problems)


def _complete(run: TrainingRun, stage: StageNumber) -> StageSummary:
    evaluation = run.read_evaluation(stage)
    if not evaluation:
        return StageSummary("complete")
    return StageSummary(
        "complete",
        steps=evaluation.get("steps"),
        final_train_loss=evaluation.get("final_train_loss"),
        validation=evaluation.get("evaluation", {}),
    )


def run_summary(run: TrainingRun) -> RunSummary:
    """Everything `vulntune runs show` reports about ``run``."""
    m = run.manifest
    training = lock_is_held(run.dir)
    return RunSummary(
        run_id=m.run_id,
        dir=str(run.dir),
        created_at=m.created_at,
        base_model=m.base_model,
        semantics=m.semantics,
        has_data=run.has_data(),
        stages={STAGE_NAMES[n]: stage_summary(run, n, training) for n in (1, 2)},
        artifacts={
            name: ArtifactSummary(rel, (run.dir / rel).exists())
            for name, rel in m.artifact_paths().items()
        },
        inference_model=m.inference.model,
    )
