"""The training configuration: every default defined once, described, and validated."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from vulntune.runs.config import ConfigError, TrainingConfig


def _leaf_fields(model: type[BaseModel], prefix: str = ""):
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _leaf_fields(annotation, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", info


def test_every_setting_has_a_default_and_a_description():
    fields = dict(_leaf_fields(TrainingConfig))
    assert len(fields) >= 25
    undocumented = [name for name, info in fields.items() if not info.description]
    assert undocumented == []
    assert all(not info.is_required() for info in fields.values())


@pytest.mark.parametrize(
    "name",
    ["stage1.max_steps", "stage1.max_grad_norm", "stage1.eval_every", "stage2.replay_ratio"],
)
def test_settings_that_can_be_turned_off_say_how(name):
    info = dict(_leaf_fields(TrainingConfig))[name]
    assert (
        "off" in info.description or "no cap" in info.description or "only at" in (info.description)
    )


def test_the_defaults_are_the_documented_ones():
    config = TrainingConfig()
    assert (config.seed, config.precision, config.device) == (42, "auto", "auto")
    assert (config.lora.rank, config.lora.alpha, config.lora.dropout) == (16, 32.0, 0.05)
    assert (config.data.max_seq_len, config.data.validation_fraction) == (1024, 0.1)
    assert (config.stage1.epochs, config.stage1.learning_rate, config.stage1.schedule) == (
        2,
        2e-4,
        "cosine",
    )
    assert (config.stage2.mode, config.stage2.replay_ratio) == ("merge", 0.25)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"stage1": {"schedule": "step"}}, "stage1.schedule: Input should be 'cosine'"),
        ({"precision": "fp16"}, "precision: Input should be 'auto', 'fp32' or 'bf16'"),
        ({"stage2": {"mode": "stack"}}, "stage2.mode: Input should be 'merge' or 'continue'"),
        ({"stage1": {"epochs": 0}}, "stage1.epochs: Input should be greater than or equal to 1"),
    ],
)
def test_closed_choices_and_bounds_are_refused_naming_the_key(data, message):
    with pytest.raises(ConfigError, match=f"test: invalid configuration: {message}"):
        TrainingConfig.from_mapping(data, source="test")
