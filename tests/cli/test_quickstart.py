"""`vulntune quickstart`, run as a user runs it (on tiny-random, to keep it quick)."""

from __future__ import annotations

import pytest

from vulntune.runs.run import TrainingRun


def test_quickstart_trains_both_stages_on_the_builtin_data_and_shows_samples(cli, tmp_path):
    done = cli.ok(
        "quickstart", "--base-model", "tiny-random", "--runs-dir", tmp_path,
        "--epochs", "1", "--samples", "1", "--no-progress", "--json", timeout=240,
    )  # fmt: skip
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    run = TrainingRun.load(run_dir)
    result = cli.json(done)
    assert result["run_id"] == run.id and result["run_dir"] == str(run_dir)
    assert result["model"] == str(run_dir / "stage2" / "final-model")
    (sample,) = result["samples"]
    assert sample["id"].startswith("ho-") and sample["prompt"] and sample["reference"]
    assert isinstance(sample["generated"], str)
    # With --json, what people read goes to stderr.
    assert "held-out finding ho-" in done.stderr and "trained model wrote" in done.stderr
    assert f"run directory: {run_dir}" in done.stderr
    assert run.is_complete(1) and run.is_complete(2)
    # The built-in data, split 43/5 per stage; the overrides reached both stages.
    assert len(run.stage1.train_data.read_text().splitlines()) == 43
    assert run.manifest.config.stage1.epochs == run.manifest.config.stage2.epochs == 1
    assert run.manifest.base_model.spec == "tiny-random"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--epochs", "0"], "Invalid value for '--epochs'"),
        (["--epochs", "-2"], "Invalid value for '--epochs'"),
        (["--samples", "-1"], "Invalid value for '--samples'"),
    ],
)
def test_out_of_range_numbers_are_usage_errors(cli, tmp_path, args, problem):
    message = cli.usage_error("quickstart", "--runs-dir", tmp_path, *args)
    assert "Usage: vulntune quickstart [OPTIONS]" in message and problem in message
    assert list(tmp_path.iterdir()) == []  # refused before any work
