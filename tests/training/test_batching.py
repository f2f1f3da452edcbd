"""Length-grouped epoch plans, the split of a step's batches over processes, and collation."""

from __future__ import annotations

import random

import pytest
import torch

from vulntune.training.batching import (
    collate,
    plan_epoch,
    split_micro_batch,
    step_micro_batches,
    steps_per_epoch,
)
from vulntune.training.encoding import IGNORE_INDEX, EncodedExample

_rng = random.Random(0)
LENGTHS = [_rng.randint(20, 1000) for _ in range(500)]


def _padding(batches: list[list[int]], lengths: list[int]) -> int:
    """Padding tokens of right-padded batches."""
    return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches)


def test_plan_is_a_pure_function_of_its_arguments():
    plan = plan_epoch(LENGTHS, batch_size=8, group_size=16, seed=3, epoch=1)
    assert plan == plan_epoch(LENGTHS, batch_size=8, group_size=16, seed=3, epoch=1)
    assert plan != plan_epoch(LENGTHS, batch_size=8, group_size=16, seed=3, epoch=2)
    assert plan != plan_epoch(LENGTHS, batch_size=8, group_size=16, seed=4, epoch=1)


def test_pinned_plan_on_a_small_input():
    # Groups {2, 4, 0, 1} and {6, 3, 5}, each sorted longest first, then batch order shuffled.
    assert plan_epoch([5, 1, 9, 3, 7, 2, 8], batch_size=2, group_size=2, seed=0, epoch=0) == [
        [2, 4], [6, 3], [0, 1], [5],
    ]  # fmt: skip


