"""TrainingRun: one run directory, its validated manifest, typed paths and artifact status."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vulntune.conversation import Example
from vulntune.datasets.examples import (
    DataFormatError,
    example_from_obj,
    examples_to_jsonl,
    split_examples,
)
from vulntune.io.atomic import atomic_dir, atomic_write_text
from vulntune.runs.artifacts import (
    ArtifactError,
    read_json_object,
    validate_adapter_dir,
    validate_model_dir,
)
from vulntune.runs.manifest import (
    MANIFEST_NAME,
    ManifestError,
    RunManifest,
    StageNumber,
    parse_manifest,
)


@dataclass(frozen=True)
class Stage1Files:
    train_data: Path
    validation_data: Path
    test_data: Path | None  # None in schema-1 runs
    checkpoints: Path
    adapter: Path
    merged_model: Path
    metrics: Path
    evaluation: Path


@dataclass(frozen=True)
class Stage2Files:
    codefix_dataset: Path
    mixed_dataset: Path
    replay_record: Path
    validation_data: Path
    test_data: Path | None  # None in schema-1 runs
    checkpoints: Path
    adapter: Path
    final_model: Path
    metrics: Path
    evaluation: Path


@dataclass(frozen=True)
class EvaluationFiles:
    """Where `vulntune evaluate` publishes its results, per-model predictions and the report."""

    results: Path
    predictions: dict[str, Path]  # "base" | "stage1" | "final" -> predictions JSONL
    report: Path


@dataclass(frozen=True)
class StageStatus:
    """Whether a stage's artifacts exist and validate; ``problems`` says why not."""

    stage: StageNumber
    complete: bool
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DataCounts:
    """How many examples each split of a run's data holds."""

    stage1_train: int
    stage1_validation: int
    stage2_train: int
    stage2_validation: int
    stage1_test: int = 0
    stage2_test: int = 0


def _check_stage(stage: int) -> StageNumber:
    if stage == 1 or stage == 2:
        return stage
    raise ValueError(f"stage must be 1 or 2, got {stage!r}")


