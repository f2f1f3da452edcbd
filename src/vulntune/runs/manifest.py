"""The run manifest: a contract written once, complete, when a run is created.

It lists every artifact the run will produce as a relative POSIX path inside the run
directory, and everything needed to reproduce the run. It has no status fields and is never
rewritten: whether a stage is done is read from the artifacts themselves.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from vulntune.errors import VulntuneError
from vulntune.models.prompt_format import PromptFormat
from vulntune.models.resolve import ModelKind
from vulntune.runs.config import Stage2Mode, TrainingConfig

MANIFEST_NAME = "run-manifest.json"
CONFIG_NAME = "config.json"
# Version 2 adds each stage's test split, the dataset statistics and the evaluation outputs.
SCHEMA_VERSION = 2
READABLE_SCHEMA_VERSIONS = (1, 2)

# The two stages, by number (as `vulntune train --stage` takes them) and by name (as the
# manifest, the artifact directories and the records name them).
StageNumber = Literal[1, 2]
StageName = Literal["stage1", "stage2"]
STAGE_NAMES: dict[StageNumber, StageName] = {1: "stage1", 2: "stage2"}


class ManifestError(VulntuneError):
    """A manifest that cannot be trusted: unreadable, unknown version, or unsafe paths."""


def _check_relative(value: str) -> str:
    if not value or "\\" in value or "\x00" in value:
        raise ValueError(f"{value!r} is not a relative POSIX path")
    if value.startswith("/") or (len(value) > 1 and value[1] == ":"):
        raise ValueError(f"{value!r} is absolute; artifact paths must be relative to the run")
    parts = PurePosixPath(value).parts
    if ".." in parts:
        raise ValueError(f"{value!r} contains '..'; artifact paths must stay inside the run")
    if any(p == "." for p in value.split("/")) or "//" in value or value.endswith("/"):
        raise ValueError(f"{value!r} is not a normalised relative path")
    return value


RelPath = Annotated[str, AfterValidator(_check_relative)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BaseModelRecord(_Frozen):
    """Which base model the run starts from, pinned by content."""

    spec: str  # what the user asked for, e.g. "smollm2-135m"
    kind: ModelKind
    path: str  # where the model was resolved on the machine that created the run
    content_hash: str
    revision: str | None = None
    source: str | None = None


class Stage1Paths(_Frozen):
    train_data: RelPath
    validation_data: RelPath
    test_data: RelPath | None = None  # held out for evaluation; None in schema-1 runs
    checkpoints: RelPath  # resumable training state; never read as a result
    adapter: RelPath
    merged_model: RelPath  # base + Stage-1 adapter, merged
    metrics: RelPath
    evaluation: RelPath


class Stage2TrainData(_Frozen):
    codefix_dataset: RelPath  # the pure code-fix training set
    mixed_dataset: RelPath  # code-fix + replayed Stage-1 examples: what Stage 2 trains on


class Stage2Paths(_Frozen):
    train_data: Stage2TrainData
    replay_record: RelPath  # ids of the replayed Stage-1 examples, seed, ratio
    validation_data: RelPath
    test_data: RelPath | None = None  # code-fix test split; None in schema-1 runs
    checkpoints: RelPath
    adapter: RelPath
    final_model: RelPath
    metrics: RelPath
    evaluation: RelPath


class StagePaths(_Frozen):
    stage1: Stage1Paths
    stage2: Stage2Paths


class Semantics(_Frozen):
    """What training means in this run, said precisely."""

    loss: Literal["completion_tokens_only"] = "completion_tokens_only"
    prompt_format: PromptFormat
    stage2_mode: Stage2Mode
    # merge: Stage 2 trains a fresh adapter on stage1.merged_model;
    # continue: Stage 2 keeps training the Stage-1 adapter on the base model.
    stage2_adapter_base: Literal["stage1_merged_model", "base_model"]
    replay_ratio: float
    replay_sampling: Literal["without_replacement_seeded"] = "without_replacement_seeded"


class PredictionPaths(_Frozen):
    """One predictions JSONL per evaluated model."""

    base: RelPath
    stage1: RelPath
    final: RelPath


class EvaluationPaths(_Frozen):
    """What `vulntune evaluate` writes: metrics of every model, their predictions, the report.

    Schema-1 manifests do not list these; such runs get :func:`default_evaluation_paths`,
    the same places a schema-2 run uses (``evaluation/`` and ``report.html`` in the run).
    """

    results: RelPath
    predictions: PredictionPaths
    report: RelPath


def default_evaluation_paths() -> EvaluationPaths:
    """The evaluation layout of every run (and the documented place for schema-1 runs)."""
    return EvaluationPaths(
        results="evaluation/results.json",
        predictions=PredictionPaths(
            base="evaluation/predictions-base.jsonl",
            stage1="evaluation/predictions-stage1.jsonl",
            final="evaluation/predictions-final.jsonl",
        ),
        report="report.html",
    )


DEFAULT_DATA_STATS = "data/stats.json"


class InferenceRecord(_Frozen):
    """Which weights to load to use the trained model."""

    model: RelPath  # a complete merged model (AutoModelForCausalLM.from_pretrained)


class RunManifest(_Frozen):
    schema_version: Literal[1, 2]
    run_id: str
    created_at: str  # ISO 8601, UTC
    base_model: BaseModelRecord
    config_file: RelPath
    config: TrainingConfig
    seeds: dict[str, int]
    versions: dict[str, str]
    semantics: Semantics
    stages: StagePaths
    inference: InferenceRecord
    # Schema 2: the statistics of the dataset the run was created from (when it came from
    # `vulntune datasets`), and the evaluation outputs. Schema-1 runs get the defaults.
    data_stats: RelPath = DEFAULT_DATA_STATS
    evaluation: EvaluationPaths = default_evaluation_paths()

    def to_json(self) -> str:
        """The canonical serialisation (sorted keys, two-space indent, trailing newline)."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"

    def artifact_paths(self) -> dict[str, str]:
        """Every artifact path, keyed by a dotted name like ``stage1.adapter``."""
        flat: dict[str, str] = {
            "config_file": self.config_file,
            "inference.model": self.inference.model,
            "data_stats": self.data_stats,
        }

        def walk(prefix: str, obj: BaseModel) -> None:
            for name in type(obj).model_fields:
                value = getattr(obj, name)
                if isinstance(value, BaseModel):
                    walk(f"{prefix}{name}.", value)
                elif value is not None:  # a test split a schema-1 run does not have
                    flat[f"{prefix}{name}"] = value

        walk("", self.stages)
        walk("evaluation.", self.evaluation)
        return flat

    def training_artifact_paths(self) -> dict[str, str]:
        """The artifact paths `vulntune train` reads or writes: everything but the test
        splits and dataset statistics (written with the data, when it has them) and the
        evaluation outputs (written by `vulntune evaluate`)."""
        return {
            name: rel
            for name, rel in self.artifact_paths().items()
            if not (
                name.startswith("evaluation.")
                or name.endswith(".test_data")
                or name == "data_stats"
            )
        }


