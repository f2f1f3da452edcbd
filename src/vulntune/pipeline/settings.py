"""The configuration of a `vulntune run`: the training configuration plus the pipeline's own.

A `--config` file is the same TOML or JSON file `vulntune runs create --config` reads, with one
optional extra table, ``[pipeline]``, for what happens around training::

    [pipeline]
    catalogue_max = 40       # CWE-catalogue teaching examples in the dataset (0: none)
    max_new_tokens = { analysis = 160, codefix = 256 }   # generation length in evaluation
    similar_findings = 2     # nearest training findings, with their CWE, in analysis prompts

Everything outside ``[pipeline]`` is the training configuration (defaults included).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError

from vulntune.runs.config import ConfigError, TrainingConfig, read_config_mapping


class PipelineSettings(BaseModel):
    """Settings of the steps around training (``[pipeline]`` of a configuration file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    catalogue_max: int | None = Field(
        None, ge=0, description="cap on CWE-catalogue teaching examples (null: default)"
    )
    test_fraction: float | None = Field(
        None, ge=0.0, lt=1.0, description="share held out for evaluation (null: default)"
    )
    max_new_tokens: dict[Literal["analysis", "codefix"], PositiveInt] = Field(
        default_factory=dict,
        description="tokens generated per answer in evaluation, per task (missing: default)",
    )
    similar_findings: int = Field(
        0,
        ge=0,
        le=5,
        description="similar training findings, with their CWE, in each analysis prompt",
    )
    evaluation_limit: int | None = Field(
        None, ge=1, description="evaluate at most this many test examples per stage (null: all)"
    )


@dataclass(frozen=True)
class RunConfiguration:
    training: TrainingConfig
    pipeline: PipelineSettings


def configuration_from_mapping(data: dict[str, Any], source: str) -> RunConfiguration:
    """Split a configuration mapping into its training part and its ``pipeline`` table."""
    rest = dict(data)
    table = rest.pop("pipeline", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [pipeline] must be a table, got {type(table).__name__}")
    try:
        pipeline = PipelineSettings.model_validate(table)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise ConfigError(
            f"{source}: invalid configuration: pipeline.{where}: {first['msg']}"
        ) from None
    return RunConfiguration(TrainingConfig.from_mapping(rest, source=source), pipeline)


def load_run_configuration(path: Path | None) -> RunConfiguration:
    """The configuration of `vulntune run --config FILE` (all defaults without a file)."""
    if path is None:
        return RunConfiguration(TrainingConfig(), PipelineSettings())
    return configuration_from_mapping(read_config_mapping(path), str(path))


def merge_mappings(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it, tables merged key by key."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_mappings(out[key], value)
        else:
            out[key] = value
    return out
