"""Completion-only causal-LM loss that projects to the vocabulary only where it is scored.

Prompt tokens carry no loss, so computing their vocabulary logits is wasted work: for a
135M-parameter model with a 49k vocabulary the output projection is a fifth of the compute
per token. We run the decoder body, keep the hidden states of scored positions, and apply the
output head to those alone. Models whose head does more than a plain projection (logit
soft-capping or scaling) take the ordinary full forward pass instead.

The head and the cross-entropy are fused and chunked (`HeadCrossEntropy`): logits exist one
chunk of rows at a time, and the gradient with respect to the hidden states is computed in the
same pass, so the full ``scored x vocabulary`` logits (and their softmax and gradient, each as
large) are never held, and nothing is recomputed.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from vulntune.training.batching import Batch
from vulntune.training.encoding import IGNORE_INDEX

_HEAD_MODIFIERS = ("final_logit_softcapping", "logit_scale", "logits_scaling")
# Logit elements alive at once in the fused head (x 4 bytes): 64 MiB whatever the vocabulary.
CHUNK_ELEMENTS = 2**24


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


def _compute_dtype(tensor: torch.Tensor) -> torch.dtype:
    """The dtype autocast would run a matmul in here (the tensor's own outside autocast)."""
    device_type = tensor.device.type
    if torch.is_autocast_enabled(device_type):
        return torch.get_autocast_dtype(device_type)
    return tensor.dtype


class HeadCrossEntropy(torch.autograd.Function):
    """``sum(cross_entropy(hidden @ weight.T, targets))`` over rows, chunk by chunk.

    For a frozen head (the LoRA case) the backward pass needs only d loss / d hidden, which is
    ``(softmax - onehot) @ weight`` per row: it is computed in the forward pass while the
    chunk's logits exist, kept (rows x hidden, small), and scaled by the incoming gradient.
    Matmuls run in the autocast dtype when autocast is on (as ``nn.Linear`` would), the softmax
    and the loss in float32.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor
    ) -> torch.Tensor:
        dtype = _compute_dtype(hidden)
        w = weight.to(dtype)
        wants_grad = ctx.needs_input_grad[0]  # grad mode is off inside forward()
        rows = max(1, CHUNK_ELEMENTS // weight.shape[0])
        total = torch.zeros((), dtype=torch.float32, device=hidden.device)
        grad = torch.empty_like(hidden) if wants_grad else None
        for start in range(0, hidden.shape[0], rows):
            h = hidden[start : start + rows].to(dtype)
            t = targets[start : start + rows]
            logits = F.linear(h, w).float()
            lse = torch.logsumexp(logits, dim=-1)
            total += (lse - logits.gather(1, t[:, None]).squeeze(1)).sum()
            if grad is not None:
                # softmax - onehot, in place in the logits buffer
                probs = logits.sub_(lse[:, None]).exp_()
                probs[torch.arange(t.shape[0], device=t.device), t] -= 1.0
                grad[start : start + rows] = (probs.to(dtype) @ w).to(hidden.dtype)
        ctx.hidden_grad = grad  # an intermediate, never modified: no version check needed
        return total

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None, None]:  # type: ignore[override]
        grad = ctx.hidden_grad
        if grad is None:
            raise RuntimeError("HeadCrossEntropy: backward through a forward run without grad")
        return grad * grad_output.to(grad.dtype), None, None


def _fusable(head: Any) -> bool:
    """A plain, frozen, bias-free linear head: what `HeadCrossEntropy` computes exactly."""
    return type(head) is torch.nn.Linear and head.bias is None and not head.weight.requires_grad


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
        selected = hidden[:, :-1][scored]
        if _fusable(head):
            return HeadCrossEntropy.apply(selected, head.weight, targets[scored])
        logits = head(selected)
    else:
        out = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask)
        logits = out.logits[:, :-1][scored]
    return F.cross_entropy(logits.float(), targets[scored], reduction="sum")