@pytest.mark.parametrize(("batch_size", "group_size"), [(8, 16), (3, 4), (1, 1), (7, 1000)])
def test_every_index_is_used_exactly_once_per_epoch(batch_size, group_size):
    for epoch in range(3):
        plan = plan_epoch(LENGTHS, batch_size, group_size, seed=11, epoch=epoch)
        flat = [i for b in plan for i in b]
        assert sorted(flat) == list(range(len(LENGTHS)))
        assert all(1 <= len(b) <= batch_size for b in plan)
        # At most one short batch per group (the group's last slice).
        n_groups = -(-len(LENGTHS) // (batch_size * group_size))
        assert sum(len(b) < batch_size for b in plan) <= n_groups


def test_batch_order_is_shuffled_not_sorted_by_length():
    plan = plan_epoch(LENGTHS, batch_size=8, group_size=16, seed=0, epoch=0)
    longest = [max(LENGTHS[i] for i in b) for b in plan]
    assert longest != sorted(longest) and longest != sorted(longest, reverse=True)


def test_length_grouping_wastes_far_less_padding():
    real = sum(LENGTHS)
    grouped = _padding(plan_epoch(LENGTHS, 8, 16, seed=0, epoch=0), LENGTHS)
    ungrouped = _padding(plan_epoch(LENGTHS, 8, 1, seed=0, epoch=0), LENGTHS)
    # Lengths uniform in [20, 1000]: random batches of 8 pad ~70% on top of the real tokens;
    # in sorted groups of 128 neighbours differ by ~8 tokens, so a batch pads ~5%.
    assert (grouped, ungrouped, real) == (13981, 185029, 260151)
    assert ungrouped > 0.6 * real
    assert grouped < 0.06 * real
    assert grouped * 10 < ungrouped


def test_equal_lengths_need_no_padding():
    plan = plan_epoch([64] * 40, 8, 16, seed=0, epoch=0)
    assert _padding(plan, [64] * 40) == 0


@pytest.mark.parametrize(
    ("n_batches", "accum", "world", "steps"),
    [(10, 1, 1, 10), (10, 2, 1, 5), (10, 2, 2, 3), (10, 3, 2, 2), (1, 4, 2, 1), (8, 1, 2, 4)],
)
def test_step_micro_batches_partition_every_step_over_ranks(n_batches, accum, world, steps):
    plan = [[i] for i in range(n_batches)]
    assert steps_per_epoch(n_batches, accum, world) == steps
    seen: list[int] = []
    for step in range(steps):
        per_rank = [step_micro_batches(plan, step, accum, r, world) for r in range(world)]
        flat = [b[0] for mbs in per_rank for b in mbs]
        assert len(flat) == len(set(flat))  # no batch on two ranks
        assert all(len(mbs) <= accum for mbs in per_rank)
        # A step takes the next accum * world batches of the plan, nothing else.
        assert sorted(flat) == list(
            range(step * accum * world, min(n_batches, (step + 1) * accum * world))
        )
        seen += flat
    assert sorted(seen) == list(range(n_batches))  # full coverage of the epoch


def test_step_micro_batches_round_robin_assignment():
    plan = [[i] for i in range(10)]
    assert step_micro_batches(plan, 0, 2, 0, 2) == [[0], [2]]
    assert step_micro_batches(plan, 0, 2, 1, 2) == [[1], [3]]
    assert step_micro_batches(plan, 2, 2, 0, 2) == [[8]]
    assert step_micro_batches(plan, 2, 2, 1, 2) == [[9]]
    assert step_micro_batches(plan, 3, 2, 0, 2) == []


def test_collate_pads_and_masks_exactly():
    batch = collate(
        [
            EncodedExample("a", [11, 12, 13, 14], n_prompt=2),
            EncodedExample("b", [21, 22, 23], n_prompt=1),
            EncodedExample("c", [31, 32], n_prompt=2),  # all prompt: nothing to score
        ],
        pad_id=9,
    )
    assert batch.input_ids.tolist() == [[11, 12, 13, 14], [21, 22, 23, 9], [31, 32, 9, 9]]
    assert batch.attention_mask.tolist() == [[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 0, 0]]
    x = IGNORE_INDEX
    assert batch.labels.tolist() == [[x, x, 13, 14], [x, 22, 23, x], [x, x, x, x]]
    assert batch.n_tokens == 9
    assert batch.n_loss_tokens == 4
    assert batch.input_ids.dtype == batch.labels.dtype == torch.long


def test_a_first_token_completion_is_never_counted():
    """Position 0 is never predicted, so even with n_prompt = 0 it carries no loss."""
    batch = collate([EncodedExample("a", [5, 6, 7], n_prompt=0)], pad_id=0)
    assert batch.labels.tolist() == [[5, 6, 7]]
    assert batch.n_loss_tokens == 2


def test_padding_with_the_eos_id_does_not_mask_a_real_eos():
    eos = 0
    batch = collate(
        [EncodedExample("a", [3, 4, eos], n_prompt=1), EncodedExample("b", [3, eos], 1)], eos
    )
    assert batch.labels.tolist() == [[IGNORE_INDEX, 4, eos], [IGNORE_INDEX, eos, IGNORE_INDEX]]
    assert batch.n_loss_tokens == 3


# -- cutting a micro-batch that would exceed the memory limit ---------------------------------


@pytest.mark.parametrize(
    ("lengths", "limit", "expected"),
    [
        ([639] * 8, None, [list(range(8))]),
        ([639] * 8, 5112, [list(range(8))]),  # exactly fits
        ([639] * 8, 2741, [[0, 1, 2, 3], [4, 5, 6, 7]]),  # issue 8's batch on SmolLM2
        ([639] * 8, 2000, [[0, 1, 2], [3, 4, 5], [6, 7]]),
        ([639, 300, 200, 100], 700, [[0], [1], [2], [3]]),  # equal row counts, not packed
        ([900, 10, 10], 500, [[0], [1], [2]]),  # a row over the limit runs alone
        ([5], 1, [[0]]),
    ],
)
def test_split_micro_batch(lengths, limit, expected):
    assert split_micro_batch(range(len(lengths)), lengths, limit) == expected


def test_split_keeps_every_row_once_in_order():
    lengths = [50, 47, 40, 33, 33, 20, 12, 5, 4]
    pieces = split_micro_batch([8, 3, 0, 5, 1, 2, 4, 7, 6], lengths, 90)
    assert [r for p in pieces for r in p] == [8, 3, 0, 5, 1, 2, 4, 7, 6]
    assert all(len(p) * max(lengths[r] for r in p) <= 90 for p in pieces)
