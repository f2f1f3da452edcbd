"""The useful-FLOP count of LoRA training on tiny-random, from its configuration by hand."""

from __future__ import annotations

import json

import torch

from vulntune.models.loading import load_model_and_tokenizer
from vulntune.models.resolve import resolve_model
from vulntune.runs.config import LoraSettings
from vulntune.training.flops import FlopModel, flop_model, matmul_peak_gflops
from vulntune.training.lora import attach_lora


def test_the_flop_model_counts_frozen_lora_head_and_attention_weights():
    path = resolve_model("tiny-random").path
    config = json.loads((path / "config.json").read_text())
    model = load_model_and_tokenizer(path).model
    peft_model = attach_lora(model, LoraSettings(rank=4, target_modules=["q_proj", "down_proj"]))
    d, inter, layers = (
        config["hidden_size"],
        config["intermediate_size"],
        config["num_hidden_layers"],
    )
    heads = config["num_attention_heads"]
    head_dim = config.get("head_dim") or d // heads
    kv = (config.get("num_key_value_heads") or heads) * head_dim
    q = heads * head_dim
    per_layer = d * q + 2 * d * kv + q * d + 3 * d * inter
    assert flop_model(peft_model) == FlopModel(
        frozen=layers * per_layer,
        lora=layers * 4 * ((d + q) + (inter + d)),
        head=d * config["vocab_size"],
        attention=layers * heads * head_dim,
    )


def test_step_flops_follow_the_formula():
    flops = FlopModel(frozen=10, lora=2, head=7, attention=3)
    # 4NT + 4dVS + 12hP + 6AT with T=5 tokens, S=2 scored, P=15 pairs
    assert flops.step_flops(5, 2, 15) == 4 * 10 * 5 + 4 * 7 * 2 + 12 * 3 * 15 + 6 * 2 * 5


def test_measuring_the_peak_leaves_the_random_state_alone():
    before = torch.get_rng_state()
    assert matmul_peak_gflops(torch.device("cpu"), "fp32", seconds=0.03) > 0
    assert torch.equal(torch.get_rng_state(), before)


def test_the_backward_pass_is_counted_from_the_lowest_adapted_layer_up():
    path = resolve_model("tiny-random").path
    config = json.loads((path / "config.json").read_text())
    layers = config["num_hidden_layers"]
    model = load_model_and_tokenizer(path).model
    full = flop_model(attach_lora(model, LoraSettings(rank=4, target_modules=["q_proj"])))
    model = load_model_and_tokenizer(path).model
    top = flop_model(
        attach_lora(model, LoraSettings(rank=4, target_modules=["q_proj"], last_layers=1))
    )
    assert top.frozen == full.frozen and top.attention == full.attention
    assert top.frozen_backward == full.frozen // layers  # one layer's frozen weights
    assert top.attention_backward == full.attention // layers
    assert top.step_flops(5, 2, 15) < full.step_flops(5, 2, 15)


def test_step_flops_with_a_partial_backward():
    flops = FlopModel(
        frozen=10, lora=2, head=7, attention=3, frozen_backward=4, attention_backward=1
    )
    # forward 2NT + 2dVS + 4hP + 2AT, backward 2N'T + 2dVS + 8h'P + 4AT
    assert flops.step_flops(5, 2, 15) == (
        2 * 10 * 5 + 2 * 4 * 5 + 4 * 7 * 2 + 4 * 3 * 15 + 8 * 1 * 15 + 6 * 2 * 5
    )
