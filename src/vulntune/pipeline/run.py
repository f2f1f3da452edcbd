"""`vulntune run`: scanner reports in, a trained and evaluated run with its report out.

Steps, in order (:data:`~vulntune.pipeline.state.STEPS`): ingest -> datasets -> create ->
stage1 -> stage2 -> evaluate -> report. Ingest and datasets work in a hidden folder of the
runs directory; a bad input stops them before any run exists. ``create`` makes the run (its
manifest written once, complete), moves that folder into the run as ``pipeline/`` (findings,
dataset, ``progress.jsonl``) with ``pipeline/state.json``, and imports the dataset. From then on
every finished step is recorded in the state file before the next starts, so
:func:`resume_pipeline` continues a run that stopped anywhere: between steps, inside a stage
(the trainer resumes from its checkpoint), after training and before evaluation.

Test hook (for tests that kill the pipeline at a step boundary, not for users): with
``VULNTUNE_PIPELINE_STOP_AFTER=<step>`` in the environment the process kills itself with
SIGKILL right after recording that step as done.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vulntune.pipeline import components
from vulntune.pipeline.ingest_step import ingest_reports
from vulntune.pipeline.inputs import ReportInput, is_git_repository
from vulntune.pipeline.progress import PipelineProgress, ProgressLog, TrainingWatcher
from vulntune.pipeline.settings import PipelineSettings, RunConfiguration
from vulntune.pipeline.state import (
    DATASET_DIR,
    FINDINGS_NAME,
    PIPELINE_DIR,
    PROGRESS_NAME,
    PipelineState,
    ReportRecord,
    Step,
    pipeline_dir,
    read_state,
    write_state,
)
from vulntune.runs.manager import TrainingRunManager
from vulntune.runs.manifest import StageNumber
from vulntune.runs.run import TrainingRun

STOP_AFTER_ENV = "VULNTUNE_PIPELINE_STOP_AFTER"
_TRAINING_STEPS: tuple[tuple[StageNumber, Step], ...] = ((1, "stage1"), (2, "stage2"))


@dataclass(frozen=True)
class RunRequest:
    """Everything `vulntune run` was asked to do."""

    reports: list[ReportInput]
    source_root: Path | None
    base_model: str
    configuration: RunConfiguration
    pairs: tuple[Path, ...] = ()
    runs_dir: Path | None = None


@dataclass(frozen=True)
class PipelineResult:
    """A finished pipeline: the run, its report and evaluation results."""

    run: TrainingRun
    report: Path
    results: dict[str, Any] | None
    resumed: bool


def start_pipeline(request: RunRequest, progress_enabled: bool = True) -> PipelineResult:
    """Run the whole pipeline for ``request`` in a new run."""
    manager = TrainingRunManager(request.runs_dir)
    manager.runs_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".pipeline-", dir=manager.runs_dir))
    log = ProgressLog(work / PROGRESS_NAME)
    git_history = is_git_repository(request.source_root)
    state = PipelineState(
        reports=[
            ReportRecord(path=str(r.path.resolve()), revision=r.revision, commit=r.commit)
            for r in request.reports
        ],
        source_root=str(request.source_root.resolve()) if request.source_root else None,
        pairs=[str(p.resolve()) for p in request.pairs],
        base_model=request.base_model,
        settings=request.configuration.pipeline.model_dump(mode="json"),
    )
    try:
        with PipelineProgress(log, progress_enabled) as progress:
            with progress.step("ingest"):
                ingested = ingest_reports(
                    request.reports, request.source_root, work / FINDINGS_NAME
                )
                progress.say(
                    f"{ingested.findings} findings from {ingested.files} report file(s)"
                    + _revisions_note(ingested.revisions)
                )
            _stop_if_asked("ingest")
            with progress.step("datasets"):
                if request.source_root is not None and not git_history:
                    progress.say(
                        f"{request.source_root} is not a git repository: no fixes are mined "
                        "from history (other fix sources still count)"
                    )
                dataset = components.build_dataset(
                    work / FINDINGS_NAME,
                    request.source_root,
                    list(request.pairs),
                    request.base_model,
                    request.configuration.pipeline,
                    work / DATASET_DIR,
                )
                progress.say(_dataset_line(dataset))
            _stop_if_asked("datasets")
            with progress.step("create"):
                run = manager.create_run(request.base_model, request.configuration.training)
                state = state.with_done("ingest").with_done("datasets")
                write_state(work, state)
                os.replace(work, pipeline_dir(run.dir))  # same file system: one rename
                log.path = pipeline_dir(run.dir) / PROGRESS_NAME
                components.import_dataset(run, pipeline_dir(run.dir) / DATASET_DIR)
                progress.say(f"run {run.id} in {run.dir}")
            state = _record(run, state, "create")
            return _continue(run, state, progress, resumed=False)
    finally:
        if work.exists():  # stopped before the run took it over
            shutil.rmtree(work, ignore_errors=True)


def resume_pipeline(
    run_ref: str | Path, runs_dir: Path | None = None, progress_enabled: bool = True
) -> PipelineResult:
    """Continue the pipeline of an existing run from its first step not done."""
    run = TrainingRunManager(runs_dir).get(run_ref)
    state = read_state(run.dir)
    log = ProgressLog(pipeline_dir(run.dir) / PROGRESS_NAME)
    with PipelineProgress(log, progress_enabled) as progress:
        progress.skip_done(state.done)
        if state.next_step() is not None:
            progress.say(f"resuming run {run.id} at step {state.next_step()}")
        if not state.is_done("create"):
            with progress.step("create"):
                if not run.has_data():
                    components.import_dataset(run, pipeline_dir(run.dir) / DATASET_DIR)
            state = _record(run, state, "create")
        return _continue(run, state, progress, resumed=True)


def _continue(
    run: TrainingRun, state: PipelineState, progress: PipelineProgress, resumed: bool
) -> PipelineResult:
    settings = PipelineSettings.model_validate(state.settings)
    for stage, step in _TRAINING_STEPS:
        if state.is_done(step):
            continue
        with progress.step(step), _watch_training(run, stage, progress):
            components.train_stage(run, stage, progress.say)
        state = _record(run, state, step)
    if not state.is_done("evaluate"):
        with progress.step("evaluate"):
            components.evaluate(run, settings, progress.say)
        state = _record(run, state, "evaluate")
    if not state.is_done("report"):
        with progress.step("report"):
            components.write_report(run)
        state = _record(run, state, "report")
    return PipelineResult(run, run.evaluation.report, components.read_results(run), resumed)


def _record(run: TrainingRun, state: PipelineState, step: Step) -> PipelineState:
    state = state.with_done(step)
    write_state(run.dir / PIPELINE_DIR, state)
    _stop_if_asked(step)
    return state


def _stop_if_asked(step: Step) -> None:
    if os.environ.get(STOP_AFTER_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _watch_training(
    run: TrainingRun, stage: StageNumber, progress: PipelineProgress
) -> TrainingWatcher:
    from vulntune.training.metrics import LIVE_METRICS_NAME

    checkpoints = run.checkpoints_dir(stage)
    return TrainingWatcher(checkpoints / LIVE_METRICS_NAME, _planned_steps(run, stage), progress)


def _planned_steps(run: TrainingRun, stage: StageNumber) -> int:
    """About how many optimizer steps the stage takes (for the bar; the trainer decides)."""
    cfg = run.manifest.config
    settings = cfg.stage1 if stage == 1 else cfg.stage2
    data = run.stage1.train_data if stage == 1 else run.stage2.codefix_dataset
    try:
        examples = sum(1 for line in data.read_text(encoding="utf-8").splitlines() if line)
    except OSError:
        return 0
    if stage == 2 and cfg.stage2.replay_ratio < 1:
        examples = round(examples / (1 - cfg.stage2.replay_ratio))
    batches = -(-examples // settings.batch_size)
    total = -(-batches // settings.grad_accum_steps) * settings.epochs
    return min(total, settings.max_steps) if settings.max_steps else total


def _revisions_note(revisions: tuple[str, ...]) -> str:
    named = [r for r in revisions if r]
    return f" at {len(named)} revision(s): {', '.join(named)}" if named else ""


def _dataset_line(summary: components.DatasetSummary) -> str:
    return (
        f"dataset: stage 1 {summary.analysis_train} train / {summary.analysis_test} test, "
        f"stage 2 {summary.codefix_train} train / {summary.codefix_test} test"
    )
