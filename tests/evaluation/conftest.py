"""A trained tiny-random run whose data has the builtin layouts and a test split with meta."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vulntune.datasets.builtin import load_builtin
from vulntune.datasets.examples import example_from_obj
from vulntune.evaluation.evaluate import Completer
from vulntune.inference.generate import GenerationSettings, Generator
from vulntune.runs.manager import TrainingRunManager
from vulntune.runs.run import TrainingRun
from vulntune.training.sequential import SequentialFineTuner

# Short answers keep generation with three models quick; the mechanics are the same.
TEST_SETTINGS = GenerationSettings(batch_size=8, max_new_tokens={"analysis": 100, "codefix": 40})


def short_generator(model_dir: Path, prompt_format: str) -> Completer:
    return Generator(model_dir, prompt_format, TEST_SETTINGS)


def _write_test_split(path: Path, records: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory, tiny_config) -> TrainingRun:
    """Both stages trained on part of the builtin data; a test split from the rest."""
    return build_trained_run(tmp_path_factory.mktemp("evaluation"), tiny_config)


def build_trained_run(root: Path, tiny_config) -> TrainingRun:
    """A tiny-random run trained on builtin examples, with test splits that carry meta."""
    run = TrainingRunManager(root / "runs").create_run("tiny-random", tiny_config)
    analysis, codefix = load_builtin("analysis"), load_builtin("codefix")
    run.import_data(
        [example_from_obj(r) for r in analysis[:16]], [example_from_obj(r) for r in codefix[:16]]
    )
    SequentialFineTuner(run, say=lambda _m: None, show_progress=False).train("all")
    assert run.stage1.test_data is not None and run.stage2.test_data is not None
    _write_test_split(run.stage1.test_data, [*analysis[40:44], *load_builtin("heldout")[:1]])
    # log4j in a pom, a Debian base image (an OS package: not judged by version), requests
    # in requirements.txt, and a code fix.
    fixes = [codefix[25], codefix[26], codefix[35], codefix[44]]
    for record in fixes[:3]:
        record["meta"] = {"group": record["id"], "fix_source": "dependency"}
    _write_test_split(run.stage2.test_data, fixes)
    return run
