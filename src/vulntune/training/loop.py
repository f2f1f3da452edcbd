"""The training loop of one stage: seeded, resumable, data-parallel, completion-only loss."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from vulntune.runs.config import StageSettings
from vulntune.training.batching import collate, plan_epoch, step_micro_batches, steps_per_epoch
from vulntune.training.checkpoint import (
    TrainerState,
    latest_checkpoint,
    load_checkpoint,
    restore_rng,
    rng_snapshot,
    save_checkpoint,
)
from vulntune.training.distributed import DistContext
from vulntune.training.encoding import EncodedExample
from vulntune.training.loss import completion_loss_sum
from vulntune.training.metrics import LIVE_METRICS_NAME, MetricsLog, StageProgress, peak_memory_mb


def lr_multiplier(schedule: str, warmup: int, total: int) -> Callable[[int], float]:
    """Linear warmup over ``warmup`` steps, then cosine/linear decay to zero, or constant."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if schedule == "constant":
            return 1.0
        progress = (step - warmup) / max(1, total - warmup)
        if schedule == "linear":
            return max(0.0, 1.0 - progress)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[Any]:
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


@dataclass
class LoopSetup:
    """Everything the loop needs, prepared by the backend."""

    label: str
    model: Any  # PeftModel
    trainable: dict[str, torch.nn.Parameter]
    encoded: list[EncodedExample]
    settings: StageSettings
    batch_size: int
    group_size: int
    seed: int
    pad_id: int
    precision: str
    dist: DistContext
    checkpoints_dir: Any
    signature_parts: dict[str, Any]
    evaluation_sets: dict[str, list[EncodedExample]]
    show_progress: bool


def plan_size(setup: LoopSetup) -> tuple[int, int]:
    """(steps per epoch, total steps)."""
    s = setup.settings
    n_batches = len(
        plan_epoch([e.length for e in setup.encoded], setup.batch_size, setup.group_size, 0, 0)
    )
    spe = steps_per_epoch(n_batches, s.grad_accum_steps, setup.dist.world_size)
    total = spe * s.epochs
    return spe, min(total, s.max_steps) if s.max_steps else total


def _signature(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _sync_gradients(trainable: Sequence[torch.nn.Parameter], dist: DistContext) -> None:
    """Sum the gradients of all processes (each already scaled by the global token count)."""
    if not dist.active:
        return
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in trainable]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.sum_(flat)
    offset = 0
    for p in trainable:
        n = p.numel()
        p.grad = flat[offset : offset + n].view_as(p).clone()
        offset += n


def validation_loss(setup: LoopSetup, examples: list[EncodedExample]) -> dict[str, float | int]:
    """Mean completion-token loss of ``examples``, sharded over processes."""
    model, dist = setup.model, setup.dist
    mine = sorted(examples[dist.rank :: dist.world_size], key=lambda e: e.length)
    loss_sum, tokens = 0.0, 0
    was_training = model.training
    model.eval()
    with torch.no_grad(), autocast(dist.device, setup.precision):
        for start in range(0, len(mine), setup.batch_size):
            batch = collate(mine[start : start + setup.batch_size], setup.pad_id).to(dist.device)
            loss_sum += float(completion_loss_sum(model, batch))
            tokens += batch.n_loss_tokens
    model.train(was_training)
    total_loss, total_tokens = dist.sum_floats(loss_sum, tokens)
    return {
        "loss": total_loss / total_tokens if total_tokens else float("nan"),
        "tokens": int(total_tokens),
        "examples": len(examples),
    }


