"""Length-grouped batching that spends no compute on padding it can avoid.

Each epoch is planned from the seed and the epoch number alone: shuffle, cut into groups of
``group_size`` batches, sort each group by length, slice batches, shuffle the batch order.
Similar lengths share a batch (little padding) while the order stays random. Because the
plan is a pure function, a resumed run recreates exactly the batches it would have seen.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from vulntune.training.encoding import IGNORE_INDEX, EncodedExample


def plan_epoch(
    lengths: Sequence[int], batch_size: int, group_size: int, seed: int, epoch: int
) -> list[list[int]]:
    """Indices of each micro-batch of one epoch."""
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    span = batch_size * group_size
    batches: list[list[int]] = []
    for start in range(0, len(order), span):
        group = sorted(order[start : start + span], key=lambda i: (-lengths[i], i))
        batches += [group[i : i + batch_size] for i in range(0, len(group), batch_size)]
    rng.shuffle(batches)
    return batches


def steps_per_epoch(n_batches: int, grad_accum_steps: int, world_size: int) -> int:
    """Optimizer steps in one epoch: every micro-batch is used once across all processes."""
    return math.ceil(n_batches / (grad_accum_steps * world_size))


def step_micro_batches(
    epoch_batches: list[list[int]], step_in_epoch: int, grad_accum_steps: int, rank: int, world: int
) -> list[list[int]]:
    """The micro-batches this process runs for one optimizer step (round-robin over ranks)."""
    span = grad_accum_steps * world
    chunk = epoch_batches[step_in_epoch * span : (step_in_epoch + 1) * span]
    return chunk[rank::world]


def split_micro_batch(
    rows: Sequence[int], lengths: Sequence[int], max_tokens: int | None
) -> list[list[int]]:
    """Cut one micro-batch into consecutive pieces of at most ``max_tokens`` padded tokens.

    The fewest pieces of equal row counts that fit, rows in order; each piece is padded to
    its own longest row, so cutting a batch sorted by length also removes padding. A row
    longer than ``max_tokens`` is a piece of its own. Gradients do not change: the loss is a
    sum over tokens divided by the whole step's scored tokens, however the step is cut.
    """
    rows = list(rows)
    for n_pieces in range(1, len(rows) + 1):
        size = math.ceil(len(rows) / n_pieces)  # equal row counts: similar pieces
        pieces = [rows[i : i + size] for i in range(0, len(rows), size)]
        if max_tokens is None or all(
            len(p) * max(lengths[r] for r in p) <= max_tokens for p in pieces
        ):
            return pieces
    return [[r] for r in rows]


@dataclass
class Batch:
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    labels: torch.Tensor
    n_tokens: int  # real (non-padding) tokens
    n_loss_tokens: int  # tokens that are predicted and scored (completion tokens)
    attn_pairs: int = 0  # causal query-key pairs, sum of L(L+1)/2 over rows (for FLOP counts)

    def to(self, device: torch.device) -> Batch:
        # non_blocking: from pinned or pageable host memory the copy overlaps with queued work.
        return Batch(
            self.input_ids.to(device, non_blocking=True),
            self.attention_mask.to(device, non_blocking=True),
            self.labels.to(device, non_blocking=True),
            self.n_tokens,
            self.n_loss_tokens,
            self.attn_pairs,
        )


def collate(examples: Sequence[EncodedExample], pad_id: int) -> Batch:
    """Right-pad a micro-batch; prompt and padding positions get IGNORE_INDEX labels."""
    width = max(e.length for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    for row, e in enumerate(examples):
        ids[row, : e.length] = torch.tensor(e.input_ids, dtype=torch.long)
        mask[row, : e.length] = 1
        labels[row, e.n_prompt : e.length] = ids[row, e.n_prompt : e.length]
    # The first token of a sequence is never predicted, so it never counts as a loss token.
    n_loss = sum(e.n_scored for e in examples)
    pairs = sum(e.length * (e.length + 1) // 2 for e in examples)
    return Batch(ids, mask, labels, sum(e.length for e in examples), n_loss, pairs)
