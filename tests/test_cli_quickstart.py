"""`vulntune quickstart`, run as a user runs it (on tiny-random, to keep it quick)."""

from __future__ import annotations

import os
import subprocess
import sys

from vulntune.runs.run import TrainingRun


def test_quickstart_trains_both_stages_on_the_builtin_data_and_shows_samples(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"}
    args = ["quickstart", "--base-model", "tiny-random", "--runs-dir", str(tmp_path)]
    args += ["--epochs", "1", "--samples", "1", "--no-progress"]
    done = subprocess.run(
        [sys.executable, "-m", "vulntune", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "held-out finding ho-" in done.stdout and "trained model wrote" in done.stdout
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert f"run directory: {run_dir}" in done.stdout
    run = TrainingRun.load(run_dir)
    assert run.is_complete(1) and run.is_complete(2)
    # The built-in data, split 43/5 per stage; the overrides reached both stages.
    assert len(run.stage1.train_data.read_text().splitlines()) == 43
    assert run.manifest.config.stage1.epochs == run.manifest.config.stage2.epochs == 1
    assert run.manifest.base_model.spec == "tiny-random"
