"""A trained two-stage run whose base model is a tiny random Llama (a local model directory),
shared by the export and publish tests: Llama so that the GGUF converter supports it, local
so that the card reads its licence from its own README."""

from __future__ import annotations

import pytest

from .tiny_llama import build_tiny_llama


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory):
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama") / "model")


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, tiny_llama_dir, tiny_config, make_data_files):
    from vulntune.datasets.examples import read_examples
    from vulntune.runs.manager import TrainingRunManager
    from vulntune.training.sequential import SequentialFineTuner

    root = tmp_path_factory.mktemp("publish-run")
    analysis, codefix = make_data_files(root / "data", n=16)
    run = TrainingRunManager(root / "runs").create_run(str(tiny_llama_dir), tiny_config)
    run.import_data(read_examples(analysis), read_examples(codefix))
    SequentialFineTuner(run, say=lambda _m: None, show_progress=False).train("all")
    return run
