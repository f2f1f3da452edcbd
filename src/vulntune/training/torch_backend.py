"""The PyTorch + PEFT training backend: set up, train, evaluate, publish one stage."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from vulntune.errors import VulntuneError
from vulntune.io.atomic import atomic_dir, atomic_write_json, atomic_write_jsonl
from vulntune.models.device import resolve_precision
from vulntune.models.loading import load_model_and_tokenizer
from vulntune.models.prompt_format import PromptFormatter
from vulntune.training.distributed import DistContext
from vulntune.training.encoding import EncodedSet, EncodingReport, encode_set
from vulntune.training.flops import flop_model, matmul_peak_gflops
from vulntune.training.job import StageJob, StageResult
from vulntune.training.loop import LoopResult, LoopSetup, plan_size, run_loop, validation_loss
from vulntune.training.lora import (
    attach_lora,
    enable_activation_checkpointing,
    save_adapter,
    save_merged,
    trainable_parameters,
)
from vulntune.training.memory import configure_allocator, micro_batch_token_limit

if TYPE_CHECKING:
    from peft import PeftModel
    from transformers import PreTrainedTokenizerBase


@dataclass(frozen=True)
class _PreparedStage:
    """A stage set up for the loop: the adapted model, its tokenizer and the encoded data."""

    setup: LoopSetup
    peft_model: PeftModel
    tokenizer: PreTrainedTokenizerBase
    # What max_seq_len dropped and cut, per set: "train" and each evaluation set.
    encoding: dict[str, EncodingReport]


class TorchPeftBackend:
    """Trains LoRA adapters with PyTorch and PEFT on CPU or CUDA, alone or data-parallel.

    One stage is set up (model, LoRA, encoded data), trained by the loop, evaluated, and
    published by the main process.
    """

    def __init__(
        self, dist: DistContext, say: Callable[[str], None] = print, show_progress: bool = True
    ) -> None:
        self.dist = dist
        self.say = say if dist.is_main else (lambda _msg: None)
        self.show_progress = show_progress

    def train_stage(self, job: StageJob) -> StageResult:
        started = time.perf_counter()
        prepared = self._setup(job)
        self._describe(job, prepared)
        result = run_loop(prepared.setup, self.say)
        evaluation = self._evaluate(job, prepared, result)
        if self.dist.is_main:
            self._publish(job, prepared, result.metrics.records, evaluation)
        self.dist.barrier()
        self.say(f"{job.name}: done in {time.perf_counter() - started:.1f}s")
        return StageResult(result.steps, result.resumed_from_step, evaluation)

    def _setup(self, job: StageJob) -> _PreparedStage:
        dist, cfg = self.dist, job.config
        precision = resolve_precision(cfg.precision, dist.device)
        torch.manual_seed(cfg.seed)  # the fresh adapter's initialisation depends on it
        if dist.device.type == "cpu":
            configure_allocator()  # freed activations go back to the system, not to arenas
        loaded = load_model_and_tokenizer(job.model_dir)
        model, tokenizer = loaded.model, loaded.tokenizer
        model.to(dist.device)
        if cfg.gradient_checkpointing:
            enable_activation_checkpointing(model)
        formatter = PromptFormatter(tokenizer, job.prompt_format)
        train = encode_set(formatter, job.train, cfg.data.max_seq_len)
        if not train.kept:
            raise VulntuneError(
                f"{job.name}: every training example's prompt is longer than "
                f"max_seq_len={cfg.data.max_seq_len} tokens; raise data.max_seq_len"
            )
        # An empty set (validation_fraction = 0) has no loss to report: leave it out.
        encoded_evaluations: dict[str, EncodedSet] = {
            name: encode_set(formatter, examples, cfg.data.max_seq_len)
            for name, examples in job.evaluations.items()
            if examples
        }
        evaluation_sets = {name: e.kept for name, e in encoded_evaluations.items()}
        peft_model = attach_lora(model, cfg.lora, job.init_adapter)
        ids_hash = hashlib.sha256("\n".join(e.id for e in job.train).encode()).hexdigest()
        setup = LoopSetup(
            label=job.name,
            model=peft_model,
            trainable=trainable_parameters(peft_model),
            encoded=train.kept,
            settings=job.settings,
            batch_size=job.settings.batch_size,
            group_size=cfg.data.length_group_size,
            seed=cfg.seed,
            pad_id=tokenizer.pad_token_id,
            precision=precision,
            dist=dist,
            checkpoints_dir=job.checkpoints_dir,
            signature_parts={
                "settings": job.settings.model_dump(),
                "lora": cfg.lora.model_dump(),
                "data": cfg.data.model_dump(),
                "seed": cfg.seed,
                "precision": precision,
                "train_ids": ids_hash,
                # The model's content, not its path: a run moved or copied to another
                # directory or machine (another model cache) still resumes.
                "model": job.model_identity,
            },
            evaluation_sets=evaluation_sets,
            show_progress=self.show_progress,
            flops=flop_model(peft_model),
            peak_gflops=matmul_peak_gflops(dist.device, precision),
            max_micro_batch_tokens=micro_batch_token_limit(model.config, dist.device.type),
        )
        reports = {"train": train.report}
        reports.update({name: e.report for name, e in encoded_evaluations.items()})
        return _PreparedStage(setup, peft_model, tokenizer, reports)

    def _describe(self, job: StageJob, prepared: _PreparedStage) -> None:
        """The derived quantities, printed once at the start (as nanoGPT does)."""
        setup, lora = prepared.setup, job.config.lora
        plan = plan_size(setup)
        n_trainable = sum(p.numel() for p in setup.trainable.values())
        n_tokens = sum(e.length for e in setup.encoded)
        self.say(
            f"{job.name}: {len(setup.encoded)} examples, {n_tokens:,} tokens/epoch, "
            f"{plan.steps_per_epoch} steps/epoch x "
            f"{job.settings.epochs} epochs -> {plan.total_steps} steps; LoRA r={lora.rank} "
            f"alpha={lora.alpha:g} on {','.join(lora.target_modules)}"
            f"{f' of the last {lora.last_layers} layers' if lora.last_layers else ''} = "
            f"{n_trainable:,} "
            f"trainable parameters; {setup.precision} on {self.dist.device} "
            f"x{self.dist.world_size}"
        )
        for name, report in prepared.encoding.items():
            self.say(f"{job.name}: {name}: {report.describe()}")

    def _evaluate(
        self, job: StageJob, prepared: _PreparedStage, result: LoopResult
    ) -> dict[str, Any]:
        """The stage's evaluation record; its validation losses also go to the metrics."""
        setup, records = prepared.setup, result.metrics.records
        evaluation: dict[str, Any] = {
            "stage": job.name,
            "steps": result.steps,
            "examples_trained": len(setup.encoded),
            "examples_skipped": prepared.encoding["train"].dropped_prompt_too_long,
            # max_seq_len's effect on every set: dropped and cut examples, lost EOS tokens
            "max_seq_len_effects": {
                name: report.to_dict() for name, report in prepared.encoding.items()
            },
            "tokens_trained": sum(r["tokens"] for r in records if r["type"] == "train"),
            "final_train_loss": next(
                (r["loss"] for r in reversed(records) if r["type"] == "train"), None
            ),
            "precision": setup.precision,
            "world_size": self.dist.world_size,
            "matmul_peak_gflops": setup.peak_gflops,  # per process; MFU in metrics.jsonl
            "evaluation": {
                name: validation_loss(setup, examples)
                for name, examples in setup.evaluation_sets.items()
            },
            **job.evaluation_extra,
        }
        for name, loss in evaluation["evaluation"].items():
            result.metrics.log({"type": "eval", "step": result.steps, "set": name, **loss})
        for name, report in prepared.encoding.items():
            result.metrics.log(
                {"type": "max_seq_len", "step": result.steps, "set": name, **report.to_dict()}
            )
        return evaluation

    def _publish(
        self,
        job: StageJob,
        prepared: _PreparedStage,
        records: list[dict[str, Any]],
        evaluation: dict[str, Any],
    ) -> None:
        # Order matters: the evaluation is written last, so a stage that published it has
        # published everything else before.
        with atomic_dir(job.adapter_dir) as tmp:
            save_adapter(prepared.peft_model, tmp)
        with atomic_dir(job.model_out_dir) as tmp:
            save_merged(prepared.peft_model, prepared.tokenizer, tmp)
        atomic_write_jsonl(job.metrics_path, records)
        atomic_write_json(job.evaluation_path, evaluation)
