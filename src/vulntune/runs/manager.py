"""TrainingRunManager: creates runs (manifest first, complete) and finds existing ones."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vulntune import __version__
from vulntune.io.atomic import atomic_write_text, create_exclusive
from vulntune.models.prompt_format import prompt_format_for
from vulntune.models.resolve import ResolvedModel, resolve_model
from vulntune.runs.config import TrainingConfig
from vulntune.runs.manifest import (
    CONFIG_NAME,
    DEFAULT_DATA_STATS,
    MANIFEST_NAME,
    SCHEMA_VERSION,
    BaseModelRecord,
    InferenceRecord,
    ManifestError,
    RunManifest,
    Semantics,
    Stage1Paths,
    Stage2Paths,
    Stage2TrainData,
    StagePaths,
    default_evaluation_paths,
)
from vulntune.runs.run import TrainingRun

_LIBRARIES = (
    "torch",
    "transformers",
    "peft",
    "accelerate",
    "safetensors",
    "tokenizers",
    "pydantic",
)


def default_runs_dir() -> Path:
    """``$VULNTUNE_RUNS_DIR``, else ``./runs``."""
    return Path(os.environ.get("VULNTUNE_RUNS_DIR", "runs"))


def new_run_id(now: datetime | None = None) -> str:
    """Sortable timestamp plus a random suffix; uniqueness is enforced by an exclusive mkdir."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"


def library_versions() -> dict[str, str]:
    versions = {"vulntune": __version__, "python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def stage_paths() -> StagePaths:
    """The artifact layout of every run. Data lives in ``data/`` so that it can be placed at
    creation time without creating any stage directory."""
    return StagePaths(
        stage1=Stage1Paths(
            train_data="data/stage1-train.jsonl",
            validation_data="data/stage1-validation.jsonl",
            test_data="data/stage1-test.jsonl",
            checkpoints="stage1/checkpoints",
            adapter="stage1/adapter",
            merged_model="stage1/merged-model",
            metrics="stage1/metrics.jsonl",
            evaluation="stage1/evaluation.json",
        ),
        stage2=Stage2Paths(
            train_data=Stage2TrainData(
                codefix_dataset="data/stage2-codefix-train.jsonl",
                mixed_dataset="stage2/mixed-train.jsonl",
            ),
            replay_record="stage2/replay.json",
            validation_data="data/stage2-validation.jsonl",
            test_data="data/stage2-codefix-test.jsonl",
            checkpoints="stage2/checkpoints",
            adapter="stage2/adapter",
            final_model="stage2/final-model",
            metrics="stage2/metrics.jsonl",
            evaluation="stage2/evaluation.json",
        ),
    )


@dataclass
class RunListing:
    """One entry of :meth:`TrainingRunManager.list_runs`: a run, or why a directory is not one."""

    path: Path
    run: TrainingRun | None
    problem: str | None = None


class TrainingRunManager:
    """Creates and finds training runs under one runs directory."""

    def __init__(self, runs_dir: Path | None = None) -> None:
        self.runs_dir = Path(runs_dir) if runs_dir is not None else default_runs_dir()

    def create_run(
        self,
        base_model: str,
        config: TrainingConfig | None = None,
        *,
        resolved: ResolvedModel | None = None,
    ) -> TrainingRun:
        """Create a run directory with its complete manifest and resolved config, nothing else.

        The base model is resolved first (so its content hash can be pinned); the run id is
        reserved with an exclusive mkdir, so concurrent callers never share a run.
        """
        config = config or TrainingConfig()
        resolved = resolved or resolve_model(base_model)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        while True:
            run_id = new_run_id()
            run_dir = self.runs_dir / run_id
            try:
                run_dir.mkdir()
                break
            except FileExistsError:
                continue
        mode = config.stage2.mode
        manifest = RunManifest(
            schema_version=SCHEMA_VERSION,
            run_id=run_id,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            base_model=BaseModelRecord(
                spec=resolved.spec,
                kind=resolved.kind,
                path=str(resolved.path),
                content_hash=resolved.content_hash,
                revision=resolved.revision,
                source=resolved.source,
            ),
            config_file=CONFIG_NAME,
            config=config,
            seeds={"training": config.seed, "data": config.data_seed},
            versions=library_versions(),
            semantics=Semantics(
                prompt_format=prompt_format_for(resolved.path),
                stage2_mode=mode,
                stage2_adapter_base="stage1_merged_model" if mode == "merge" else "base_model",
                replay_ratio=config.stage2.replay_ratio,
            ),
            stages=stage_paths(),
            inference=InferenceRecord(model=stage_paths().stage2.final_model),
            data_stats=DEFAULT_DATA_STATS,
            evaluation=default_evaluation_paths(),
        )
        atomic_write_text(run_dir / CONFIG_NAME, config.model_dump_json(indent=2) + "\n")
        # The manifest goes last and exclusively: its presence means the run is fully created.
        create_exclusive(run_dir / MANIFEST_NAME, manifest.to_json().encode("utf-8"))
        return TrainingRun.load(run_dir)

    def get(self, run: str | Path) -> TrainingRun:
        """A run by directory path, or by id under the runs directory."""
        candidate = Path(run)
        if (candidate / MANIFEST_NAME).exists() or candidate.is_absolute():
            return TrainingRun.load(candidate)
        by_id = self.runs_dir / str(run)
        if by_id.is_dir():
            return TrainingRun.load(by_id)
        if candidate.is_dir():
            return TrainingRun.load(candidate)
        raise ManifestError(
            f"no run {str(run)!r}: not a run directory and not a run id under {self.runs_dir} "
            "(see `vulntune runs list`)"
        )

    def list_runs(self) -> list[RunListing]:
        """Every run directory under the runs directory, oldest first, broken ones included."""
        if not self.runs_dir.is_dir():
            return []
        listings = []
        for entry in sorted(self.runs_dir.iterdir()):
            if not entry.is_dir() or entry.name.startswith("."):
                continue
            try:
                listings.append(RunListing(entry, TrainingRun.load(entry)))
            except ManifestError as exc:
                listings.append(RunListing(entry, None, str(exc)))
        return listings
