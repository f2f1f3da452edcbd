"""Stage runners: check prerequisites, skip finished stages, build the job, train.

Each runner follows the same plain lifecycle: (1) decide from the artifacts whether the stage
is already done, (2) check every prerequisite *before* doing or creating anything, (3) prepare
the stage's inputs, (4) hand a fully specified job to the backend.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vulntune.datasets.examples import Example, examples_to_jsonl, read_examples
from vulntune.datasets.replay import mix_replay
from vulntune.errors import VulntuneError
from vulntune.io.atomic import atomic_write_json, atomic_write_text, remove_stale_temporaries
from vulntune.models.cache import default_cache_dir, model_content_hash
from vulntune.runs.base_model import base_model_dir
from vulntune.runs.run import TrainingRun
from vulntune.training.distributed import DistContext
from vulntune.training.job import StageJob, StageResult, TrainingBackend


class PrerequisiteError(VulntuneError):
    """A stage cannot start because something it needs is missing or invalid."""


def _rel(run: TrainingRun, path: Path) -> str:
    return path.relative_to(run.dir).as_posix()


def _require_data(run: TrainingRun, paths: list[Path], stage: int) -> None:
    for path in paths:
        if not path.is_file():
            raise PrerequisiteError(
                f"stage {stage} of run {run.id} needs {_rel(run, path)}, which does not exist; "
                "create the run with data (`vulntune runs create --base-model M "
                "--analysis-data A.jsonl --codefix-data B.jsonl`)"
            )


def check_stage1_prerequisites(run: TrainingRun) -> None:
    """Raise PrerequisiteError unless Stage 1 can start. Reads only; creates nothing."""
    run.check_paths()
    _require_data(run, [run.stage1.train_data, run.stage1.validation_data], 1)


def check_stage2_prerequisites(run: TrainingRun) -> None:
    """Raise PrerequisiteError unless Stage 2 can start. Reads only; creates nothing."""
    run.check_paths()
    status = run.stage_status(1)
    if not status.complete:
        raise PrerequisiteError(
            f"stage 2 of run {run.id} needs the Stage-1 artifacts, which are missing or invalid: "
            f"{status.problems[0]}; run `vulntune train {run.dir} --stage 1` first"
        )
    s1, s2 = run.stage1, run.stage2
    _require_data(
        run, [s1.train_data, s1.validation_data, s2.codefix_dataset, s2.validation_data], 2
    )


def _prepare_stage_dir(checkpoints: Path, dist: DistContext, barrier: bool = True) -> None:
    """Create the stage's directories (the stage starts now) and sweep crash leftovers."""
    if dist.is_main:
        checkpoints.mkdir(parents=True, exist_ok=True)
        for directory in (checkpoints.parent, checkpoints):
            remove_stale_temporaries(directory)
    if barrier:
        dist.barrier()


def run_stage1(
    run: TrainingRun, backend: TrainingBackend, dist: DistContext, say: Callable[[str], None]
) -> StageResult | None:
    """Train Stage 1 (analysis). Returns None when its artifacts already validate."""
    if run.is_complete(1):
        say("stage1: artifacts present and valid, skipping")
        return None
    files = run.stage1
    check_stage1_prerequisites(run)
    model_dir = base_model_dir(run)
    _prepare_stage_dir(files.checkpoints, dist)
    job = StageJob(
        name="stage1",
        model_dir=model_dir,
        model_identity=run.manifest.base_model.content_hash,
        init_adapter=None,
        train=read_examples(files.train_data),
        evaluations={"validation": read_examples_allow_empty(files.validation_data)},
        settings=run.manifest.config.stage1,
        config=run.manifest.config,
        prompt_format=run.manifest.semantics.prompt_format,
        checkpoints_dir=files.checkpoints,
        adapter_dir=files.adapter,
        model_out_dir=files.merged_model,
        metrics_path=files.metrics,
        evaluation_path=files.evaluation,
    )
    return backend.train_stage(job)


def read_examples_allow_empty(path: Path) -> list[Example]:
    """Validation files may legitimately be empty (validation_fraction = 0)."""
    if path.stat().st_size == 0:
        return []
    return read_examples(path)


def run_stage2(
    run: TrainingRun, backend: TrainingBackend, dist: DistContext, say: Callable[[str], None]
) -> StageResult | None:
    """Train Stage 2 (code fixes) on top of Stage 1. Returns None when already complete."""
    if run.is_complete(2):
        say("stage2: artifacts present and valid, skipping")
        return None
    # Prerequisites first: nothing is created unless all of them hold.
    check_stage2_prerequisites(run)
    s1, s2 = run.stage1, run.stage2
    cfg = run.manifest.config
    merge = cfg.stage2.mode == "merge"
    model_dir = s1.merged_model if merge else base_model_dir(run)

    _prepare_stage_dir(s2.checkpoints, dist, barrier=False)
    if dist.is_main and not (s2.mixed_dataset.is_file() and s2.replay_record.is_file()):
        mixed, record = mix_replay(
            read_examples(s2.codefix_dataset),
            read_examples(s1.train_data),
            cfg.stage2.replay_ratio,
            cfg.data_seed,
        )
        atomic_write_text(s2.mixed_dataset, examples_to_jsonl(mixed))
        atomic_write_json(s2.replay_record, record.to_dict())
    dist.barrier()

    stage1_eval = run.read_evaluation(1) or {}
    before = stage1_eval.get("evaluation", {}).get("validation", {}).get("loss")
    job = StageJob(
        name="stage2",
        model_dir=model_dir,
        model_identity=(
            model_content_hash(model_dir, default_cache_dir())
            if merge
            else run.manifest.base_model.content_hash
        ),
        init_adapter=None if merge else s1.adapter,
        train=read_examples(s2.mixed_dataset),
        evaluations={
            "validation": read_examples_allow_empty(s2.validation_data),
            # Retention: the Stage-1 validation set scored again after Stage 2.
            "stage1_validation": read_examples_allow_empty(s1.validation_data),
        },
        settings=cfg.stage2,
        config=cfg,
        prompt_format=run.manifest.semantics.prompt_format,
        checkpoints_dir=s2.checkpoints,
        adapter_dir=s2.adapter,
        model_out_dir=s2.final_model,
        metrics_path=s2.metrics,
        evaluation_path=s2.evaluation,
        evaluation_extra={"mode": cfg.stage2.mode, "stage1_validation_loss_before": before},
    )
    return backend.train_stage(job)
