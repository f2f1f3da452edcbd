"""What one stage asks of a training backend, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vulntune.conversation import Example
from vulntune.models.prompt_format import PromptFormat
from vulntune.runs.config import StageSettings, TrainingConfig
from vulntune.runs.manifest import StageName


@dataclass(frozen=True)
class StageJob:
    """A fully specified stage: inputs, settings and where each output is published."""

    name: StageName
    model_dir: Path  # the model the adapter is trained on
    model_identity: str  # its content hash: what resuming checks, never the (movable) path
    init_adapter: Path | None  # an adapter to keep training (Stage 2 ``continue`` mode)
    train: list[Example]
    evaluations: dict[str, list[Example]]  # evaluation set name -> examples
    settings: StageSettings  # this stage's optimisation settings
    config: TrainingConfig  # the run's whole configuration: LoRA, data, seed, precision, ...
    prompt_format: PromptFormat
    checkpoints_dir: Path
    adapter_dir: Path
    model_out_dir: Path  # merged model
    metrics_path: Path
    evaluation_path: Path
    evaluation_extra: dict[str, Any] = field(default_factory=dict)  # more evaluation.json keys


@dataclass(frozen=True)
class StageResult:
    steps: int
    resumed_from_step: int
    evaluation: dict[str, Any]  # what the stage published as evaluation.json


class TrainingBackend(Protocol):
    """Trains one stage and publishes its artifacts atomically (main process only)."""

    def train_stage(self, job: StageJob) -> StageResult: ...
