"""LoRA dropout placement: on the rank-r activation by default, on the input when asked."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vulntune.models.loading import load_model_and_tokenizer
from vulntune.models.resolve import resolve_model
from vulntune.runs.config import LoraSettings
from vulntune.training.lora import attach_lora


def _peft(dropout: float, dropout_on: str):
    model = load_model_and_tokenizer(resolve_model("tiny-random").path).model
    torch.manual_seed(0)
    peft_model = attach_lora(
        model,
        LoraSettings(rank=4, dropout=dropout, dropout_on=dropout_on, target_modules=["q_proj"]),
    )
    layer = peft_model.base_model.model.model.layers[0].self_attn.q_proj
    with torch.no_grad():
        layer.lora_B["default"].weight.normal_()  # a fresh B is zero: make the path visible
    return peft_model, layer


def _parts(layer, x: torch.Tensor):
    a, b = layer.lora_A["default"], layer.lora_B["default"]
    return layer.base_layer(x), a, b, layer.scaling["default"]


def test_rank_dropout_drops_the_r_dimensional_activation():
    _, layer = _peft(0.5, "rank")
    assert isinstance(layer.lora_dropout["default"], torch.nn.Identity)
    x = torch.randn(3, 5, layer.in_features)
    base, a, b, scaling = _parts(layer, x)
    layer.train()
    torch.manual_seed(1)
    out = layer(x)
    torch.manual_seed(1)
    expected = base + b(F.dropout(F.linear(x, a.weight), 0.5, training=True)) * scaling
    assert torch.allclose(out, expected, atol=1e-6)
    layer.eval()
    assert torch.allclose(layer(x), base + b(a(x)) * scaling, atol=1e-6)


def test_input_dropout_is_what_peft_does():
    _, layer = _peft(0.5, "input")
    assert isinstance(layer.lora_dropout["default"], torch.nn.Dropout)
    x = torch.randn(3, 5, layer.in_features)
    base, a, b, scaling = _parts(layer, x)
    layer.train()
    torch.manual_seed(1)
    out = layer(x)
    torch.manual_seed(1)
    expected = base + b(a(F.dropout(x, 0.5, training=True))) * scaling
    assert torch.allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize("dropout_on", ["rank", "input"])
def test_without_dropout_training_and_evaluation_agree(dropout_on):
    _, layer = _peft(0.0, dropout_on)
    x = torch.randn(2, 3, layer.in_features)
    layer.train()
    out = layer(x)
    layer.eval()
    assert torch.equal(out, layer(x))
