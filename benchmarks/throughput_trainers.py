"""One training run per trainer, on identical tokens, timed step by step.

Used by ``train_throughput.py``, which runs each function below in a fresh subprocess. Every
trainer gets the same token ids and labels (vulntune's PromptFormatter, run once), the same
LoRA shape, batch size, learning rate, schedule and precision, and no evaluation, saving or
reporting. Each run returns one ``StepStats`` per optimizer step: the step's end time
(``time.perf_counter`` after the optimizer and scheduler step) and what its batch held.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from vulntune.conversation import Example
from vulntune.datasets.builtin import load_builtin
from vulntune.datasets.examples import example_from_obj
from vulntune.models.prompt_format import PromptFormatter
from vulntune.runs.config import DEFAULT_TARGET_MODULES
from vulntune.training.encoding import IGNORE_INDEX, EncodedExample, encode_examples

MAX_SEQ_LEN = 1024  # vulntune's default data.max_seq_len; no built-in example comes near it


@dataclass(frozen=True)
class BenchSettings:
    """What every trainer is configured with."""

    model_dir: str
    examples: int | None = None  # a length-stratified subset of the 96; None = all
    epochs: int = 1
    max_steps: int | None = None
    batch_size: int = 8
    learning_rate: float = 2e-4
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    seed: int = 42
    lora_rank: int = 16
    lora_alpha: float = 32.0
    lora_dropout: float = 0.05
    # PEFT's placement (dropout on the adapter input), which HF and TRL use: the same LoRA
    # computation for every trainer. vulntune's default ("rank") is cheaper; see RESULTS.md.
    lora_dropout_on: str = "input"
    target_modules: tuple[str, ...] = DEFAULT_TARGET_MODULES
    # One precision and device for every trainer: what the machine supports natively
    # (train_throughput.py resolves "auto" once, as vulntune would, and passes it to all).
    precision: str = "fp32"  # fp32 | bf16 (autocast over fp32 weights)
    device: str = "cpu"  # cpu | cuda


@dataclass
class StepStats:
    """One optimizer step: when it ended and what its (single) micro-batch contained."""

    end: float = 0.0  # time.perf_counter() after the optimizer step
    cpu: float = 0.0  # this process's CPU seconds (all threads) at that moment
    busy: float = 0.0  # the whole machine's busy CPU seconds at that moment (/proc/stat)
    tokens: int = 0  # real (non-padding) tokens
    padded: int = 0  # batch rows x batch width: what the model actually computed on
    loss_tokens: int = 0  # scored (completion) positions
    attn_pairs: int = 0  # sum over sequences of L(L+1)/2: causal query-key pairs


@dataclass
class RunResult:
    trainer: str
    steps: list[StepStats] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (user, system, irq, steal) since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def stamp(stats: StepStats) -> StepStats:
    """Record the end of a step on all three clocks."""
    stats.end, stats.cpu, stats.busy = time.perf_counter(), time.process_time(), machine_busy_s()
    return stats


def builtin_examples(limit: int | None = None) -> list[Example]:
    """The 96 built-in training examples (48 analysis, then 48 code-fix), or ``limit`` of them
    chosen evenly across the length range (same choice for every trainer)."""
    examples = [example_from_obj(r) for r in load_builtin("analysis") + load_builtin("codefix")]
    if limit is None or limit >= len(examples):
        return examples
    by_length = sorted(examples, key=lambda e: (sum(len(m.content) for m in e.messages), e.id))
    keep = {by_length[round(i * (len(examples) - 1) / max(1, limit - 1))].id for i in range(limit)}
    if len(keep) != limit:
        raise SystemExit(f"cannot pick {limit} distinct examples evenly from {len(examples)}")
    return [e for e in examples if e.id in keep]


def encode(tokenizer: Any, prompt_format: str, examples: Sequence[Example]) -> list[EncodedExample]:
    encoded = encode_examples(PromptFormatter(tokenizer, prompt_format), examples, MAX_SEQ_LEN)
    if any(e is None for e in encoded):
        raise SystemExit(f"a built-in example does not fit max_seq_len={MAX_SEQ_LEN}")
    return [e for e in encoded if e is not None]


def labels_of(e: EncodedExample) -> list[int]:
    """vulntune's labels: prompt positions ignored, completion positions scored."""
    return [IGNORE_INDEX] * e.n_prompt + e.input_ids[e.n_prompt :]


