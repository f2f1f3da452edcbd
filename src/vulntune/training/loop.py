"""The training loop of one stage: seeded, resumable, data-parallel, completion-only loss.

A plain lifecycle, one phase per function: set up the optimizer and schedule, resume from the
newest checkpoint, then per step assemble the micro-batches, take one optimizer step, log it,
evaluate and checkpoint when due.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from vulntune.models.device import Precision
from vulntune.runs.config import Schedule, StageSettings
from vulntune.training.batching import (
    Batch,
    collate,
    plan_epoch,
    split_micro_batch,
    step_micro_batches,
    steps_per_epoch,
)
from vulntune.training.checkpoint import (
    Optimization,
    TrainerState,
    restore_rng,
    resume_checkpoint,
    rng_snapshot,
    save_checkpoint,
)
from vulntune.training.distributed import DistContext
from vulntune.training.encoding import EncodedExample
from vulntune.training.flops import FlopModel
from vulntune.training.loss import completion_loss_sum
from vulntune.training.metrics import LIVE_METRICS_NAME, MetricsLog, StageProgress, peak_memory_mb

if TYPE_CHECKING:
    from peft import PeftModel


def lr_multiplier(schedule: Schedule, warmup: int, total: int) -> Callable[[int], float]:
    """Linear warmup over ``warmup`` steps, then cosine/linear decay to zero, or constant.

    The returned function maps a 0-based step to the factor applied to the peak learning rate.
    """

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


def autocast(device: torch.device, precision: Precision) -> torch.autocast:
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


@dataclass
class LoopSetup:
    """Everything the loop needs, prepared by the backend."""

    label: str
    model: PeftModel
    trainable: dict[str, torch.nn.Parameter]
    encoded: list[EncodedExample]
    settings: StageSettings
    batch_size: int
    group_size: int
    seed: int
    pad_id: int
    precision: Precision
    dist: DistContext
    checkpoints_dir: Path
    signature_parts: dict[str, Any]  # JSON-ready: what a checkpoint must match to be resumed
    evaluation_sets: dict[str, list[EncodedExample]]
    show_progress: bool
    flops: FlopModel  # the useful work of a step, for MFU
    peak_gflops: float  # this device's matmul peak in the training precision
    # Padded tokens one forward/backward may hold; a larger micro-batch runs in pieces.
    max_micro_batch_tokens: int | None = None


@dataclass(frozen=True)
class StepPlan:
    steps_per_epoch: int
    total_steps: int  # over all epochs, capped by max_steps


@dataclass(frozen=True)
class LoopResult:
    metrics: MetricsLog
    steps: int  # optimizer steps the stage has taken in all, resumed ones included
    resumed_from_step: int  # 0 for a fresh start


@dataclass(frozen=True)
class StepOutcome:
    """What one optimizer step measured, summed over processes."""

    loss: float  # mean completion-token loss of the step
    learning_rate: float  # the rate the step used
    grad_norm: float | None  # before clipping; None when clipping is off
    tokens: int
    loss_tokens: int
    flops: float  # useful model FLOPs of the step, all processes
    seconds: float


def plan_size(setup: LoopSetup) -> StepPlan:
    """Steps per epoch and in all, from the data, batch size, accumulation and processes."""
    s = setup.settings
    n_batches = len(
        plan_epoch([e.length for e in setup.encoded], setup.batch_size, setup.group_size, 0, 0)
    )
    spe = steps_per_epoch(n_batches, s.grad_accum_steps, setup.dist.world_size)
    total = spe * s.epochs
    return StepPlan(spe, min(total, s.max_steps) if s.max_steps else total)


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
    loss_sum = torch.zeros((), dtype=torch.float64, device=dist.device)
    tokens = 0
    was_training = model.training
    model.eval()
    with torch.no_grad(), autocast(dist.device, setup.precision):
        for start in range(0, len(mine), setup.batch_size):
            batch = collate(mine[start : start + setup.batch_size], setup.pad_id).to(dist.device)
            loss_sum += completion_loss_sum(model, batch)
            tokens += batch.n_loss_tokens
    model.train(was_training)
    total_loss, total_tokens = dist.sum_floats(float(loss_sum), tokens)
    return {
        "loss": total_loss / total_tokens if total_tokens else float("nan"),
        "tokens": int(total_tokens),
        "examples": len(examples),
    }


def _setup_optimization(setup: LoopSetup, plan: StepPlan) -> Optimization:
    """AdamW over the trainable weights and the warmup-then-decay schedule."""
    s = setup.settings
    params = list(setup.trainable.values())
    optimizer = torch.optim.AdamW(params, lr=s.learning_rate, weight_decay=s.weight_decay)
    warmup = round(s.warmup_ratio * plan.total_steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_multiplier(s.schedule, warmup, plan.total_steps)
    )
    return Optimization(setup.trainable, optimizer, scheduler)


def _resume(
    setup: LoopSetup,
    optimization: Optimization,
    signature: str,
    plan: StepPlan,
    say: Callable[[str], None],
) -> TrainerState:
    """The state of the newest usable checkpoint (weights, optimizer, RNG restored), or a
    fresh one. A damaged checkpoint is reported and the one before it is used."""
    loaded = resume_checkpoint(
        setup.checkpoints_dir, signature, optimization, lambda msg: say(f"{setup.label}: {msg}")
    )
    if loaded is None:
        return TrainerState(0, 0.0, 0, signature, [])
    restore_rng(loaded.rng_states[setup.dist.rank])
    step, total = loaded.state.step, plan.total_steps
    say(f"{setup.label}: resuming from {loaded.path.name} (step {step} of {total})")
    return loaded.state


@dataclass(frozen=True)
class StepData:
    """This process's micro-batches of one step, and the step's token counts over all
    processes (known from the batch plan, so no process has to ask the others)."""

    batches: list[Batch]
    tokens: int
    loss_tokens: int
    attn_pairs: int  # causal query-key pairs, sum of L(L+1)/2 (for the FLOP count)


class _StepBatches:
    """The micro-batches of each step; an epoch's batch plan is computed once, when reached."""

    def __init__(self, setup: LoopSetup, plan: StepPlan) -> None:
        self.setup, self.plan = setup, plan
        self.lengths = [e.length for e in setup.encoded]
        self.plans: dict[int, list[list[int]]] = {}

    def __call__(self, step: int) -> StepData:
        setup = self.setup
        epoch, in_epoch = divmod(step, self.plan.steps_per_epoch)
        if epoch not in self.plans:
            self.plans = {
                epoch: plan_epoch(
                    self.lengths, setup.batch_size, setup.group_size, setup.seed, epoch
                )
            }
        accum, world = setup.settings.grad_accum_steps, setup.dist.world_size
        per_rank = [
            step_micro_batches(self.plans[epoch], in_epoch, accum, rank, world)
            for rank in range(world)
        ]
        everyone = [setup.encoded[i] for micro in per_rank for mb in micro for i in mb]
        limit = setup.max_micro_batch_tokens
        return StepData(
            [
                collate([setup.encoded[i] for i in piece], setup.pad_id)
                for mb in per_rank[setup.dist.rank]
                for piece in split_micro_batch(mb, self.lengths, limit)
            ],
            sum(e.length for e in everyone),
            sum(e.n_scored for e in everyone),
            sum(e.length * (e.length + 1) // 2 for e in everyone),
        )


def _train_step(setup: LoopSetup, optimization: Optimization, data: StepData) -> StepOutcome:
    """Forward and backward over the micro-batches, gradients summed over processes, one update.

    Each micro-batch's loss sum is divided by the scored tokens of the whole step (all
    processes), so the update is the mean over the step's tokens however they are split.
    The host waits for the device once per step, for the logged loss and gradient norm.
    """
    dist, model, max_norm = setup.dist, setup.model, setup.settings.max_grad_norm
    params = list(optimization.trainable.values())
    started = time.perf_counter()
    denominator = float(max(data.loss_tokens, 1))
    loss_total = torch.zeros((), dtype=torch.float64, device=dist.device)
    for batch in data.batches:
        with autocast(dist.device, setup.precision):
            loss_sum = completion_loss_sum(model, batch.to(dist.device))
        (loss_sum / denominator).backward()
        loss_total += loss_sum.detach()
    _sync_gradients(params, dist)
    norm = None
    if max_norm is not None:
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    lr = optimization.scheduler.get_last_lr()[0]
    optimization.optimizer.step()
    optimization.scheduler.step()
    optimization.optimizer.zero_grad(set_to_none=True)
    dist.sum_(loss_total)
    logged = [loss_total] if norm is None else [loss_total, norm.to(torch.float64)]
    values = torch.stack(logged).tolist()  # the step's one device-to-host wait
    seconds = time.perf_counter() - started
    grad_norm = values[1] if norm is not None else None
    flops = setup.flops.step_flops(data.tokens, data.loss_tokens, data.attn_pairs)
    return StepOutcome(
        values[0] / denominator, lr, grad_norm, data.tokens, data.loss_tokens, flops, seconds
    )


def _log_evaluations(setup: LoopSetup, metrics: MetricsLog, step: int) -> None:
    for name, examples in setup.evaluation_sets.items():
        metrics.log({"type": "eval", "step": step, "set": name, **validation_loss(setup, examples)})


def _save_checkpoint(
    setup: LoopSetup, state: TrainerState, optimization: Optimization, metrics: MetricsLog
) -> None:
    """Every process's RNG state goes to the main process, which publishes the checkpoint."""
    state.metrics = metrics.records
    rngs = setup.dist.gather_objects(rng_snapshot())
    if setup.dist.is_main:
        save_checkpoint(setup.checkpoints_dir, state, optimization, rngs)
    setup.dist.barrier()


def run_loop(setup: LoopSetup, say: Callable[[str], None]) -> LoopResult:
    """Train to the planned number of steps, resuming from the newest checkpoint."""
    s, dist = setup.settings, setup.dist
    plan = plan_size(setup)
    optimization = _setup_optimization(setup, plan)
    signature = _signature(
        {**setup.signature_parts, "world_size": dist.world_size, "total": plan.total_steps}
    )
    metrics = MetricsLog(setup.checkpoints_dir / LIVE_METRICS_NAME, write=dist.is_main)
    state = _resume(setup, optimization, signature, plan, say)
    metrics.restore(state.metrics)
    resumed_from = state.step
    if state.step == 0:
        _log_evaluations(setup, metrics, 0)  # the baseline: the model before this stage
    batches_of = _StepBatches(setup, plan)
    started = time.perf_counter() - state.elapsed_s
    setup.model.train()
    with StageProgress(setup.label, plan.total_steps, setup.show_progress and dist.is_main) as bar:
        bar.update(state.step)
        for step in range(state.step, plan.total_steps):
            outcome = _train_step(setup, optimization, batches_of(step))
            state.step = step + 1
            state.tokens_seen += int(outcome.tokens)
            metrics.log(
                _train_record(state.step, step // plan.steps_per_epoch, outcome, started, setup)
            )
            bar.update(state.step, loss=outcome.loss, tokens_per_s=outcome.tokens / outcome.seconds)
            if s.eval_every and state.step % s.eval_every == 0 and state.step < plan.total_steps:
                _log_evaluations(setup, metrics, state.step)
            if state.step % s.checkpoint_every == 0 or state.step == plan.total_steps:
                state.elapsed_s = time.perf_counter() - started
                _save_checkpoint(setup, state, optimization, metrics)
    return LoopResult(metrics, plan.total_steps, resumed_from)


def _train_record(
    step: int, epoch: int, outcome: StepOutcome, started: float, setup: LoopSetup
) -> dict[str, Any]:
    gflops_per_s = outcome.flops / outcome.seconds / 1e9
    peak = setup.peak_gflops * setup.dist.world_size
    return {
        "type": "train",
        "step": step,
        "epoch": epoch,
        "loss": outcome.loss,
        "learning_rate": outcome.learning_rate,
        "grad_norm": outcome.grad_norm,
        "tokens": int(outcome.tokens),
        "loss_tokens": int(outcome.loss_tokens),
        "tokens_per_s": outcome.tokens / outcome.seconds,
        "model_gflops_per_s": gflops_per_s,
        "mfu": gflops_per_s / peak if peak > 0 else None,
        "elapsed_s": time.perf_counter() - started,
        "peak_memory_mb": peak_memory_mb(setup.dist.device),
    }
