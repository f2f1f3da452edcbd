"""Data-parallel training with torchrun produces the artifacts a single process produces."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vulntune.datasets.examples import read_examples
from vulntune.io.atomic import TMP_MARKER
from vulntune.runs.artifacts import read_safetensors_header
from vulntune.runs.config import TrainingConfig, load_config
from vulntune.runs.manager import TrainingRunManager
from vulntune.runs.run import TrainingRun


def _new_run(
    runs_dir: Path, config_file: Path, data: tuple[Path, Path], grad_accum_steps: int
) -> TrainingRun:
    """A run with the tiny config, LoRA dropout off (it draws from each process's RNG, so it
    would differ between one and two processes), and the given gradient accumulation."""
    config = load_config(config_file).model_dump()
    config["lora"]["dropout"] = 0.0
    for stage in ("stage1", "stage2"):
        config[stage]["grad_accum_steps"] = grad_accum_steps
    run = TrainingRunManager(runs_dir).create_run(
        "tiny-random", TrainingConfig.from_mapping(config)
    )
    run.import_data(read_examples(data[0]), read_examples(data[1]))
    return run


def _train_losses(metrics: Path) -> list[float]:
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    return [r["loss"] for r in records if r["type"] == "train"]


def _train(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]


def _files(run: TrainingRun) -> set[str]:
    """Every file at or under a manifest path, except the resumable checkpoints."""
    found = set()
    for name, rel in run.manifest.training_artifact_paths().items():
        path = run.dir / rel
        if name.endswith("checkpoints"):
            continue
        found |= {str(p.relative_to(run.dir)) for p in [path, *path.rglob("*")] if p.is_file()}
    return found


def test_torchrun_two_processes_match_one_process(
    tmp_path, tiny_config_file, make_data_files, isolated_model_cache
):
    data = make_data_files(tmp_path / "data", n=16)
    # One process accumulating 2 micro-batches per step does the same arithmetic as two
    # processes with one micro-batch each: same batches per step, same normalisation.
    single = _new_run(tmp_path / "runs", tiny_config_file, data, grad_accum_steps=2)
    double = _new_run(tmp_path / "runs", tiny_config_file, data, grad_accum_steps=1)
    # One intra-op thread per process, as torchrun sets it, so neither run oversubscribes.
    env = {**os.environ, "VULNTUNE_CACHE": str(isolated_model_cache), "OMP_NUM_THREADS": "1"}
    train = ["-m", "vulntune", "train", "--no-progress"]
    _train([sys.executable, *train, str(single.dir)], env)
    _train(
        [
            *(sys.executable, "-m", "torch.distributed.run", "--standalone"),
            "--nproc_per_node=2",
            *train,
            str(double.dir),
        ],
        env,
    )

    for run in (single, double):
        for name, rel in run.manifest.training_artifact_paths().items():
            assert (run.dir / rel).exists(), f"{run.dir}: {name} ({rel}) missing"
        assert run.is_complete(1) and run.is_complete(2), run.stage_status(2).problems
        leftovers = [p for p in run.dir.rglob("*") if TMP_MARKER in p.name]
        assert leftovers == []
    assert _files(single) == _files(double)

    # Rank 0 prepared the Stage-2 mix once, identically.
    for rel in ("stage2/mixed-train.jsonl", "stage2/replay.json"):
        assert (single.dir / rel).read_bytes() == (double.dir / rel).read_bytes()

    # Same adapters and models, tensor by tensor (names, dtypes, shapes).
    for rel in ("stage1/adapter", "stage2/adapter"):
        headers = [
            read_safetensors_header(r.dir / rel / "adapter_model.safetensors")
            for r in (single, double)
        ]
        assert headers[0] == headers[1] and len(headers[0]) == 2 * 7 * 2
    for rel in ("stage1/merged-model", "stage2/final-model"):
        headers = [
            read_safetensors_header(r.dir / rel / "model.safetensors") for r in (single, double)
        ]
        assert headers[0] == headers[1]

    # 14 Stage-1 training examples in batches of 4 -> 4 batches per epoch, 2 per step;
    # Stage 2: 19 -> 5 batches, 3 steps per epoch.
    for stage, steps in ((1, 4), (2, 6)):
        one, two = (r.read_evaluation(stage) for r in (single, double))
        assert (one["world_size"], two["world_size"]) == (1, 2)
        assert one["steps"] == two["steps"] == steps
        assert one["examples_trained"] == two["examples_trained"]
        assert one["tokens_trained"] == two["tokens_trained"]
        assert one["evaluation"].keys() == two["evaluation"].keys()
        for name, result in two["evaluation"].items():
            # Validation is sharded over both ranks and summed: the same tokens are counted.
            assert result["tokens"] == one["evaluation"][name]["tokens"]
            assert result["examples"] == one["evaluation"][name]["examples"]
            assert result["loss"] == pytest.approx(one["evaluation"][name]["loss"], abs=1e-6)
    for metrics in ("stage1/metrics.jsonl", "stage2/metrics.jsonl"):
        losses = [_train_losses(r.dir / metrics) for r in (single, double)]
        assert losses[1] == pytest.approx(losses[0], abs=1e-6)

    # Only rank 0 wrote metrics: one record per step, none duplicated.
    records = [json.loads(x) for x in double.stage1.metrics.read_text().splitlines()]
    assert [r["step"] for r in records if r["type"] == "train"] == [1, 2, 3, 4]
    assert (double.dir / ".lock").read_text() == ""  # released by its owner
