"""Completion-only causal-LM loss that projects to the vocabulary only where it is scored.

Prompt tokens carry no loss, so computing their vocabulary logits is wasted work: for a
135M-parameter model with a 49k vocabulary the output projection is a fifth of the compute
per token. We run the decoder body, keep the hidden states of scored positions, and apply the
output head to those alone. Models whose head does more than a plain projection (logit
soft-capping or scaling) take the ordinary full forward pass instead.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from vulntune.training.batching import Batch
from vulntune.training.encoding import IGNORE_INDEX

_HEAD_MODIFIERS = ("final_logit_softcapping", "logit_scale", "logits_scaling")


def _unwrap(model: Any) -> Any:
    get_base = getattr(model, "get_base_model", None)  # a PeftModel
    return get_base() if callable(get_base) else model


def split_body_and_head(model: Any) -> tuple[Any, Any] | None:
    """The decoder body and output head of a causal LM, or None when not separable."""
    lm = _unwrap(model)
    if any(getattr(lm.config, name, None) not in (None, 1, 1.0) for name in _HEAD_MODIFIERS):
        return None
    head = lm.get_output_embeddings()
    body = getattr(lm, getattr(lm, "base_model_prefix", ""), None)
    if head is None or body is None or body is lm:
        return None
    return body, head


def completion_loss_sum(model: Any, batch: Batch) -> torch.Tensor:
    """Sum (not mean) of token cross-entropies over the batch's completion tokens.

    Summing lets the caller normalise by the number of scored tokens in the whole optimizer
    step (all micro-batches, all processes), which makes gradient accumulation and data
    parallelism exact rather than an average of averages.
    """
    targets = batch.labels[:, 1:]
    scored = targets != IGNORE_INDEX
    parts = split_body_and_head(model)
    if parts is not None:
        body, head = parts
        hidden = body(input_ids=batch.input_ids, attention_mask=batch.attention_mask)[0]
        logits = head(hidden[:, :-1][scored])
    else:
        out = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask)
        logits = out.logits[:, :-1][scored]
    return F.cross_entropy(logits.float(), targets[scored], reduction="sum")
