"""LoRA attachment: dropout placement (on the rank-r activation by default, on the input when
asked) and adapting only the last layers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vulntune.models.errors import ModelLoadError
from vulntune.models.loading import load_model_and_tokenizer
from vulntune.models.resolve import resolve_model
from vulntune.runs.config import LoraSettings
from vulntune.training.lora import attach_lora, save_adapter, trainable_parameters


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


def test_last_layers_adapts_only_the_top_of_the_model_and_the_backward_stops_there():
    model = load_model_and_tokenizer(resolve_model("tiny-random").path).model
    total = model.config.num_hidden_layers
    peft_model = attach_lora(model, LoraSettings(rank=4, target_modules=["q_proj"], last_layers=1))
    adapted = {n.split(".layers.")[1].split(".")[0] for n in trainable_parameters(peft_model)}
    assert adapted == {str(total - 1)}
    # Nothing below the adapted layer needs a gradient: its activations keep no graph.
    reached: list[int] = []
    for index, layer in enumerate(peft_model.base_model.model.model.layers):
        layer.register_forward_hook(
            lambda _m, _i, out, index=index: (
                reached.append(index)
                if (out[0] if isinstance(out, tuple) else out).requires_grad
                else None
            )
        )
    peft_model(input_ids=torch.tensor([[1, 2, 3]])).logits.sum().backward()
    assert reached == [total - 1]


def test_last_layers_beyond_the_model_is_an_error_naming_both_numbers():
    model = load_model_and_tokenizer(resolve_model("tiny-random").path).model
    total = model.config.num_hidden_layers
    with pytest.raises(ModelLoadError, match=rf"last_layers = {total + 1}.*only {total}"):
        attach_lora(model, LoraSettings(rank=4, last_layers=total + 1))


def test_continuing_an_adapter_made_for_other_layers_is_refused(tmp_path):
    path = resolve_model("tiny-random").path
    model = load_model_and_tokenizer(path).model
    save_adapter(attach_lora(model, LoraSettings(rank=4, target_modules=["q_proj"])), tmp_path)
    model = load_model_and_tokenizer(path).model
    with pytest.raises(ModelLoadError, match="layers"):
        attach_lora(model, LoraSettings(rank=4, target_modules=["q_proj"], last_layers=1), tmp_path)
