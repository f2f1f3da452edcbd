"""Model FLOPs utilisation (MFU): the useful matmul work of LoRA training over the device's peak.

Useful work per step, with T real tokens, S scored tokens and P causal query-key pairs (sum of
L(L+1)/2 over the sequences), N frozen weights in the decoder's linear layers, A LoRA weights,
and a d x V output head:
  forward : 2NT + 2dVS (the head on scored positions only) + 4hP (QK^T and AV) + 2AT
  backward: 2N'T (input gradients only: frozen weights get none) + 2dVS + 8h'P + 4AT
where h = layers x heads x head_dim, and N' and h' count only the layers from the lowest one
with an adapter up (below it nothing needs a gradient, so the backward pass stops there;
N' = N and h' = h when every layer is adapted). Padding, prompt-position logits, norms,
element-wise work and the optimizer are not counted: this is the work any trainer must do, so
MFU compares trainers and devices. The peak is a large GEMM in the training precision, timed
on the spot.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import torch

from vulntune.models.device import Precision
from vulntune.training.loss import split_body_and_head


@dataclass(frozen=True)
class FlopModel:
    """The per-token and per-pair weights of the formula above, for one adapted model."""

    frozen: int  # N
    lora: int  # A
    head: int  # d x V
    attention: int  # h = layers x heads x head_dim
    frozen_backward: int | None = None  # N' (None: N)
    attention_backward: int | None = None  # h' (None: h)

    def step_flops(self, tokens: int, scored: int, pairs: int) -> float:
        frozen_back = self.frozen if self.frozen_backward is None else self.frozen_backward
        attn_back = self.attention if self.attention_backward is None else self.attention_backward
        return float(
            2 * (self.frozen + frozen_back) * tokens
            + 4 * self.head * scored
            + (4 * self.attention + 8 * attn_back) * pairs
            + 6 * self.lora * tokens
        )


def flop_model(model: Any) -> FlopModel:
    """Count the weights of ``model`` (a PEFT-wrapped causal LM) that the formula needs."""
    parts = split_body_and_head(model)
    inner = parts[0] if parts is not None else model
    head_weight = getattr(parts[1], "weight", None) if parts is not None else None
    frozen = lora = 0
    frozen_by_layer: dict[int | None, int] = {}
    lowest_adapted: int | None = None
    for name, module in inner.named_modules():
        if isinstance(module, torch.nn.Linear) and module.weight is not head_weight:
            layer = _layer_index(name)
            if module.weight.requires_grad:
                lora += module.weight.numel()
                if layer is not None:
                    lowest_adapted = layer if lowest_adapted is None else min(lowest_adapted, layer)
            else:
                frozen += module.weight.numel()
                frozen_by_layer[layer] = frozen_by_layer.get(layer, 0) + module.weight.numel()
    config = model.config
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    d, vocab = config.hidden_size, config.vocab_size
    head = head_weight.numel() if head_weight is not None else d * vocab
    per_layer_attention = heads * head_dim
    layers = config.num_hidden_layers
    frozen_back = attention_back = None
    if lowest_adapted:  # a layer above the first one: the lowest layers need no backward
        frozen_back = frozen - sum(
            n for i, n in frozen_by_layer.items() if i is not None and i < lowest_adapted
        )
        attention_back = (layers - lowest_adapted) * per_layer_attention
    return FlopModel(frozen, lora, head, layers * per_layer_attention, frozen_back, attention_back)


_LAYER = re.compile(r"\.layers\.(\d+)\.")


def _layer_index(module_name: str) -> int | None:
    """The decoder layer a module belongs to (``model.layers.7.mlp.up_proj`` -> 7)."""
    found = _LAYER.search(f".{module_name}.")
    return int(found.group(1)) if found else None


def matmul_peak_gflops(device: torch.device, precision: Precision, seconds: float = 0.2) -> float:
    """The best rate of a square GEMM in the training precision on ``device`` (GFLOP/s).

    Constant inputs: the measurement must not draw from the random generators training uses.
    """
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    n = 4096 if device.type == "cuda" else 1024
    a = torch.full((n, n), 0.5, dtype=dtype, device=device)
    b = torch.full((n, n), 0.25, dtype=dtype, device=device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    a @ b  # warm-up: kernel choice and allocation
    sync()
    best = 0.0
    for _ in range(3):
        calls, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds / 3 or calls == 0:
            a @ b
            calls += 1
            sync()
        best = max(best, calls * 2 * n**3 / elapsed / 1e9)
    return best
