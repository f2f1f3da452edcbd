"""Gradient checkpointing trades memory for compute without changing what is learned."""

from __future__ import annotations

import json

import pytest

from vulntune.datasets.examples import read_examples
from vulntune.runs.config import TrainingConfig
from vulntune.runs.manager import TrainingRunManager
from vulntune.training.sequential import SequentialFineTuner


def _stage1_losses(tmp_path, config: TrainingConfig, data_files) -> list[float]:
    run = TrainingRunManager(tmp_path).create_run("tiny-random", config)
    run.import_data(read_examples(data_files[0]), read_examples(data_files[1]))
    SequentialFineTuner(run, say=lambda _m: None, show_progress=False).train("1")
    records = [json.loads(line) for line in run.stage1.metrics.read_text().splitlines()]
    return [r["loss"] for r in records if r["type"] in ("train", "eval")]


def test_checkpointed_training_matches_plain_training(tmp_path, tiny_config, data_files):
    base = tiny_config.model_dump()
    base["stage1"]["epochs"] = 1
    plain = _stage1_losses(tmp_path / "a", TrainingConfig.from_mapping(base), data_files)
    checkpointed = _stage1_losses(
        tmp_path / "b",
        TrainingConfig.from_mapping({**base, "gradient_checkpointing": True}),
        data_files,
    )
    assert len(plain) > 3
    assert checkpointed == pytest.approx(plain, abs=1e-5)


def test_enabling_turns_checkpointing_on_for_the_decoder_layers():
    from vulntune.models.loading import load_model_and_tokenizer
    from vulntune.models.resolve import resolve_model
    from vulntune.training.lora import enable_activation_checkpointing

    model = load_model_and_tokenizer(resolve_model("tiny-random").path).model
    assert not model.model.layers[0].gradient_checkpointing
    enable_activation_checkpointing(model)
    assert all(layer.gradient_checkpointing for layer in model.model.layers)