def parse_manifest(text: str, source: Path) -> RunManifest:
    """Validate manifest JSON; every refusal names the file and the problem."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            f"{source}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            "the file may be truncated or edited by hand"
        ) from None
    if not isinstance(data, dict):
        raise ManifestError(f"{source}: a manifest is a JSON object, got {type(data).__name__}")
    if "schema_version" not in data:
        raise ManifestError(f"{source}: has no schema_version; this is not a vulntune manifest")
    version = data["schema_version"]
    # ``type`` rather than ``==``: JSON ``true`` and ``1.0`` compare equal to 1 in Python.
    if type(version) is not int or version not in READABLE_SCHEMA_VERSIONS:
        readable = " and ".join(str(v) for v in READABLE_SCHEMA_VERSIONS)
        raise ManifestError(
            f"{source}: unsupported schema_version {version!r}; this vulntune reads "
            f"versions {readable} (upgrade vulntune or recreate the run)"
        )
    if version == 1:
        # Schema 1 has none of the version-2 entries; they must not appear in it either.
        newer = [k for k in ("data_stats", "evaluation") if k in data]
        if newer:
            raise ManifestError(
                f"{source}: invalid manifest: schema_version 1 cannot have {', '.join(newer)}"
            )
    try:
        return RunManifest.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "<root>"
            msg = (
                "missing" if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
            )
            problems.append(f"{where}: {msg}")
        raise ManifestError(f"{source}: invalid manifest: {'; '.join(problems)}") from None
