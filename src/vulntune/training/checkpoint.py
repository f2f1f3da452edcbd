"""Resumable training state: everything needed to continue a stage as if never stopped.

A checkpoint is a directory ``step-NNNNNNNN`` published atomically, holding the trainable
(LoRA) weights, the optimizer and scheduler state, every process's RNG state, the number of
completed steps (which fixes the data position, since batch plans are pure functions of seed
and epoch), elapsed time and the metrics logged so far.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import torch
from safetensors.torch import load_file, save_file

from vulntune.errors import VulntuneError
from vulntune.io.atomic import atomic_dir, remove_stale_temporaries

KEEP_LAST = 2
_PREFIX = "step-"


class CheckpointError(VulntuneError):
    """A checkpoint that cannot be resumed from."""


@dataclass
class TrainerState:
    """Where a stage stands; updated after every step and saved with each checkpoint."""

    step: int  # completed optimizer steps
    elapsed_s: float
    tokens_seen: int
    signature: str  # what the checkpoint is valid for (settings, data, world size)
    metrics: list[dict[str, Any]]  # the metric records logged so far (JSON objects)


@dataclass(frozen=True)
class Optimization:
    """What a checkpoint saves and restores in place besides the trainer state."""

    trainable: dict[str, torch.nn.Parameter]  # the LoRA weights, by name
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler


class RngState(TypedDict, total=False):
    """One process's random number generator states."""

    torch: torch.Tensor
    python: tuple[object, ...]  # random.getstate()
    cuda: list[torch.Tensor]  # present when CUDA is available


@dataclass(frozen=True)
class LoadedCheckpoint:
    state: TrainerState
    rng_states: list[RngState]  # one per process, by rank


def rng_snapshot() -> RngState:
    snap: RngState = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        snap["cuda"] = torch.cuda.get_rng_state_all()
    return snap


def restore_rng(snap: RngState) -> None:
    torch.set_rng_state(snap["torch"])
    random.setstate(snap["python"])
    if "cuda" in snap and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(snap["cuda"])


def save_checkpoint(
    root: Path, state: TrainerState, optimization: Optimization, rng_states: list[RngState]
) -> Path:
    """Publish a checkpoint for ``state.step`` and prune older ones."""
    final = root / f"{_PREFIX}{state.step:08d}"
    trainable, scheduler = optimization.trainable, optimization.scheduler
    with atomic_dir(final) as tmp:
        save_file(
            {n: p.detach().contiguous() for n, p in trainable.items()},
            tmp / "trainable.safetensors",
        )
        torch.save(optimization.optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save({"scheduler": scheduler.state_dict(), "rng": rng_states}, tmp / "state.pt")
        (tmp / "trainer_state.json").write_text(
            json.dumps(
                {
                    "step": state.step,
                    "elapsed_s": state.elapsed_s,
                    "tokens_seen": state.tokens_seen,
                    "signature": state.signature,
                },
                indent=2,
            )
        )
        (tmp / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in state.metrics))
    for old in sorted(root.glob(f"{_PREFIX}*"))[:-KEEP_LAST]:
        shutil.rmtree(old)
    return final


def latest_checkpoint(root: Path) -> Path | None:
    """The newest complete checkpoint under ``root`` (crash leftovers are cleaned away)."""
    remove_stale_temporaries(root)
    candidates = sorted(p for p in root.glob(f"{_PREFIX}*") if (p / "trainer_state.json").is_file())
    return candidates[-1] if candidates else None


def load_checkpoint(path: Path, signature: str, optimization: Optimization) -> LoadedCheckpoint:
    """Restore weights, optimizer and scheduler in place; return the state and RNG states."""
    trainable = optimization.trainable
    try:
        meta = json.loads((path / "trainer_state.json").read_text())
        if meta["signature"] != signature:
            raise CheckpointError(
                f"{path}: was written for different settings, data or process count than "
                "this run now has; delete the stage's checkpoints directory to restart it"
            )
        weights = load_file(path / "trainable.safetensors")
        if set(weights) != set(trainable):
            raise CheckpointError(f"{path}: its trainable tensors do not match the model's")
        with torch.no_grad():
            for name, param in trainable.items():
                param.copy_(weights[name])
        optimization.optimizer.load_state_dict(torch.load(path / "optimizer.pt", weights_only=True))
        extra = torch.load(path / "state.pt", weights_only=True)
        optimization.scheduler.load_state_dict(extra["scheduler"])
        metrics = [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]
    except (OSError, KeyError, json.JSONDecodeError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: unreadable checkpoint ({exc})") from None
    state = TrainerState(meta["step"], meta["elapsed_s"], meta["tokens_seen"], signature, metrics)
    return LoadedCheckpoint(state, extra["rng"])