class TrainingRun:
    """A run directory governed by its manifest. Load with :meth:`load`."""

    def __init__(self, run_dir: Path, manifest: RunManifest) -> None:
        self.dir = run_dir
        self.manifest = manifest
        self.check_paths()
        s1, s2 = manifest.stages.stage1, manifest.stages.stage2
        self.stage1 = Stage1Files(
            train_data=self.path(s1.train_data),
            validation_data=self.path(s1.validation_data),
            test_data=self._optional_path(s1.test_data),
            checkpoints=self.path(s1.checkpoints),
            adapter=self.path(s1.adapter),
            merged_model=self.path(s1.merged_model),
            metrics=self.path(s1.metrics),
            evaluation=self.path(s1.evaluation),
        )
        self.stage2 = Stage2Files(
            codefix_dataset=self.path(s2.train_data.codefix_dataset),
            mixed_dataset=self.path(s2.train_data.mixed_dataset),
            replay_record=self.path(s2.replay_record),
            validation_data=self.path(s2.validation_data),
            test_data=self._optional_path(s2.test_data),
            checkpoints=self.path(s2.checkpoints),
            adapter=self.path(s2.adapter),
            final_model=self.path(s2.final_model),
            metrics=self.path(s2.metrics),
            evaluation=self.path(s2.evaluation),
        )
        ev = manifest.evaluation
        self.evaluation = EvaluationFiles(
            results=self.path(ev.results),
            predictions={
                name: self.path(getattr(ev.predictions, name))
                for name in ("base", "stage1", "final")
            },
            report=self.path(ev.report),
        )
        self.data_stats = self.path(manifest.data_stats)

    def _optional_path(self, rel: str | None) -> Path | None:
        return None if rel is None else self.path(rel)

    @classmethod
    def load(cls, run_dir: Path) -> TrainingRun:
        """Read and validate ``run_dir/run-manifest.json``."""
        run_dir = Path(run_dir).resolve()
        manifest_path = run_dir / MANIFEST_NAME
        try:
            text = manifest_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ManifestError(
                f"{run_dir}: not a vulntune run (no {MANIFEST_NAME}); "
                "create one with `vulntune runs create`"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(f"{manifest_path}: unreadable: {exc}") from None
        return cls(run_dir, parse_manifest(text, manifest_path))

    @property
    def id(self) -> str:
        return self.manifest.run_id

    @property
    def manifest_path(self) -> Path:
        return self.dir / MANIFEST_NAME

    def check_paths(self) -> None:
        """Refuse the run if any artifact path now resolves outside it (a symlink escapes).

        Stages call this again when they start, because the typed paths are computed once.
        """
        for name, rel in self.manifest.artifact_paths().items():
            self.path(rel, what=name)

    def similar_findings(self) -> int:
        """How many similar training findings the run's analysis prompts carry (the dataset's
        ``similar`` setting in ``data_stats``; 0 when the run has no stats or the setting)."""
        if not self.data_stats.is_file():
            return 0
        try:
            stats = json.loads(self.data_stats.read_text(encoding="utf-8"))
            value = stats.get("settings", {}).get("similar", 0)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
            raise ManifestError(f"{self.data_stats}: not a dataset's stats ({exc})") from exc
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ManifestError(
                f"{self.data_stats}: settings.similar must be a count, not {value!r}"
            )
        return value

    def path(self, rel: str, what: str | None = None) -> Path:
        """Absolute path of a manifest-relative path, refusing anything outside the run.

        Symlinks are followed (for the parts that exist), so a link pointing out of the run
        directory is refused here, at every use, not only when the manifest is loaded.
        """
        candidate = self.dir / rel
        resolved = candidate.resolve()
        if not resolved.is_relative_to(self.dir):
            label = f" ({what})" if what else ""
            raise ManifestError(
                f"{self.manifest_path}: artifact path {rel!r}{label} resolves to {resolved}, "
                f"outside the run directory (a symlink escapes it)"
            )
        return candidate

    # -- data ---------------------------------------------------------------------------

    def has_data(self) -> bool:
        files = (self.stage1.train_data, self.stage1.validation_data)
        files += (self.stage2.codefix_dataset, self.stage2.validation_data)
        return all(p.is_file() for p in files)

    def import_data(self, analysis: list[Example], codefix: list[Example]) -> DataCounts:
        """Split the stage datasets (seeded) and publish them at the manifest's data paths.

        Refuses to replace data that a run already has: a run's data is part of what makes
        it reproducible.
        """
        targets = (
            self.stage1.train_data,
            self.stage1.validation_data,
            self.stage2.codefix_dataset,
            self.stage2.validation_data,
        )
        present = [str(p.relative_to(self.dir)) for p in targets if p.exists()]
        if present:
            raise ManifestError(
                f"{self.dir}: the run already has data ({', '.join(present)}); "
                "create a new run for new data"
            )
        cfg = self.manifest.config
        a_train, a_val = split_examples(analysis, cfg.data.validation_fraction, cfg.data_seed)
        c_train, c_val = split_examples(codefix, cfg.data.validation_fraction, cfg.data_seed)
        contents = [examples_to_jsonl(e) for e in (a_train, a_val, c_train, c_val)]
        parents = {p.parent for p in targets}
        if len(parents) == 1 and (folder := parents.pop()) != self.dir and not folder.exists():
            # All four appear together or not at all (the usual layout: one data/ folder).
            with atomic_dir(folder) as tmp:
                for path, text in zip(targets, contents, strict=True):
                    (tmp / path.name).write_text(text, encoding="utf-8")
        else:
            for path, text in zip(targets, contents, strict=True):
                atomic_write_text(path, text)
        return DataCounts(len(a_train), len(a_val), len(c_train), len(c_val))

    def import_dataset(self, dataset_dir: Path) -> DataCounts:
        """Use a folder written by ``vulntune datasets`` as the run's data: its train,
        validation and test splits of both stages go to the manifest's data paths as they
        are (the test splits are kept for evaluation), its ``stats.json`` to ``data_stats``.

        Every file is validated first (a bad line fails with file and line, and nothing is
        written); train and validation must hold examples, test may be empty."""
        from vulntune.datasets.build import STATS_FILE

        check_dataset_dir(dataset_dir)
        targets = {
            ("analysis", "train"): self.stage1.train_data,
            ("analysis", "validation"): self.stage1.validation_data,
            ("analysis", "test"): self.stage1.test_data,
            ("codefix", "train"): self.stage2.codefix_dataset,
            ("codefix", "validation"): self.stage2.validation_data,
            ("codefix", "test"): self.stage2.test_data,
        }
        present = [str(p.relative_to(self.dir)) for p in targets.values() if p and p.exists()]
        if present:
            raise ManifestError(
                f"{self.dir}: the run already has data ({', '.join(present)}); "
                "create a new run for new data"
            )
        texts: dict[Path, str] = {}
        counts: dict[tuple[str, str], int] = {}
        for (task, split), target in targets.items():
            text, count = _read_dataset_file(
                dataset_dir / f"{task}-{split}.jsonl", required=split != "test"
            )
            counts[(task, split)] = count
            if target is None:
                raise ManifestError(f"{self.dir}: a schema-1 run has no test data paths")
            texts[target] = text
        stats_path = dataset_dir / STATS_FILE
        if stats_path.is_file():
            texts[self.data_stats] = stats_path.read_text(encoding="utf-8")
        for path, text in texts.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, text)
        return DataCounts(
            counts[("analysis", "train")],
            counts[("analysis", "validation")],
            counts[("codefix", "train")],
            counts[("codefix", "validation")],
            counts[("analysis", "test")],
            counts[("codefix", "test")],
        )

    # -- status -------------------------------------------------------------------------

    def checkpoints_dir(self, stage: StageNumber) -> Path:
        """Where ``stage`` keeps its resumable trainer state."""
        return (self.stage1.checkpoints, self.stage2.checkpoints)[_check_stage(stage) - 1]

    def evaluation_path(self, stage: StageNumber) -> Path:
        """The record whose presence ends ``stage``."""
        return (self.stage1.evaluation, self.stage2.evaluation)[_check_stage(stage) - 1]

    def stage_status(self, stage: StageNumber) -> StageStatus:
        """Decide from the artifacts alone whether ``stage`` (1 or 2) finished."""
        if _check_stage(stage) == 1:
            model, adapter = self.stage1.merged_model, self.stage1.adapter
            files = [self.stage1.metrics]
        else:
            model, adapter = self.stage2.final_model, self.stage2.adapter
            files = [self.stage2.metrics, self.stage2.mixed_dataset, self.stage2.replay_record]
        evaluation = self.evaluation_path(stage)
        problems: list[str] = []
        try:
            # The merged model has the base model's shapes, so it can check the adapter even
            # on a machine where the base model itself is not cached.
            shapes = validate_model_dir(model)
            validate_adapter_dir(adapter, shapes)
            read_json_object(evaluation)
        except ArtifactError as exc:
            problems.append(str(exc))
        problems += [f"{p}: missing" for p in files if not p.is_file()]
        return StageStatus(stage, not problems, problems)

    def is_complete(self, stage: StageNumber) -> bool:
        return self.stage_status(stage).complete

    def read_evaluation(self, stage: StageNumber) -> dict[str, Any] | None:
        """The stage's evaluation record (JSON), or None when it has not published one."""
        path = self.evaluation_path(stage)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None


def check_dataset_dir(dataset_dir: Path) -> None:
    """Validate every split file of a ``vulntune datasets`` folder (raises DataFormatError
    naming the file and line); used before a run is created, so bad data leaves no run."""
    for task in ("analysis", "codefix"):
        for split in ("train", "validation", "test"):
            _read_dataset_file(dataset_dir / f"{task}-{split}.jsonl", required=split != "test")


def _read_dataset_file(path: Path, *, required: bool) -> tuple[str, int]:
    """The text of a dataset split file and its number of examples, each line checked."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFormatError(
            f"{path}: no such file; is {path.parent} a folder written by `vulntune datasets`?"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{path}: cannot read: {exc}") from None
    count = 0
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            example_from_obj(json.loads(line))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            raise DataFormatError(f"{path}:{lineno}: {exc}") from None
        count += 1
    if required and count == 0:
        raise DataFormatError(
            f"{path}: holds no examples; a run needs train and validation examples of both "
            "stages (build the dataset from more findings, or change its split fractions)"
        )
    return text, count