def stats_of_lengths(lengths: Sequence[int], width: int, loss_tokens: int) -> StepStats:
    return StepStats(
        tokens=sum(lengths),
        padded=len(lengths) * width,
        loss_tokens=loss_tokens,
        attn_pairs=sum(n * (n + 1) // 2 for n in lengths),
    )


def stats_of_batch(batch: dict[str, torch.Tensor]) -> StepStats:
    """Statistics of a right-padded torch batch with ``attention_mask`` and ``labels``."""
    lengths = batch["attention_mask"].sum(dim=1).tolist()
    scored = int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
    return stats_of_lengths(lengths, batch["input_ids"].shape[1], scored)


def _load_hf(settings: BenchSettings) -> tuple[Any, Any, list[EncodedExample]]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from vulntune.models.output import quiet_library_output
    from vulntune.models.prompt_format import prompt_format_for

    quiet_library_output()
    model_dir = Path(settings.model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.to(settings.device)
    encoded = encode(tokenizer, prompt_format_for(model_dir), builtin_examples(settings.examples))
    return model, tokenizer, encoded


def _lora_config(settings: BenchSettings) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=settings.lora_rank,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=list(settings.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )


def _hf_common_args(settings: BenchSettings, out_dir: str) -> dict[str, Any]:
    """TrainingArguments shared by HF Trainer and TRL: no eval, no saving, no reporting."""
    return {
        "output_dir": out_dir,
        "per_device_train_batch_size": settings.batch_size,
        "gradient_accumulation_steps": 1,
        "num_train_epochs": settings.epochs,
        "max_steps": settings.max_steps or -1,
        "learning_rate": settings.learning_rate,
        "lr_scheduler_type": "cosine",
        "warmup_steps": settings.warmup_ratio,  # a float below 1 is a ratio of the total
        "weight_decay": 0.0,
        "max_grad_norm": settings.max_grad_norm,
        "bf16": settings.precision == "bf16",
        "use_cpu": settings.device == "cpu",
        "seed": settings.seed,
        "report_to": "none",
        "save_strategy": "no",
        "eval_strategy": "no",
        "logging_strategy": "no",
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
    }


class _Recorder:
    """Wraps a collator to record each batch, and ends each step via a callback."""

    def __init__(self, collate: Callable[[list[Any]], dict[str, torch.Tensor]]) -> None:
        self.collate = collate
        self.batches: list[StepStats] = []
        self.ends: list[StepStats] = []

    def __call__(self, features: list[Any]) -> dict[str, torch.Tensor]:
        batch = self.collate(features)
        self.batches.append(stats_of_batch(batch))
        return batch

    def callback(self) -> Any:
        from transformers import TrainerCallback

        ends = self.ends

        class StepEnd(TrainerCallback):
            def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                ends.append(stamp(StepStats()))

        return StepEnd()

    def steps(self) -> list[StepStats]:
        # The dataloader may collate one batch ahead of the step that uses it: batch i is
        # step i, and batches past the last step were never trained on.
        return with_clocks(self.batches[: len(self.ends)], self.ends)


def with_clocks(batches: list[StepStats], ends: list[StepStats]) -> list[StepStats]:
    """Batch statistics joined with the clock readings taken at the end of each step."""
    if len(batches) != len(ends):
        raise SystemExit(f"{len(batches)} batches recorded for {len(ends)} steps")
    for stats, end in zip(batches, ends, strict=True):
        stats.end, stats.cpu, stats.busy = end.end, end.cpu, end.busy
    return batches


def run_hf_trainer(settings: BenchSettings, group_by_length: bool = False) -> RunResult:
    """transformers.Trainer on the PEFT-wrapped model, labels pre-built from the shared ids."""
    from peft import get_peft_model
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    model, tokenizer, encoded = _load_hf(settings)
    torch.manual_seed(settings.seed)
    peft_model = get_peft_model(model, _lora_config(settings))
    rows = [{"input_ids": e.input_ids, "labels": labels_of(e)} for e in encoded]
    recorder = _Recorder(DataCollatorForSeq2Seq(tokenizer, padding="longest"))
    with tempfile.TemporaryDirectory() as out:
        extra = {"train_sampling_strategy": "group_by_length"} if group_by_length else {}
        args = TrainingArguments(
            **_hf_common_args(settings, out), remove_unused_columns=False, **extra
        )
        trainer = Trainer(
            model=peft_model,
            args=args,
            train_dataset=rows,
            data_collator=recorder,
            callbacks=[recorder.callback()],
        )
        trainer.train()
        notes = [
            f"mixed precision {trainer.accelerator.mixed_precision}",
            f"optimizer {args.optim}",
            f"sampler {args.train_sampling_strategy}",
        ]
    name = "hf-grouped" if group_by_length else "hf"
    return RunResult(name, recorder.steps(), notes)


def run_trl(settings: BenchSettings, group_by_length: bool = False) -> RunResult:
    """TRL SFTTrainer on a pre-tokenized dataset (``input_ids`` + ``completion_mask``), with
    ``completion_only_loss=True`` so that TRL itself builds the labels; they are checked
    against vulntune's before training."""
    from trl import SFTConfig, SFTTrainer

    from datasets import Dataset

    model, tokenizer, encoded = _load_hf(settings)
    dataset = Dataset.from_dict(
        {
            "input_ids": [e.input_ids for e in encoded],
            "completion_mask": [[0] * e.n_prompt + [1] * e.n_completion for e in encoded],
        }
    )
    with tempfile.TemporaryDirectory() as out:
        extra = {"train_sampling_strategy": "group_by_length"} if group_by_length else {}
        args = SFTConfig(
            **_hf_common_args(settings, out),
            completion_only_loss=True,
            gradient_checkpointing=False,  # TRL's default is True; vulntune does not checkpoint
            packing=False,
            padding_free=False,
            max_length=MAX_SEQ_LEN,
            **extra,
        )
        torch.manual_seed(settings.seed)
        trainer = SFTTrainer(
            model=model,
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=_lora_config(settings),
        )
        prepared = trainer.train_dataset
        if [list(x) for x in prepared["input_ids"]] != [e.input_ids for e in encoded] or [
            list(x) for x in prepared["labels"]
        ] != [labels_of(e) for e in encoded]:
            raise SystemExit("TRL prepared different input_ids/labels than vulntune's encoding")
        recorder = _Recorder(trainer.data_collator)
        trainer.data_collator = recorder
        trainer.add_callback(recorder.callback())
        trainer.train()
        notes = [
            f"mixed precision {trainer.accelerator.mixed_precision}",
            f"optimizer {args.optim}",
            f"sampler {args.train_sampling_strategy}",
            "labels built by TRL from completion_mask == vulntune's labels (checked)",
        ]
    name = "trl-grouped" if group_by_length else "trl"
    return RunResult(name, recorder.steps(), notes)


def run_vulntune(settings: BenchSettings, model_spec: str) -> RunResult:
    """vulntune's real engine: a run created by TrainingRunManager with all the examples as
    Stage-1 training data, trained by ``stages.run_stage1`` with TorchPeftBackend. Per-step
    tokens come from its metrics; the clocks are read when the loop logs each step's record,
    right after its optimizer step.

    ``validation_fraction = 0`` keeps every example in training; the backend is handed the
    job without its (then empty) validation set, because the backend fails on an empty one
    (tokenizing an empty list).
    """
    from transformers import AutoTokenizer

    from vulntune.datasets.examples import read_examples
    from vulntune.models.device import resolve_device
    from vulntune.runs.config import TrainingConfig
    from vulntune.runs.manager import TrainingRunManager
    from vulntune.training import loop
    from vulntune.training.batching import plan_epoch
    from vulntune.training.distributed import init_distributed
    from vulntune.training.job import StageJob, StageResult
    from vulntune.training.stages import run_stage1
    from vulntune.training.torch_backend import TorchPeftBackend

    config = TrainingConfig.from_mapping(
        {
            "seed": settings.seed,
            "precision": settings.precision,
            "device": settings.device,
            "lora": {
                "rank": settings.lora_rank,
                "alpha": settings.lora_alpha,
                "dropout": settings.lora_dropout,
                "dropout_on": settings.lora_dropout_on,
                "target_modules": list(settings.target_modules),
            },
            "data": {"max_seq_len": MAX_SEQ_LEN, "validation_fraction": 0.0},
            "stage1": {
                "epochs": settings.epochs,
                "max_steps": settings.max_steps,
                "batch_size": settings.batch_size,
                "learning_rate": settings.learning_rate,
                "warmup_ratio": settings.warmup_ratio,
                "max_grad_norm": settings.max_grad_norm,
                "checkpoint_every": 1_000_000,  # only the final one, after the timed steps
            },
        }
    )
    ends: list[StepStats] = []

    class StampedMetricsLog(loop.MetricsLog):
        def log(self, record: dict[str, Any]) -> None:
            if record.get("type") == "train":
                ends.append(stamp(StepStats()))
            super().log(record)

    class WithoutEmptyEvaluations:
        def __init__(self, inner: TorchPeftBackend) -> None:
            self.inner = inner

        def train_stage(self, job: StageJob) -> StageResult:
            kept = {name: examples for name, examples in job.evaluations.items() if examples}
            return self.inner.train_stage(dataclasses.replace(job, evaluations=kept))

    loop.MetricsLog = StampedMetricsLog  # type: ignore[misc]  # observe only; logs unchanged
    examples = builtin_examples(settings.examples)
    with tempfile.TemporaryDirectory() as runs_dir:
        run = TrainingRunManager(Path(runs_dir)).create_run(model_spec, config)
        # Every example trains in Stage 1; the Stage-2 slot needs data but is not trained.
        run.import_data(examples, examples)
        dist = init_distributed(resolve_device(config.device))
        backend = TorchPeftBackend(dist, say=lambda _m: None, show_progress=False)
        run_stage1(run, WithoutEmptyEvaluations(backend), dist, lambda _m: None)
        records = [json.loads(line) for line in run.stage1.metrics.read_text().splitlines()]
        train_order = read_examples(run.stage1.train_data)
        precision = json.loads(run.stage1.evaluation.read_text())["precision"]
        prompt_format = run.manifest.semantics.prompt_format
    train = [r for r in records if r["type"] == "train"]
    tokenizer = AutoTokenizer.from_pretrained(settings.model_dir)
    encoded = encode(tokenizer, prompt_format, train_order)
    shared = {e.id: e.input_ids for e in encode(tokenizer, prompt_format, examples)}
    if {e.id: e.input_ids for e in encoded} != shared:
        raise SystemExit("vulntune's run data encodes differently from the shared encoding")
    # Recreate the batches from the engine's own (pure) epoch planner and check that they are
    # the ones it trained on, token for token.
    lengths = [e.length for e in encoded]
    steps_per_epoch = -(-len(encoded) // settings.batch_size)
    plans: dict[int, list[list[int]]] = {}
    batches = []
    for i, record in enumerate(train):
        epoch, k = divmod(i, steps_per_epoch)
        if epoch not in plans:
            plans[epoch] = plan_epoch(
                lengths, settings.batch_size, config.data.length_group_size, settings.seed, epoch
            )
        batch = [encoded[j] for j in plans[epoch][k]]
        stats = stats_of_lengths(
            [e.length for e in batch],
            max(e.length for e in batch),
            sum(e.n_completion - (1 if e.n_prompt == 0 else 0) for e in batch),
        )
        if (stats.tokens, stats.loss_tokens) != (record["tokens"], record["loss_tokens"]):
            raise SystemExit(f"step {i + 1}: re-planned batch differs from the one trained")
        batches.append(stats)
    notes = [
        f"precision {precision}",
        f"LoRA dropout on the {settings.lora_dropout_on}",
        "optimizer torch AdamW",
        "sampler length-grouped",
    ]
    return RunResult("vulntune", with_clocks(batches, ends), notes)


def run_mlx(settings: BenchSettings) -> RunResult:
    """mlx_lm's LoRA trainer (``mlx_lm.tuner.trainer.train``) on the shared token ids, with
    ``(ids, n_prompt)`` pairs so that it masks the same prompt tokens. MLX has no autocast:
    float32 weights and compute."""
    import mlx.core as mx
    import mlx.optimizers as optim
    from mlx_lm import load
    from mlx_lm.tuner import trainer as mlx_trainer
    from mlx_lm.tuner.callbacks import TrainingCallback
    from mlx_lm.tuner.utils import linear_to_lora_layers
    from transformers import AutoTokenizer

    from vulntune.models.prompt_format import prompt_format_for

    model_dir = Path(settings.model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    encoded = encode(tokenizer, prompt_format_for(model_dir), builtin_examples(settings.examples))
    mx.random.seed(settings.seed)
    model, _ = load(str(model_dir))
    model.freeze()
    keys = [f"self_attn.{m}" if m.endswith(("q_proj", "k_proj", "v_proj", "o_proj")) else
            f"mlp.{m}" for m in settings.target_modules]  # fmt: skip
    lora = {
        "rank": settings.lora_rank,
        "scale": settings.lora_alpha / settings.lora_rank,  # PEFT's alpha / r
        "dropout": settings.lora_dropout,
        "keys": keys,
    }
    linear_to_lora_layers(model, len(model.layers), lora)
    n_batches = len(encoded) // settings.batch_size  # mlx_lm drops a last partial batch
    iters = n_batches * settings.epochs
    iters = min(iters, settings.max_steps) if settings.max_steps else iters
    warmup = max(1, round(settings.warmup_ratio * iters))
    schedule = optim.join_schedules(
        [
            optim.linear_schedule(0.0, settings.learning_rate, warmup),
            optim.cosine_decay(settings.learning_rate, max(1, iters - warmup)),
        ],
        [warmup],
    )
    optimizer = optim.AdamW(learning_rate=schedule, weight_decay=0.0)
    batches: list[StepStats] = []
    ends: list[StepStats] = []

    def recording_batches(**kwargs: Any) -> Any:
        for batch, spans in mlx_trainer.iterate_batches(**kwargs):
            lengths = [int(n) for n in spans[:, 1].tolist()]
            offsets = [int(o) for o in spans[:, 0].tolist()]
            stats = stats_of_lengths(
                lengths,
                batch.shape[1] - 1,
                sum(n - o for n, o in zip(lengths, offsets, strict=True)),
            )
            batches.append(stats)
            yield batch, spans

    class StepEnd(TrainingCallback):
        def on_train_loss_report(self, train_info: dict) -> None:
            ends.append(stamp(StepStats()))

    with tempfile.TemporaryDirectory() as out:
        args = mlx_trainer.TrainingArgs(
            batch_size=settings.batch_size,
            iters=iters,
            steps_per_report=1,
            steps_per_eval=10**9,
            steps_per_save=10**9,
            max_seq_length=MAX_SEQ_LEN,
            adapter_file=str(Path(out) / "adapters.safetensors"),
        )
        dataset = [(e.input_ids, e.n_prompt) for e in encoded]
        mlx_trainer.train(
            model,
            optimizer,
            dataset,
            args=args,
            iterate_batches=recording_batches,
            training_callback=StepEnd(),
        )
    steps = with_clocks(batches[: len(ends)], ends)
    notes = ["float32 (MLX has no autocast)", "no gradient clipping (mlx_lm has none)"]
    return RunResult("mlx", steps, notes)
