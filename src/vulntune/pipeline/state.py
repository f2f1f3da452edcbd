"""The pipeline's own record in a run: what `vulntune run` was given and which steps are done.

The run manifest is written once, before training, and never changes; the pipeline's progress
therefore lives in its own file, ``pipeline/state.json`` in the run, rewritten atomically (via
:mod:`vulntune.io.atomic`) after every step, so a crash leaves the previous complete state.
``vulntune run --resume RUN`` reads it and continues with the first step not done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from vulntune.errors import VulntuneError
from vulntune.io.atomic import atomic_write_text

PIPELINE_DIR = "pipeline"  # inside the run directory
STATE_NAME = "state.json"
PROGRESS_NAME = "progress.jsonl"
FINDINGS_NAME = "findings.jsonl"
DATASET_DIR = "dataset"

# The steps of the pipeline, in order. The first three happen before and while the run is
# created; the state file appears with the run, so they are done in every state file.
Step = Literal["ingest", "datasets", "create", "stage1", "stage2", "evaluate", "report"]
STEPS: tuple[Step, ...] = ("ingest", "datasets", "create", "stage1", "stage2", "evaluate", "report")


class PipelineStateError(VulntuneError):
    """A run whose pipeline state is missing or unreadable."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportRecord(_Strict):
    """One report input as the pipeline used it."""

    path: str
    revision: str | None = None
    commit: str | None = None


class PipelineState(_Strict):
    """``pipeline/state.json``: the inputs and options of the run, and the steps done."""

    version: Literal[1] = 1
    reports: list[ReportRecord]
    source_root: str | None
    pairs: list[str] = []
    base_model: str
    # The pipeline's own settings (catalogue cap, generation length, ...), as resolved.
    settings: dict[str, Any] = {}
    done: list[Step] = []

    def is_done(self, step: Step) -> bool:
        return step in self.done

    def with_done(self, step: Step) -> PipelineState:
        """This state with ``step`` marked done (steps stay in pipeline order)."""
        done = set(self.done) | {step}
        return self.model_copy(update={"done": [s for s in STEPS if s in done]})

    def next_step(self) -> Step | None:
        """The first step not done, or None when the pipeline is complete."""
        return next((s for s in STEPS if s not in self.done), None)


def pipeline_dir(run_dir: Path) -> Path:
    return run_dir / PIPELINE_DIR


def state_path(run_dir: Path) -> Path:
    return pipeline_dir(run_dir) / STATE_NAME


def write_state(folder: Path, state: PipelineState) -> None:
    """Publish ``state`` as ``folder/state.json`` atomically."""
    atomic_write_text(folder / STATE_NAME, state.model_dump_json(indent=2) + "\n")


def read_state(run_dir: Path) -> PipelineState:
    """The pipeline state of the run at ``run_dir``; refuses a run `vulntune run` did not make."""
    path = state_path(run_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineStateError(
            f"{run_dir}: no {PIPELINE_DIR}/{STATE_NAME}, so `vulntune run` did not create this "
            f"run (or it stopped before the run was complete); continue it with "
            f"`vulntune train {run_dir}` and `vulntune evaluate {run_dir}`"
        ) from None
    except OSError as exc:
        raise PipelineStateError(f"{path}: unreadable: {exc.strerror}") from None
    try:
        return PipelineState.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise PipelineStateError(
            f"{path}: not a valid pipeline state ({where}: {first['msg']})"
        ) from None
