"""`vulntune runs create/list/show` and `vulntune train`, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vulntune.datasets.examples import read_examples, split_examples
from vulntune.runs.run import TrainingRun


def _vulntune(*args: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    # One intra-op thread: the tiny model trains several times faster on a busy machine.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "vulntune", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def _ok(*args: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    done = _vulntune(*args, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done


def _error(*args: object) -> str:
    """stderr of a command that must fail with exit status 1 and one error message."""
    done = _vulntune(*args)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.count("error:") == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def _numbered_data(directory: Path, n: int = 16) -> tuple[Path, Path]:
    """Both files number their examples 0..n-1, as users do: ids collide across files."""
    directory.mkdir(parents=True, exist_ok=True)
    words = "query cursor token header cookie path file version package".split()
    paths = []
    for kind in ("analysis", "codefix"):
        lines = [
            json.dumps(
                {
                    "id": i,
                    "prompt": f"{kind} finding {i}: " + " ".join(words[: 2 + i % 7]),
                    "completion": " ".join(reversed(words[: 3 + i % 5])),
                }
            )
            for i in range(n)
        ]
        path = directory / f"{kind}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths[0], paths[1]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[Path, Path]:
    return _numbered_data(tmp_path_factory.mktemp("cli-data"))


@pytest.fixture(scope="module")
def created(tmp_path_factory, data, tiny_config_file) -> tuple[Path, subprocess.CompletedProcess]:
    """One run created through the CLI with data, shared by the read-only tests."""
    runs_dir = tmp_path_factory.mktemp("cli-runs")
    done = _ok(
        "runs", "create", "--base-model", "tiny-random", "--runs-dir", runs_dir,
        "--config", tiny_config_file, "--analysis-data", data[0], "--codefix-data", data[1],
    )  # fmt: skip
    return runs_dir, done


# -- runs create -----------------------------------------------------------------------


def test_create_prints_the_run_dir_last(tmp_path):
    done = _ok("runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path)
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


def test_malformed_data_is_one_error_naming_file_and_line_and_creates_no_run(tmp_path, data):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(data[0].read_text() + '{"prompt": "p", "completion": 3}\n')
    runs_dir = tmp_path / "runs"
    stderr = _error(
        "runs", "create", "--base-model", "tiny-random", "--runs-dir", runs_dir,
        "--analysis-data", bad, "--codefix-data", data[1],
    )  # fmt: skip
    assert f"{bad}:17: missing or non-string 'completion'" in stderr
    assert not runs_dir.exists()


def test_only_one_data_flag_is_an_error(tmp_path, data):
    stderr = _error(
        "runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path / "runs",
        "--analysis-data", data[0],
    )  # fmt: skip
    assert "give both --analysis-data and --codefix-data, or neither" in stderr
    assert not (tmp_path / "runs").exists()


def test_an_unknown_config_key_is_refused_naming_it(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[stage1]\nepoch = 3\n")
    stderr = _error(
        "runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path / "runs",
        "--config", config,
    )  # fmt: skip
    assert (
        f"{config}: invalid configuration: stage1.epoch: Extra inputs are not permitted" in stderr
    )
    assert not (tmp_path / "runs").exists()


# -- runs list / show ------------------------------------------------------------------


def test_runs_list_table_and_json(created):
    runs_dir, done = created
    run = TrainingRun.load(Path(done.stdout.splitlines()[-1]))
    table = _ok("runs", "list", "--runs-dir", runs_dir).stdout
    assert "1 run(s)" in table and run.id in table and "not started" in table
    (row,) = json.loads(_ok("runs", "list", "--runs-dir", runs_dir, "--json").stdout)
    assert row == {
        "run_id": run.id,
        "dir": str(run.dir),
        "created_at": run.manifest.created_at,
        "base_model": "tiny-random",
        "stage1": "not started",
        "stage2": "not started",
    }


def test_runs_list_shows_a_broken_run(tmp_path):
    (tmp_path / "20260101-000000-00000000").mkdir()
    (tmp_path / "20260101-000000-00000000" / "run-manifest.json").write_text('{"schema_')
    (row,) = json.loads(_ok("runs", "list", "--runs-dir", tmp_path, "--json").stdout)
    assert row["dir"] == str(tmp_path / "20260101-000000-00000000")
    assert "not valid JSON" in row["problem"]
    assert "broken" in _ok("runs", "list", "--runs-dir", tmp_path).stdout


def test_runs_show_table_and_json(created):
    runs_dir, done = created
    run = TrainingRun.load(Path(done.stdout.splitlines()[-1]))
    table = _ok("runs", "show", run.id, "--runs-dir", runs_dir).stdout
    assert f"run {run.id}" in table
    assert "stage1: not started" in table and "stage2: not started" in table
    assert "stage2/final-model" in table
    summary = json.loads(_ok("runs", "show", str(run.dir), "--json").stdout)
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


def test_runs_show_an_unknown_run(tmp_path):
    stderr = _error("runs", "show", "no-such-run", "--runs-dir", tmp_path)
    assert "no run 'no-such-run'" in stderr


# -- train -----------------------------------------------------------------------------


def test_stage2_on_a_fresh_run_names_the_stage1_artifact(created):
    _, done = created
    run_dir = Path(done.stdout.splitlines()[-1])
    stderr = _error("train", run_dir, "--stage", "2", "--no-progress")
    assert "stage1/merged-model" in stderr and f"vulntune train {run_dir} --stage 1" in stderr
    assert sorted(p.name for p in run_dir.iterdir()) == ["config.json", "data", "run-manifest.json"]


def test_an_unknown_stage_is_refused(created):
    _, done = created
    stderr = _error("train", done.stdout.splitlines()[-1], "--stage", "3")
    assert "--stage must be 1, 2 or all, not '3'" in stderr


def test_train_then_show_says_both_stages_are_complete(tmp_path, data, tiny_config_file):
    created = _ok(
        "runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path,
        "--config", tiny_config_file, "--analysis-data", data[0], "--codefix-data", data[1],
    )  # fmt: skip
    run_dir = Path(created.stdout.splitlines()[-1])
    trained = _ok("train", run_dir.name, "--runs-dir", tmp_path, "--no-progress", timeout=240)
    assert "stage1: 8 steps" in trained.stdout and "stage2: 10 steps" in trained.stdout
    assert str(run_dir / "stage2" / "final-model") in trained.stdout

    summary = json.loads(_ok("runs", "show", run_dir, "--json").stdout)
    for stage in ("stage1", "stage2"):
        assert summary["stages"][stage]["state"] == "complete"
        assert summary["stages"][stage]["validation"]["validation"]["tokens"] > 0
    assert all(info["exists"] for info in summary["artifacts"].values())
    # Both files numbered their examples 0..15: the mix still has unique ids.
    replay = json.loads((run_dir / "stage2" / "replay.json").read_text())
    mixed = read_examples(run_dir / "stage2" / "mixed-train.jsonl")
    assert len(mixed) == 14 + replay["n_replayed"] == 19
    assert {e.id for e in mixed} >= {f"stage1:{i}" for i in replay["replayed_ids"]}

    again = _ok("train", run_dir, "--no-progress")
    assert "stage1: skipped (already complete)" in again.stdout
    assert "stage2: skipped (already complete)" in again.stdout
