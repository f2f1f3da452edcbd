"""Training configuration: every default defined once, here, with its unit and how to turn it off.

The fully resolved configuration (defaults included) is written into each run's manifest.

A user's config file (TOML or JSON) overrides any subset; unknown keys are refused so that a
typo never silently falls back to a default (the old engine ignored its LoRA settings).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vulntune.errors import VulntuneError
from vulntune.models.device import DeviceSetting, PrecisionSetting


class ConfigError(VulntuneError):
    """A configuration file or value that cannot be used."""


# The attention and MLP projections of Llama-style decoders (Llama, OLMo-2, Mistral, Qwen...).
DEFAULT_TARGET_MODULES = (
    *("q_proj", "k_proj", "v_proj", "o_proj"),
    *("gate_proj", "up_proj", "down_proj"),
)

Schedule = Literal["cosine", "linear", "constant"]
Stage2Mode = Literal["merge", "continue"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoraSettings(_Strict):
    """LoRA adapter shape, shared by both stages (``continue`` mode trains one adapter)."""

    rank: int = Field(16, ge=1, le=1024, description="rank r of the LoRA matrices")
    alpha: float = Field(
        32.0, gt=0, description="LoRA scaling numerator: updates are scaled by alpha / rank"
    )
    dropout: float = Field(
        0.05, ge=0.0, lt=1.0, description="LoRA dropout probability (0 turns it off)"
    )
    dropout_on: Literal["rank", "input"] = Field(
        "rank",
        description=(
            "where LoRA dropout applies: 'rank' on the r-dimensional A x (cheap: r values per "
            "token per adapted layer), 'input' on x as PEFT does (a mask over the full hidden "
            "size per adapted layer, ~25% of a CPU step)"
        ),
    )
    target_modules: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TARGET_MODULES),
        min_length=1,
        description="names of the linear layers that get an adapter; each must exist in the model",
    )
    last_layers: int | None = Field(
        None,
        ge=1,
        description=(
            "adapt only the last N decoder layers (null: all). Layers below get no adapter, so "
            "the backward pass stops above them: each step costs less, the adapter learns less"
        ),
    )


class StageSettings(_Strict):
    """Optimisation settings of one stage."""

    epochs: int = Field(2, ge=1, description="passes over the stage's training set")
    max_steps: int | None = Field(
        None, ge=1, description="cap on optimizer steps (null: no cap, train every epoch)"
    )
    learning_rate: float = Field(2e-4, gt=0, description="peak AdamW learning rate")
    batch_size: int = Field(8, ge=1, description="examples per micro-batch, per process")
    grad_accum_steps: int = Field(
        1, ge=1, description="micro-batches per optimizer step (1: no accumulation)"
    )
    warmup_ratio: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="share of the stage's steps with linear warmup (0 turns warmup off)",
    )
    schedule: Schedule = Field(
        "cosine", description="learning-rate decay after warmup (constant turns decay off)"
    )
    weight_decay: float = Field(0.0, ge=0.0, description="AdamW weight decay (0: none)")
    max_grad_norm: float | None = Field(
        1.0, gt=0, description="gradient clipping norm (null turns clipping off)"
    )
    checkpoint_every: int = Field(
        50, ge=1, description="optimizer steps between checkpoints (the last step always saves)"
    )
    eval_every: int | None = Field(
        None,
        ge=1,
        description="optimizer steps between validation passes (null: only at start and end)",
    )


class Stage2Settings(StageSettings):
    """Stage 2 adds how it builds on Stage 1 and how much Stage-1 data it replays."""

    mode: Stage2Mode = Field(
        "merge",
        description="merge: a fresh adapter on the merged Stage-1 model; continue: keep "
        "training the Stage-1 adapter",
    )
    replay_ratio: float = Field(
        0.25,
        ge=0.0,
        lt=1.0,
        description="share of the Stage-2 mix drawn from Stage-1 examples (0 turns replay off)",
    )


class DataSettings(_Strict):
    """How examples become token sequences and batches."""

    max_seq_len: int = Field(
        1024,
        ge=16,
        description="tokens per example; longer completions are cut, longer prompts skipped",
    )
    validation_fraction: float = Field(
        0.1,
        ge=0.0,
        lt=1.0,
        description="share of each data file held out for validation (0: no validation set)",
    )
    length_group_size: int = Field(
        16, ge=1, description="batches per length-sorted group (1 turns length grouping off)"
    )


class TrainingConfig(_Strict):
    """The complete configuration of a training run."""

    seed: int = Field(42, description="seeds adapter initialisation, dropout and batch order")
    data_seed: int = Field(42, description="seeds the validation split and the replay draw")
    precision: PrecisionSetting = Field(
        "auto", description="auto: bf16 autocast where the hardware has native bf16, else fp32"
    )
    device: DeviceSetting = Field("auto", description="auto: CUDA when present, else the CPU")
    gradient_checkpointing: bool = Field(
        False,
        description="recompute activations in the backward pass: a fraction of the memory for "
        "about a third more compute (false: store them)",
    )
    lora: LoraSettings = Field(default_factory=LoraSettings)
    data: DataSettings = Field(default_factory=DataSettings)
    stage1: StageSettings = Field(default_factory=StageSettings)
    stage2: Stage2Settings = Field(default_factory=Stage2Settings)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str = "configuration") -> TrainingConfig:
        """Validate a (possibly partial) mapping; errors name the source and each bad key."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
                for err in exc.errors()
            )
            raise ConfigError(f"{source}: invalid configuration: {problems}") from None


def read_config_mapping(path: Path) -> dict[str, Any]:
    """A TOML (``.toml``) or JSON configuration file as a mapping, not yet validated."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration file: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(raw.decode("utf-8"))
        else:
            data = json.loads(raw)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid {path.suffix.lstrip('.') or 'JSON'}: {exc}") from None
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ConfigError(f"{path}: configuration must be a table/object, got {kind}")
    return data


def load_config(path: Path) -> TrainingConfig:
    """Read a TOML (``.toml``) or JSON configuration file."""
    return TrainingConfig.from_mapping(read_config_mapping(path), source=str(path))
