"""The loop's pure pieces: the learning-rate schedule and the step plan, pinned exactly."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from vulntune.runs.config import StageSettings
from vulntune.training.encoding import EncodedExample
from vulntune.training.flops import FlopModel
from vulntune.training.loop import LoopSetup, StepPlan, lr_multiplier, plan_size


def _factors(schedule: str, warmup: int, total: int) -> list[float]:
    factor = lr_multiplier(schedule, warmup, total)
    return [factor(step) for step in range(total)]


def test_warmup_is_linear_and_reaches_the_peak_on_its_last_step():
    assert _factors("constant", 4, 6) == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]


def test_cosine_decays_from_the_peak_towards_zero():
    factors = _factors("cosine", 2, 6)
    assert factors[:2] == [0.5, 1.0]
    # progress after warmup is (step - 2) / 4: 0, 1/4, 1/2, 3/4
    expected = [0.5 * (1 + math.cos(math.pi * p)) for p in (0.0, 0.25, 0.5, 0.75)]
    assert factors[2:] == pytest.approx(expected, abs=0)
    assert factors[2] == 1.0 and factors[4] == pytest.approx(0.5)


def test_linear_decays_in_equal_steps():
    assert _factors("linear", 0, 4) == [1.0, 0.75, 0.5, 0.25]


def test_without_warmup_the_first_step_runs_at_the_peak():
    for schedule in ("cosine", "linear", "constant"):
        assert lr_multiplier(schedule, 0, 10)(0) == 1.0


def test_steps_past_the_end_stay_at_zero_and_never_go_negative():
    assert lr_multiplier("linear", 0, 4)(7) == 0.0
    assert lr_multiplier("cosine", 0, 4)(7) == 0.0


def test_warmup_as_long_as_the_run_never_decays():
    # warmup_ratio = 1.0: every step is a warmup step.
    assert _factors("cosine", 3, 3) == pytest.approx([1 / 3, 2 / 3, 1.0])


def _setup(n_examples: int, world_size: int = 1, **settings: object) -> LoopSetup:
    encoded = [EncodedExample(str(i), [1] * (5 + i % 3), 2) for i in range(n_examples)]
    stage = StageSettings.model_validate({"batch_size": 4, **settings})
    return LoopSetup(
        label="stage1",
        model=SimpleNamespace(),  # plan_size never touches the model
        trainable={},
        encoded=encoded,
        settings=stage,
        batch_size=stage.batch_size,
        group_size=16,
        seed=0,
        pad_id=0,
        precision="fp32",
        dist=SimpleNamespace(world_size=world_size),
        checkpoints_dir=Path("unused"),
        signature_parts={},
        evaluation_sets={},
        show_progress=False,
        flops=FlopModel(frozen=0, lora=0, head=0, attention=0),
        peak_gflops=0.0,
    )


@pytest.mark.parametrize(
    ("n", "world", "settings", "expected"),
    [
        (40, 1, {"epochs": 2}, StepPlan(10, 20)),
        (41, 1, {"epochs": 2}, StepPlan(11, 22)),  # a last, short micro-batch still counts
        (40, 1, {"epochs": 2, "grad_accum_steps": 3}, StepPlan(4, 8)),
        (40, 2, {"epochs": 2}, StepPlan(5, 10)),  # each process takes a share of every step
        (40, 1, {"epochs": 3, "max_steps": 7}, StepPlan(10, 7)),
        (40, 1, {"epochs": 1, "max_steps": 70}, StepPlan(10, 10)),
    ],
)
def test_the_step_plan(n, world, settings, expected):
    assert plan_size(_setup(n, world, **settings)) == expected
