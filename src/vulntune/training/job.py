"""What one stage asks of a training backend, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vulntune.conversation import Example
from vulntune.runs.config import DataSettings, LoraSettings, StageSettings


@dataclass
class StageJob:
    """A fully specified stage: inputs, settings and where each output is published."""

    name: str  # "stage1" | "stage2"
    model_dir: Path  # checkpoint the adapter is trained on
    init_adapter: Path | None  # an adapter to keep training (Stage 2 ``continue`` mode)
    train: list[Example]
    evaluations: dict[str, list[Example]]  # evaluation set name -> examples
    settings: StageSettings
    lora: LoraSettings
    data: DataSettings
    seed: int
    precision: str
    device: str
    gradient_checkpointing: bool
    prompt_format: str
    checkpoints_dir: Path
    adapter_dir: Path
    model_out_dir: Path  # merged checkpoint
    metrics_path: Path
    evaluation_path: Path
    evaluation_extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class StageResult:
    steps: int
    resumed_from_step: int
    evaluation: dict[str, Any]


class TrainingBackend(Protocol):
    """Trains one stage and publishes its artifacts atomically (main process only)."""

    def train_stage(self, job: StageJob) -> StageResult: ...
