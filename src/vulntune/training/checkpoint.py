"""Resumable training state: everything needed to continue a stage as if never stopped.

A checkpoint is a directory ``step-NNNNNNNN`` published atomically, holding the trainable
(LoRA) weights, the optimizer and scheduler state, every process's RNG state, the number of
completed steps (which fixes the data position, since batch plans are pure functions of seed
and epoch), elapsed time and the metrics logged so far.

Publication is atomic, but a disk can still damage a file later (a full disk while copying a
run, a truncated transfer, an edit by hand). Such a checkpoint is reported by name with what is
wrong with it, and resuming falls back to the previous complete one (two are kept).
"""

from __future__ import annotations

import json
import pickle
import random
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from vulntune.errors import VulntuneError
from vulntune.io.atomic import atomic_dir, remove_stale_temporaries

KEEP_LAST = 2
_PREFIX = "step-"
_NAME = re.compile(r"^step-\d{8}$")
FILES = ("trainable.safetensors", "optimizer.pt", "state.pt", "trainer_state.json", "metrics.jsonl")


class CheckpointError(VulntuneError):
    """A checkpoint that cannot be resumed from."""


class CheckpointMismatchError(CheckpointError):
    """A readable checkpoint written for other settings, data or process count."""


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
    path: Path
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
    # Only checkpoints older than this one are pruned: a damaged one with a later step number
    # (left from before a fallback) is replaced when training reaches its step again.
    older = [p for p in checkpoints(root) if p.name < final.name]
    for old in older[: max(0, len(older) - (KEEP_LAST - 1))]:
        shutil.rmtree(old)
    return final


def checkpoints(root: Path) -> list[Path]:
    """The checkpoint directories under ``root``, oldest first (crash leftovers cleaned away)."""
    remove_stale_temporaries(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if _NAME.match(p.name) and p.is_dir())


def latest_checkpoint(root: Path) -> Path | None:
    """The newest checkpoint directory under ``root``, complete or not."""
    found = checkpoints(root)
    return found[-1] if found else None


def resume_checkpoint(
    root: Path, signature: str, optimization: Optimization, warn: Callable[[str], None]
) -> LoadedCheckpoint | None:
    """Restore the newest usable checkpoint under ``root``; None when there is none at all.

    A damaged checkpoint is reported through ``warn`` and the previous one is tried. When every
    checkpoint is damaged the stage cannot resume: CheckpointError names each one and what is
    wrong with it (nothing is deleted: restarting the stage is the user's decision).
    """
    found = checkpoints(root)
    problems: list[str] = []
    for path in reversed(found):
        try:
            return load_checkpoint(path, signature, optimization)
        except CheckpointMismatchError:
            raise
        except CheckpointError as exc:
            problems.append(str(exc))
            previous = found[found.index(path) - 1].name if found.index(path) > 0 else None
            fallback = f"; falling back to {previous}" if previous else ""
            warn(f"{exc}{fallback}")
    if problems:
        raise CheckpointError(
            f"{root}: no checkpoint can be resumed from ({'; '.join(problems)}); delete "
            f"{root} to restart the stage from its first step"
        )
    return None


def load_checkpoint(path: Path, signature: str, optimization: Optimization) -> LoadedCheckpoint:
    """Restore weights, optimizer and scheduler in place; return the state and RNG states.

    Everything is read and checked before anything is restored, so a damaged checkpoint
    leaves the model and optimizer untouched.
    """
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        raise CheckpointError(f"{path}: incomplete checkpoint, {', '.join(missing)} missing")
    meta = _read(path / "trainer_state.json", lambda p: json.loads(p.read_text()))
    if not isinstance(meta, dict) or not {"step", "elapsed_s", "tokens_seen", "signature"} <= set(
        meta
    ):
        raise CheckpointError(f"{path / 'trainer_state.json'}: not a trainer state record")
    if meta["signature"] != signature:
        raise CheckpointMismatchError(
            f"{path}: was written for different settings, data or process count than "
            "this run now has; delete the stage's checkpoints directory to restart it"
        )
    weights = _read(path / "trainable.safetensors", load_file)
    _check_weights(path / "trainable.safetensors", weights, optimization.trainable)
    optimizer_state = _read(path / "optimizer.pt", lambda p: torch.load(p, weights_only=True))
    extra = _read(path / "state.pt", lambda p: torch.load(p, weights_only=True))
    metrics = _read(
        path / "metrics.jsonl",
        lambda p: [json.loads(line) for line in p.read_text().splitlines()],
    )
    if not isinstance(extra, dict) or not {"scheduler", "rng"} <= set(extra):
        raise CheckpointError(f"{path / 'state.pt'}: has no scheduler or RNG state")
    with torch.no_grad():
        for name, param in optimization.trainable.items():
            param.copy_(weights[name])
    try:
        optimization.optimizer.load_state_dict(optimizer_state)
        optimization.scheduler.load_state_dict(extra["scheduler"])
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: optimizer or scheduler state does not fit: {exc}") from None
    state = TrainerState(meta["step"], meta["elapsed_s"], meta["tokens_seen"], signature, metrics)
    return LoadedCheckpoint(path, state, extra["rng"])


def _read(path: Path, reader: Callable[[Path], Any]) -> Any:
    """``reader(path)``; any sign of a damaged file becomes a CheckpointError naming it."""
    try:
        return reader(path)
    except (
        OSError,
        ValueError,  # bad JSON, UnicodeDecodeError
        RuntimeError,  # torch: "PytorchStreamReader failed reading zip archive"
        EOFError,
        pickle.UnpicklingError,
        SafetensorError,
    ) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path}: unreadable ({reason})") from None


def _check_weights(
    path: Path, weights: dict[str, torch.Tensor], trainable: dict[str, torch.nn.Parameter]
) -> None:
    if set(weights) != set(trainable):
        raise CheckpointError(f"{path}: its trainable tensors do not match the model's")
    wrong = [n for n, p in trainable.items() if weights[n].shape != p.shape]
    if wrong:
        raise CheckpointError(
            f"{path}: tensor {wrong[0]} has shape {tuple(weights[wrong[0]].shape)}, "
            f"the model's is {tuple(trainable[wrong[0]].shape)}"
        )
