"""The PyTorch + PEFT training backend: set up, train, evaluate, publish one stage."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import torch

from vulntune.errors import VulntuneError
from vulntune.io.atomic import atomic_dir, atomic_write_json, atomic_write_jsonl
from vulntune.models.device import resolve_precision
from vulntune.models.loading import load_model_and_tokenizer
from vulntune.models.prompt_format import PromptFormatter
from vulntune.training.distributed import DistContext
from vulntune.training.encoding import EncodedExample, encode_examples
from vulntune.training.job import StageJob, StageResult
from vulntune.training.loop import LoopSetup, plan_size, run_loop, validation_loss
from vulntune.training.lora import (
    attach_lora,
    enable_activation_checkpointing,
    save_adapter,
    save_merged,
    trainable_parameters,
)


class TorchPeftBackend:
    """Trains LoRA adapters with PyTorch and PEFT on CPU or CUDA, alone or data-parallel."""

    def __init__(
        self, dist: DistContext, say: Callable[[str], None] = print, show_progress: bool = True
    ) -> None:
        self.dist = dist
        self.say = say if dist.is_main else (lambda _msg: None)
        self.show_progress = show_progress

    def _encode(
        self, formatter: PromptFormatter, examples: list[Any], max_len: int
    ) -> tuple[list[EncodedExample], int]:
        encoded = encode_examples(formatter, examples, max_len)
        kept = [e for e in encoded if e is not None]
        return kept, len(encoded) - len(kept)

    def train_stage(self, job: StageJob) -> StageResult:
        dist = self.dist
        precision = resolve_precision(job.precision, dist.device)
        torch.manual_seed(job.seed)  # the fresh adapter's initialisation depends on it
        loaded = load_model_and_tokenizer(job.model_dir)
        model, tokenizer = loaded.model, loaded.tokenizer
        model.to(dist.device)
        if job.gradient_checkpointing:
            enable_activation_checkpointing(model)
        formatter = PromptFormatter(tokenizer, job.prompt_format)
        train, skipped = self._encode(formatter, job.train, job.data.max_seq_len)
        if not train:
            raise VulntuneError(
                f"{job.name}: every training example's prompt is longer than "
                f"max_seq_len={job.data.max_seq_len} tokens; raise data.max_seq_len"
            )
        # An empty set (validation_fraction = 0) has no loss to report: leave it out.
        evaluation_sets = {
            name: self._encode(formatter, examples, job.data.max_seq_len)[0]
            for name, examples in job.evaluations.items()
            if examples
        }
        peft_model = attach_lora(model, job.lora, job.init_adapter)
        trainable = trainable_parameters(peft_model)
        ids_hash = hashlib.sha256("\n".join(e.id for e in job.train).encode()).hexdigest()
        setup = LoopSetup(
            label=job.name,
            model=peft_model,
            trainable=trainable,
            encoded=train,
            settings=job.settings,
            batch_size=job.settings.batch_size,
            group_size=job.data.length_group_size,
            seed=job.seed,
            pad_id=tokenizer.pad_token_id,
            precision=precision,
            dist=dist,
            checkpoints_dir=job.checkpoints_dir,
            signature_parts={
                "settings": job.settings.model_dump(),
                "lora": job.lora.model_dump(),
                "data": job.data.model_dump(),
                "seed": job.seed,
                "precision": precision,
                "train_ids": ids_hash,
                "model_dir": str(job.model_dir),
            },
            evaluation_sets=evaluation_sets,
            show_progress=self.show_progress,
        )
        spe, total = plan_size(setup)
        n_trainable = sum(p.numel() for p in trainable.values())
        n_tokens = sum(e.length for e in train)
        self.say(
            f"{job.name}: {len(train)} examples ({skipped} skipped: prompt > max_seq_len), "
            f"{n_tokens:,} tokens/epoch, {spe} steps/epoch x {job.settings.epochs} epochs -> "
            f"{total} steps; LoRA r={job.lora.rank} alpha={job.lora.alpha:g} on "
            f"{','.join(job.lora.target_modules)} = {n_trainable:,} trainable parameters; "
            f"{precision} on {dist.device} x{dist.world_size}"
        )
        t0 = time.perf_counter()
        metrics, steps, resumed_from = run_loop(setup, self.say)
        evaluation: dict[str, Any] = {
            "stage": job.name,
            "steps": steps,
            "examples_trained": len(train),
            "examples_skipped": skipped,
            "tokens_trained": sum(r["tokens"] for r in metrics.records if r["type"] == "train"),
            "final_train_loss": next(
                (r["loss"] for r in reversed(metrics.records) if r["type"] == "train"), None
            ),
            "precision": precision,
            "world_size": dist.world_size,
            "evaluation": {
                name: validation_loss(setup, ex) for name, ex in evaluation_sets.items()
            },
            **job.evaluation_extra,
        }
        for name, result in evaluation["evaluation"].items():
            metrics.log({"type": "eval", "step": steps, "set": name, **result})
        if dist.is_main:
            self._publish(job, peft_model, tokenizer, metrics.records, evaluation)
        dist.barrier()
        self.say(f"{job.name}: done in {time.perf_counter() - t0:.1f}s")
        return StageResult(steps, resumed_from, evaluation)

    def _publish(
        self,
        job: StageJob,
        peft_model: Any,
        tokenizer: Any,
        records: list[dict[str, Any]],
        evaluation: dict[str, Any],
    ) -> None:
        # Order matters: the evaluation is written last, so a stage that published it has
        # published everything else before.
        with atomic_dir(job.adapter_dir) as tmp:
            save_adapter(peft_model, tmp)
        with atomic_dir(job.model_out_dir) as tmp:
            save_merged(peft_model, tokenizer, tmp)
        atomic_write_jsonl(job.metrics_path, records)
        atomic_write_json(job.evaluation_path, evaluation)
