"""`vulntune runs create/list/show`, run as a user runs them: exit codes, --json, states."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from vulntune.datasets.examples import read_examples, split_examples
from vulntune.io.lock import RunLock
from vulntune.runs.run import TrainingRun


@pytest.fixture(scope="module")
def created(
    cli, tmp_path_factory, data, tiny_config_file
) -> tuple[Path, subprocess.CompletedProcess]:
    """One run created through the CLI with data, shared by the read-only tests."""
    runs_dir = tmp_path_factory.mktemp("cli-runs")
    done = cli.ok(
        "runs", "create", "--base-model", "tiny-random", "--runs-dir", runs_dir,
        "--config", tiny_config_file, "--analysis-data", data[0], "--codefix-data", data[1],
    )  # fmt: skip
    return runs_dir, done


# -- runs create -----------------------------------------------------------------------


def test_create_prints_the_run_dir_last(cli, tmp_path):
    done = cli.ok("runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path)
    run_dir = Path(done.stdout.splitlines()[-1])
    (entry,) = tmp_path.iterdir()
    assert run_dir == entry
    run = TrainingRun.load(run_dir)
    assert f"created run {run.id} (base model tiny-random)" in done.stdout
    assert sorted(p.name for p in run_dir.iterdir()) == ["config.json", "run-manifest.json"]
    assert run.manifest.config.stage1.epochs == 2  # defaults without --config


def test_create_with_data_places_the_splits_at_the_manifest_paths(created, data):
    runs_dir, done = created
    run = TrainingRun.load(Path(done.stdout.splitlines()[-1]))
    assert run.dir.parent == runs_dir
    assert "data: stage 1 14 train / 2 validation, stage 2 14 train / 2 validation" in done.stdout
    assert run.manifest.config.stage1.batch_size == 4  # from --config
    seed, fraction = run.manifest.config.data_seed, run.manifest.config.data.validation_fraction
    for source, train, validation in (
        (data[0], run.stage1.train_data, run.stage1.validation_data),
        (data[1], run.stage2.codefix_dataset, run.stage2.validation_data),
    ):
        assert (read_examples(train), read_examples(validation)) == split_examples(
            read_examples(source), fraction, seed
        )
    assert not (run.dir / "stage1").exists() and not (run.dir / "stage2").exists()


def test_malformed_data_is_one_error_naming_file_and_line_and_creates_no_run(cli, tmp_path, data):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(data[0].read_text() + '{"prompt": "p", "completion": 3}\n')
    runs_dir = tmp_path / "runs"
    stderr = cli.error(
        "runs", "create", "--base-model", "tiny-random", "--runs-dir", runs_dir,
        "--analysis-data", bad, "--codefix-data", data[1],
    )  # fmt: skip
    assert f"{bad}:17: missing or non-string 'completion'" in stderr
    assert not runs_dir.exists()


@pytest.mark.parametrize("flag", ["--analysis-data", "--codefix-data"])
def test_only_one_data_flag_is_a_usage_error(cli, tmp_path, data, flag):
    message = cli.usage_error(
        "runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path / "runs",
        flag, data[0],
    )  # fmt: skip
    assert "Usage: vulntune runs create [OPTIONS]" in message
    assert (
        "Invalid value for '--analysis-data' / '--codefix-data': "
        "give both --analysis-data and --codefix-data, or neither"
    ) in message
    assert not (tmp_path / "runs").exists()


def test_create_json_is_one_document_and_people_read_stderr(cli, tmp_path, data, tiny_config_file):
    done = cli.ok(
        "runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path,
        "--config", tiny_config_file, "--analysis-data", data[0], "--codefix-data", data[1],
        "--json",
    )  # fmt: skip
    created = cli.json(done)
    (run_dir,) = tmp_path.iterdir()
    run = TrainingRun.load(run_dir)
    assert created == {
        "run_id": run.id,
        "run_dir": str(run_dir),
        "base_model": run.manifest.base_model.model_dump(mode="json"),
        "data": {
            "stage1_train": 14,
            "stage1_validation": 2,
            "stage2_train": 14,
            "stage2_validation": 2,
            "stage1_test": 0,  # --analysis-data/--codefix-data have no test split
            "stage2_test": 0,
        },
    }
    assert f"created run {run.id} (base model tiny-random)" in done.stderr
    assert done.stderr.splitlines()[-1] == str(run_dir)


def test_create_json_without_data(cli, tmp_path):
    created = cli.json(
        cli.ok("runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path, "--json")
    )
    assert created["data"] is None and Path(created["run_dir"]).parent == tmp_path


def test_an_unknown_config_key_is_refused_naming_it(cli, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[stage1]\nepoch = 3\n")
    stderr = cli.error(
        "runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path / "runs",
        "--config", config,
    )  # fmt: skip
    assert (
        f"{config}: invalid configuration: stage1.epoch: Extra inputs are not permitted" in stderr
    )
    assert not (tmp_path / "runs").exists()


# -- runs list / show ------------------------------------------------------------------


def test_runs_list_table_and_json(cli, created):
    runs_dir, done = created
    run = TrainingRun.load(Path(done.stdout.splitlines()[-1]))
    table = cli.ok("runs", "list", "--runs-dir", runs_dir).stdout
    assert "1 run(s)" in table and run.id in table and "not started" in table
    (row,) = cli.json(cli.ok("runs", "list", "--runs-dir", runs_dir, "--json"))
    assert row == {
        "run_id": run.id,
        "dir": str(run.dir),
        "created_at": run.manifest.created_at,
        "base_model": "tiny-random",
        "stage1": "not started",
        "stage2": "not started",
    }


def test_runs_list_shows_a_broken_run(cli, tmp_path):
    (tmp_path / "20260101-000000-00000000").mkdir()
    (tmp_path / "20260101-000000-00000000" / "run-manifest.json").write_text('{"schema_')
    (row,) = cli.json(cli.ok("runs", "list", "--runs-dir", tmp_path, "--json"))
    assert row["dir"] == str(tmp_path / "20260101-000000-00000000")
    assert "not valid JSON" in row["problem"]
    assert "broken" in cli.ok("runs", "list", "--runs-dir", tmp_path).stdout


def test_runs_show_table_and_json(cli, created):
    runs_dir, done = created
    run = TrainingRun.load(Path(done.stdout.splitlines()[-1]))
    table = cli.ok("runs", "show", run.id, "--runs-dir", runs_dir).stdout
    assert f"run {run.id}" in table
    assert "stage1: not started" in table and "stage2: not started" in table
    assert "stage2/final-model" in table
    shown = cli.ok("runs", "show", str(run.dir), "--json")
    summary = cli.json(shown)
    assert shown.stderr == ""
    assert summary["run_id"] == run.id and summary["has_data"] is True
    assert summary["stages"] == {
        "stage1": {"state": "not started"},
        "stage2": {"state": "not started"},
    }
    assert summary["semantics"]["stage2_mode"] == "merge"
    assert summary["artifacts"]["stage1.train_data"] == {
        "path": "data/stage1-train.jsonl",
        "exists": True,
    }
    assert summary["artifacts"]["stage1.adapter"]["exists"] is False
    assert summary["inference_model"] == "stage2/final-model"


def test_runs_show_an_unknown_run(cli, tmp_path):
    stderr = cli.error("runs", "show", "no-such-run", "--runs-dir", tmp_path)
    assert "no run 'no-such-run'" in stderr


def test_a_run_whose_lock_is_held_is_listed_as_training(cli, tmp_path):
    done = cli.ok("runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path)
    run = TrainingRun.load(Path(done.stdout.splitlines()[-1]))
    (run.stage1.checkpoints / "step-00000003").mkdir(parents=True)  # trained a little
    with RunLock(run.dir):  # as `vulntune train` holds it while it trains
        (row,) = cli.json(cli.ok("runs", "list", "--runs-dir", tmp_path, "--json"))
        assert (row["stage1"], row["stage2"]) == ("training", "not started")
        assert "training" in cli.ok("runs", "list", "--runs-dir", tmp_path).stdout
        shown = cli.json(cli.ok("runs", "show", run.dir, "--json"))
        assert shown["stages"]["stage1"] == {"state": "training"}
    # The owner is gone (released, or killed: the kernel drops its flock): resumable.
    (row,) = cli.json(cli.ok("runs", "list", "--runs-dir", tmp_path, "--json"))
    assert row["stage1"] == "interrupted"