def run_loop(setup: LoopSetup, say: Callable[[str], None]) -> tuple[MetricsLog, int, int]:
    """Train to the planned number of steps, resuming from the newest checkpoint.

    Returns the metrics, the number of steps, and the step the loop resumed from.
    """
    s, dist, model = setup.settings, setup.dist, setup.model
    params = list(setup.trainable.values())
    optimizer = torch.optim.AdamW(params, lr=s.learning_rate, weight_decay=s.weight_decay)
    spe, total = plan_size(setup)
    warmup = round(s.warmup_ratio * total)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_multiplier(s.schedule, warmup, total)
    )
    signature = _signature({**setup.signature_parts, "world_size": dist.world_size, "total": total})
    metrics = MetricsLog(setup.checkpoints_dir / LIVE_METRICS_NAME, write=dist.is_main)

    state = TrainerState(0, 0.0, 0, signature, [])
    latest = latest_checkpoint(setup.checkpoints_dir)
    if latest is not None:
        state, rng_states = load_checkpoint(
            latest, signature, setup.trainable, optimizer, scheduler
        )
        restore_rng(rng_states[dist.rank])
        say(f"{setup.label}: resuming from {latest.name} (step {state.step} of {total})")
    metrics.restore(state.metrics)
    resumed_from = state.step
    if state.step == 0:
        # The baseline: what the model scores before this stage changes it.
        for name, examples in setup.evaluation_sets.items():
            metrics.log(
                {"type": "eval", "step": 0, "set": name, **validation_loss(setup, examples)}
            )

    lengths = [e.length for e in setup.encoded]
    plans: dict[int, list[list[int]]] = {}
    started = time.perf_counter() - state.elapsed_s
    model.train()
    with StageProgress(setup.label, total, setup.show_progress and dist.is_main) as bar:
        bar.update(state.step)
        for step in range(state.step, total):
            epoch, in_epoch = divmod(step, spe)
            if epoch not in plans:
                plans = {
                    epoch: plan_epoch(
                        lengths, setup.batch_size, setup.group_size, setup.seed, epoch
                    )
                }
            micro = step_micro_batches(
                plans[epoch], in_epoch, s.grad_accum_steps, dist.rank, dist.world_size
            )
            batches = [collate([setup.encoded[i] for i in mb], setup.pad_id) for mb in micro]
            t0 = time.perf_counter()
            local_loss_tokens = sum(b.n_loss_tokens for b in batches)
            local_tokens = sum(b.n_tokens for b in batches)
            loss_tokens, n_tokens = dist.sum_floats(local_loss_tokens, local_tokens)
            local_loss = 0.0
            for batch in batches:
                with autocast(dist.device, setup.precision):
                    loss_sum = completion_loss_sum(model, batch.to(dist.device))
                (loss_sum / max(loss_tokens, 1.0)).backward()
                local_loss += float(loss_sum.detach())
            _sync_gradients(params, dist)
            grad_norm = None
            if s.max_grad_norm is not None:
                grad_norm = float(torch.nn.utils.clip_grad_norm_(params, s.max_grad_norm))
            lr = scheduler.get_last_lr()[0]
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            (loss_total,) = dist.sum_floats(local_loss)
            step_time = time.perf_counter() - t0
            state.step = step + 1
            state.tokens_seen += int(n_tokens)
            loss = loss_total / max(loss_tokens, 1.0)
            metrics.log(
                {
                    "type": "train",
                    "step": state.step,
                    "epoch": epoch,
                    "loss": loss,
                    "learning_rate": lr,
                    "grad_norm": grad_norm,
                    "tokens": int(n_tokens),
                    "loss_tokens": int(loss_tokens),
                    "tokens_per_s": n_tokens / step_time,
                    "elapsed_s": time.perf_counter() - started,
                    "peak_memory_mb": peak_memory_mb(dist.device),
                }
            )
            bar.update(state.step, loss=loss, tokens_per_s=n_tokens / step_time)
            if s.eval_every and state.step % s.eval_every == 0 and state.step < total:
                for name, examples in setup.evaluation_sets.items():
                    result = validation_loss(setup, examples)
                    metrics.log({"type": "eval", "step": state.step, "set": name, **result})
            if state.step % s.checkpoint_every == 0 or state.step == total:
                state.elapsed_s = time.perf_counter() - started
                state.metrics = metrics.records
                rngs = dist.gather_objects(rng_snapshot())
                if dist.is_main:
                    save_checkpoint(
                        setup.checkpoints_dir, state, setup.trainable, optimizer, scheduler, rngs
                    )
                dist.barrier()
    return metrics, total, resumed_from
