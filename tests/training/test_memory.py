"""Bounding a CPU step's memory: the allocator settings and cutting large micro-batches."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from vulntune.models.loading import load_model_and_tokenizer
from vulntune.models.resolve import resolve_model
from vulntune.runs.config import LoraSettings, StageSettings
from vulntune.training.encoding import EncodedExample
from vulntune.training.flops import FlopModel
from vulntune.training.loop import LoopSetup, _StepBatches, plan_size
from vulntune.training.lora import attach_lora
from vulntune.training.loss import completion_loss_sum
from vulntune.training.memory import (
    ACTIVATION_BUDGET_BYTES,
    activation_bytes_per_token,
    configure_allocator,
    micro_batch_token_limit,
)

SMOLLM2 = SimpleNamespace(num_hidden_layers=30, hidden_size=576, intermediate_size=1536)


def test_the_activation_estimate_for_a_smollm2_shaped_model():
    # 30 layers x (12 x 576 + 4 x 1536) floats x 4 bytes
    assert activation_bytes_per_token(SMOLLM2) == 1_566_720
    assert micro_batch_token_limit(SMOLLM2, "cpu") == ACTIVATION_BUDGET_BYTES // 1_566_720
    assert micro_batch_token_limit(SMOLLM2, "cpu") == 2741  # 8 x 639 runs as 2 x (4 x 639)


def test_accelerators_and_unknown_shapes_keep_the_configured_micro_batch():
    assert micro_batch_token_limit(SMOLLM2, "cuda") is None
    assert micro_batch_token_limit(SimpleNamespace(hidden_size=576), "cpu") is None
    no_width = SimpleNamespace(**{**vars(SMOLLM2), "hidden_size": 0})
    assert activation_bytes_per_token(no_width) is None


def test_a_tiny_budget_still_allows_one_token():
    assert micro_batch_token_limit(SMOLLM2, "cpu", budget_bytes=1) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_the_allocator_is_configured_on_glibc():
    setup = configure_allocator()
    assert setup.applied
    assert setup.mmap_threshold == 32 << 20
    assert setup.arena_max == 2
    assert configure_allocator() == setup  # idempotent
    # tensors still allocate and free normally afterwards
    assert float(torch.ones(1 << 20).sum()) == float(1 << 20)


# -- the loop cuts a large micro-batch and the gradients stay the same ------------------------


def _examples() -> list[EncodedExample]:
    lengths = [23, 19, 17, 11, 9, 6]
    return [
        EncodedExample(str(i), [(7 * i + 3 * j) % 100 + 3 for j in range(n)], n // 3)
        for i, n in enumerate(lengths)
    ]


def _setup(model, examples, limit: int | None) -> LoopSetup:
    stage = StageSettings.model_validate({"batch_size": 6})
    return LoopSetup(
        label="stage1",
        model=model,
        trainable={},
        encoded=examples,
        settings=stage,
        batch_size=6,
        group_size=16,
        seed=0,
        pad_id=0,
        precision="fp32",
        dist=SimpleNamespace(world_size=1, rank=0),
        checkpoints_dir=Path("unused"),
        signature_parts={},
        evaluation_sets={},
        show_progress=False,
        flops=FlopModel(frozen=0, lora=0, head=0, attention=0),
        peak_gflops=0.0,
        max_micro_batch_tokens=limit,
    )


def _gradients(model, setup: LoopSetup) -> tuple[list[torch.Tensor], list[tuple[int, ...]]]:
    """The step's gradients, each piece's loss sum divided by the step's scored tokens (as
    `_train_step` does), and the shapes of the pieces."""
    data = _StepBatches(setup, plan_size(setup))(0)
    model.zero_grad()
    for batch in data.batches:
        (completion_loss_sum(model, batch) / data.loss_tokens).backward()
    grads = [p.grad.clone() for p in model.parameters() if p.requires_grad]
    return grads, [tuple(b.input_ids.shape) for b in data.batches]


def test_a_cut_micro_batch_gives_the_same_gradients():
    model = load_model_and_tokenizer(resolve_model("tiny-random").path).model
    torch.manual_seed(0)
    peft_model = attach_lora(model, LoraSettings(rank=4, dropout=0.0))
    with torch.no_grad():  # LoRA B starts at zero: give A a gradient through a non-zero B
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.5)
    peft_model.train()
    examples = _examples()
    whole, whole_shapes = _gradients(peft_model, _setup(peft_model, examples, None))
    cut, cut_shapes = _gradients(peft_model, _setup(peft_model, examples, 60))
    assert whole_shapes == [(6, 23)]
    assert cut_shapes == [(2, 23), (2, 17), (2, 9)]  # each piece padded to its own longest
    assert all(g.abs().sum() > 0 for g in whole)
    for a, b in zip(whole, cut, strict=True):
        assert torch.allclose(a, b, atol=1e-6, rtol=1e-5)
