"""Damaged checkpoints are named with what is wrong, and resuming falls back to the previous one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from vulntune.training.checkpoint import (
    CheckpointError,
    CheckpointMismatchError,
    Optimization,
    TrainerState,
    checkpoints,
    load_checkpoint,
    resume_checkpoint,
    rng_snapshot,
    save_checkpoint,
)

SIGNATURE = "sig"


def _optimization(value: float = 0.0) -> Optimization:
    weight = torch.nn.Parameter(torch.full((2, 3), value))
    optimizer = torch.optim.AdamW([weight], lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    return Optimization({"lora_A": weight}, optimizer, scheduler)


def _save_steps(root: Path, steps: list[int]) -> None:
    """One checkpoint per step, the weights equal to the step number."""
    for step in steps:
        opt = _optimization(float(step))
        opt.trainable["lora_A"].grad = torch.ones(2, 3)
        opt.optimizer.step()  # the optimizer has state to save
        with torch.no_grad():
            opt.trainable["lora_A"].fill_(float(step))
        state = TrainerState(step, float(step), 10 * step, SIGNATURE, [{"step": step}])
        save_checkpoint(root, state, opt, [rng_snapshot()])


def _resume(root: Path) -> tuple[int | None, list[str], Optimization]:
    warnings: list[str] = []
    opt = _optimization()
    loaded = resume_checkpoint(root, SIGNATURE, opt, warnings.append)
    return (loaded.state.step if loaded else None), warnings, opt


def test_two_checkpoints_are_kept_and_the_newest_is_resumed(tmp_path):
    _save_steps(tmp_path, [3, 6, 9])
    assert [p.name for p in checkpoints(tmp_path)] == ["step-00000006", "step-00000009"]
    step, warnings, opt = _resume(tmp_path)
    assert (step, warnings) == (9, [])
    assert torch.equal(opt.trainable["lora_A"], torch.full((2, 3), 9.0))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda d: _truncate(d / "trainable.safetensors"), "trainable.safetensors: unreadable"),
        (lambda d: _truncate(d / "optimizer.pt"), "optimizer.pt: unreadable"),
        (lambda d: _truncate(d / "state.pt"), "state.pt: unreadable"),
        (lambda d: (d / "trainer_state.json").write_text('{"step": 6,'), "unreadable"),
        (lambda d: (d / "trainer_state.json").write_text("[1, 2]"), "not a trainer state"),
        (lambda d: (d / "metrics.jsonl").write_text("{not json\n"), "metrics.jsonl: unreadable"),
        (lambda d: (d / "optimizer.pt").unlink(), "incomplete checkpoint, optimizer.pt missing"),
        (lambda d: (d / "trainer_state.json").unlink(), "trainer_state.json missing"),
    ],
)
def test_a_damaged_newest_checkpoint_falls_back_to_the_previous_one(tmp_path, damage, reason):
    _save_steps(tmp_path, [3, 6])
    damage(tmp_path / "step-00000006")
    step, warnings, opt = _resume(tmp_path)
    assert step == 3
    assert torch.equal(opt.trainable["lora_A"], torch.full((2, 3), 3.0))
    (warning,) = warnings
    assert "step-00000006" in warning and reason in warning
    assert warning.endswith("falling back to step-00000003")


def test_a_damaged_checkpoint_leaves_the_model_untouched(tmp_path):
    _save_steps(tmp_path, [3])
    (tmp_path / "step-00000003" / "metrics.jsonl").write_text("{not json\n")
    opt = _optimization(42.0)
    with pytest.raises(CheckpointError, match=r"metrics\.jsonl: unreadable"):
        load_checkpoint(tmp_path / "step-00000003", SIGNATURE, opt)
    assert torch.equal(opt.trainable["lora_A"], torch.full((2, 3), 42.0))


def test_tensors_of_the_wrong_shape_are_named(tmp_path):
    _save_steps(tmp_path, [3])
    weight = torch.nn.Parameter(torch.zeros(4, 3))
    optimizer = torch.optim.AdamW([weight])
    opt = Optimization(
        {"lora_A": weight}, optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1)
    )
    shapes = r"lora_A has shape \(2, 3\), the model's is \(4, 3\)"
    with pytest.raises(CheckpointError, match=shapes):
        load_checkpoint(tmp_path / "step-00000003", SIGNATURE, opt)


def test_when_every_checkpoint_is_damaged_the_error_names_each(tmp_path):
    _save_steps(tmp_path, [3, 6])
    _truncate(tmp_path / "step-00000003" / "trainable.safetensors")
    (tmp_path / "step-00000006" / "state.pt").unlink()
    with pytest.raises(CheckpointError) as info:
        _resume(tmp_path)
    message = str(info.value)
    assert "no checkpoint can be resumed from" in message
    assert "step-00000006: incomplete checkpoint, state.pt missing" in message
    assert "step-00000003/trainable.safetensors: unreadable" in message
    assert f"delete {tmp_path}" in message
    assert len(checkpoints(tmp_path)) == 2  # nothing is deleted


def test_a_checkpoint_for_other_settings_is_refused_not_skipped(tmp_path):
    _save_steps(tmp_path, [3, 6])
    with pytest.raises(CheckpointMismatchError, match="different settings"):
        resume_checkpoint(tmp_path, "other", _optimization(), lambda _m: None)


def test_no_checkpoint_means_a_fresh_start(tmp_path):
    assert _resume(tmp_path)[0] is None
    assert _resume(tmp_path / "absent")[0] is None


def test_a_later_damaged_checkpoint_is_replaced_when_training_reaches_it(tmp_path):
    _save_steps(tmp_path, [3, 6])
    (tmp_path / "step-00000006" / "trainer_state.json").write_text("garbage")
    assert _resume(tmp_path)[0] == 3
    _save_steps(tmp_path, [6])
    assert [p.name for p in checkpoints(tmp_path)] == ["step-00000003", "step-00000006"]
    assert json.loads((tmp_path / "step-00000006" / "trainer_state.json").read_text())["step"] == 6
    assert _resume(tmp_path)[:2] == (6, [])
