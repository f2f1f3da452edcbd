"""A stage killed with SIGKILL resumes from its last checkpoint and ends where an
uninterrupted run ends; no manifest path ever holds a partial artifact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from vulntune.datasets.examples import read_examples
from vulntune.runs.artifacts import ArtifactError, validate_model_dir
from vulntune.runs.config import TrainingConfig
from vulntune.runs.manager import TrainingRunManager
from vulntune.runs.run import TrainingRun
from vulntune.training.sequential import SequentialFineTuner


def _config(tiny_config: TrainingConfig) -> TrainingConfig:
    # Enough steps that the child is reliably still training when it is killed.
    data = tiny_config.model_dump()
    data["stage1"].update(epochs=12, checkpoint_every=4)
    return TrainingConfig.from_mapping(data)


def _check_artifact(path: Path) -> None:
    """Raise if an artifact at a manifest path is incomplete."""
    if path.is_dir():
        if path.name.endswith("model"):
            validate_model_dir(path)
        elif path.name == "adapter":
            assert (path / "adapter_config.json").is_file()
            assert (path / "adapter_model.safetensors").is_file()
    elif path.suffix == ".json":
        json.loads(path.read_text())
    elif path.suffix == ".jsonl":
        text = path.read_text()
        assert text.endswith("\n")
        for line in text.splitlines():
            json.loads(line)


class ArtifactWatcher(threading.Thread):
    """Polls every manifest path while training runs and records any partial artifact."""

    def __init__(self, run: TrainingRun) -> None:
        super().__init__(daemon=True)
        self.paths = [run.dir / rel for rel in run.manifest.training_artifact_paths().values()]
        self.paths = [p for p in self.paths if p.name != "checkpoints"]
        self.stop = threading.Event()
        self.problems: list[str] = []
        self.checks = 0

    def run(self) -> None:
        while not self.stop.is_set():
            for path in self.paths:
                try:
                    if path.exists():
                        _check_artifact(path)
                        self.checks += 1
                except FileNotFoundError:
                    pass  # replaced between exists() and reading: atomic rename at work
                except (ArtifactError, AssertionError, ValueError) as exc:
                    self.problems.append(f"{path}: {exc!r}")
            time.sleep(0.002)


def _train_losses(metrics: Path) -> list[float]:
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    return [r["loss"] for r in records if r["type"] == "train"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny_config, make_data_files) -> TrainingRun:
    """Stage 1 trained without interruption, on the data of ``data``."""
    root = tmp_path_factory.mktemp("reference")
    files = make_data_files(root / "data")
    run = TrainingRunManager(root / "runs").create_run("tiny-random", _config(tiny_config))
    run.import_data(read_examples(files[0]), read_examples(files[1]))
    SequentialFineTuner(run, say=lambda _m: None, show_progress=False).train("1")
    return run


def test_sigkilled_stage_resumes_and_matches_an_uninterrupted_run(
    tmp_path, tiny_config, data_files, reference
):
    config = _config(tiny_config)
    manager = TrainingRunManager(tmp_path / "runs")
    analysis, codefix = read_examples(data_files[0]), read_examples(data_files[1])

    run = manager.create_run("tiny-random", config)
    run.import_data(analysis, codefix)
    watcher = ArtifactWatcher(run)
    watcher.start()
    child = subprocess.Popen(
        [sys.executable, "-m", "vulntune", "train", str(run.dir), "--stage", "1", "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    # Kill it once it has written its second checkpoint, i.e. mid-stage.
    second = run.stage1.checkpoints / "step-00000008"
    deadline = time.monotonic() + 120
    while not second.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert child.poll() is None, f"training ended before it could be killed: {child.stderr.read()}"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert not run.is_complete(1)
    assert not run.stage1.metrics.exists() and not run.stage1.merged_model.exists()

    resumed = SequentialFineTuner(
        TrainingRun.load(run.dir), say=lambda _m: None, show_progress=False
    ).train("1")
    watcher.stop.set()
    watcher.join()
    assert watcher.problems == []
    assert watcher.checks > 0
    assert resumed["stage1"].resumed_from_step >= 8
    assert run.is_complete(1)

    expected = _train_losses(reference.stage1.metrics)
    actual = _train_losses(run.stage1.metrics)
    assert len(actual) == len(expected)
    assert actual == pytest.approx(expected, abs=1e-6)
    evaluation = run.read_evaluation(1)["evaluation"]["validation"]["loss"]
    assert evaluation == pytest.approx(
        reference.read_evaluation(1)["evaluation"]["validation"]["loss"], abs=1e-6
    )


def test_a_killed_run_moved_with_its_model_cache_elsewhere_still_resumes(
    tmp_path, tiny_config, data_files, reference, monkeypatch
):
    """The resume signature holds the base model's content, not its path: a run directory
    copied to another machine, whose model cache is elsewhere, resumes where it stopped."""
    config = _config(tiny_config)
    analysis, codefix = read_examples(data_files[0]), read_examples(data_files[1])

    # "Machine A": its own model cache; the run is killed mid-stage.
    cache_a = tmp_path / "cache-a"
    monkeypatch.setenv("VULNTUNE_CACHE", str(cache_a))
    run = TrainingRunManager(tmp_path / "machine-a").create_run("tiny-random", config)
    run.import_data(analysis, codefix)
    child = subprocess.Popen(
        [sys.executable, "-m", "vulntune", "train", str(run.dir), "--stage", "1", "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    second = run.stage1.checkpoints / "step-00000008"
    deadline = time.monotonic() + 120
    while not second.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert child.poll() is None, f"training ended before it could be killed: {child.stderr.read()}"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    # "Machine B": the run directory and the model cache both live somewhere else.
    moved = tmp_path / "machine-b" / "runs" / run.dir.name
    moved.parent.mkdir(parents=True)
    run.dir.rename(moved)
    cache_b = tmp_path / "machine-b" / "cache"
    cache_a.rename(cache_b)
    monkeypatch.setenv("VULNTUNE_CACHE", str(cache_b))
    said: list[str] = []
    resumed = SequentialFineTuner(
        TrainingRun.load(moved), say=said.append, show_progress=False
    ).train("1")
    assert resumed["stage1"].resumed_from_step >= 8, said
    moved_run = TrainingRun.load(moved)
    assert moved_run.is_complete(1)
    expected = _train_losses(reference.stage1.metrics)
    assert _train_losses(moved_run.stage1.metrics) == pytest.approx(expected, abs=1e-6)
