"""LoRA on the real SmolLM2-135M-Instruct learns a real task: the loss falls."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vulntune.datasets.builtin import load_builtin
from vulntune.datasets.examples import example_from_obj
from vulntune.models.resolve import resolve_model
from vulntune.runs.config import TrainingConfig
from vulntune.runs.manager import TrainingRunManager
from vulntune.training.sequential import SequentialFineTuner


def user_model_cache() -> Path:
    """The machine's model cache, so the ~700 MB SmolLM2 conversion happens once per machine."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "vulntune"


@pytest.mark.slow
def test_lora_on_smollm2_lowers_the_loss_on_finding_analysis(tmp_path):
    resolved = resolve_model("smollm2-135m", cache_dir=user_model_cache())
    config = TrainingConfig.from_mapping(
        {
            "data": {"max_seq_len": 640},
            "stage1": {"epochs": 2, "batch_size": 8, "learning_rate": 5e-4},
        }
    )
    run = TrainingRunManager(tmp_path).create_run("smollm2-135m", config, resolved=resolved)
    assert run.manifest.semantics.prompt_format == "chat_template"
    analysis = [example_from_obj(r) for r in load_builtin("analysis")]
    codefix = [example_from_obj(r) for r in load_builtin("codefix")]
    run.import_data(analysis, codefix)

    SequentialFineTuner(run, say=lambda _m: None, show_progress=False).train("1")

    records = [json.loads(line) for line in run.stage1.metrics.read_text().splitlines()]
    evals = [r for r in records if r["type"] == "eval" and r["set"] == "validation"]
    before, after = evals[0], evals[-1]
    assert before["step"] == 0 and after["step"] > 0
    # The pretrained model already writes English; what it learns here is the analysis
    # layout and vocabulary of the findings, which should cut the loss substantially.
    assert after["loss"] < 0.85 * before["loss"], (before, after)
    train = [r["loss"] for r in records if r["type"] == "train"]
    assert sum(train[-3:]) / 3 < sum(train[:3]) / 3
    assert run.is_complete(1)
