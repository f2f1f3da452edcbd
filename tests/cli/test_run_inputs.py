"""`vulntune run` refuses bad inputs in one line, exit 1, before any run exists."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile

import pytest

from vulntune.demo.project import DemoRepository, build_demo_repository, reports_dir


@pytest.fixture(scope="module")
def demo_repo(tmp_path_factory) -> DemoRepository:
    """The demo project's git repository: the source root of its reports."""
    return build_demo_repository(tmp_path_factory.mktemp("demo") / "tinyparcel")


def _no_run(runs) -> None:
    assert not runs.exists() or not [p for p in runs.iterdir() if not p.name.startswith(".")]


def test_no_reports(cli, tmp_path):
    err = cli.error("run", "--base-model", "tiny-random", "--runs-dir", tmp_path / "runs")
    assert "no scanner reports given" in err
    _no_run(tmp_path / "runs")


def test_a_missing_report_and_an_unknown_revision(cli, tmp_path, demo_repo):
    runs = tmp_path / "runs"
    err = cli.error("run", tmp_path / "nope.sarif", "--runs-dir", runs)
    assert f"{tmp_path / 'nope.sarif'}: no such report file or folder" in err
    err = cli.error("run", f"r9={reports_dir('r1')}", "--source-root", demo_repo.path,
                    "--runs-dir", runs)  # fmt: skip
    assert "revision 'r9' is not a commit, tag or branch" in err
    _no_run(runs)


def test_an_unreadable_report_is_named_and_no_run_is_created(cli, tmp_path):
    bad = tmp_path / "trivy.json"
    bad.write_text('{"SchemaVersion": 2, "Results": [')
    runs = tmp_path / "runs"
    err = cli.error("run", reports_dir("r1") / "bandit.json", bad, "--base-model", "tiny-random",
                    "--runs-dir", runs, "--no-progress")  # fmt: skip
    assert f"{bad}: cannot read this report" in err
    _no_run(runs)
    # The failed step is in no run, and no half-made work folder is left behind.
    assert not runs.exists() or list(runs.iterdir()) == []


def test_a_source_root_that_is_not_a_folder(cli, tmp_path):
    err = cli.error("run", reports_dir("r1"), "--source-root", tmp_path / "absent")
    assert "the source root is not a directory" in err


def test_a_dataset_without_code_fixes_names_the_reasons(cli, tmp_path):
    # Bandit alone, without the source tree or the catalogue: analyses, but no fix at all.
    config = tmp_path / "no-catalogue.toml"
    config.write_text("[pipeline]\ncatalogue_max = 0\n")
    runs = tmp_path / "runs"
    err = cli.error("run", reports_dir("r1") / "bandit.json", "--base-model", "tiny-random",
                    "--config", config, "--runs-dir", runs, "--no-progress")  # fmt: skip
    assert "no Stage-2 (code fix) training examples" in err
    assert "dropped by reason:" in err and "--pairs" in err
    _no_run(runs)


def test_a_dataset_too_small_for_a_validation_split_is_refused_before_the_run(cli, tmp_path):
    # With the catalogue, Bandit alone gives code-fix training examples, but catalogue examples
    # are train-only and no finding gives a fix without the source tree: no validation split.
    runs = tmp_path / "runs"
    err = cli.error("run", reports_dir("r1") / "bandit.json", "--base-model", "tiny-random",
                    "--runs-dir", runs, "--no-progress")  # fmt: skip
    assert "the dataset has no Stage-2 (code fix) validation examples" in err
    _no_run(runs)


def test_resume_takes_no_new_inputs(cli, tmp_path):
    stderr = cli.usage_error("run", "--resume", "x", reports_dir("r1"))
    assert "--resume continues a run with its own inputs; drop PATH" in stderr


def test_resume_of_a_run_the_pipeline_did_not_make(cli, tmp_path, tiny_config_file, data):
    runs = tmp_path / "runs"
    done = cli.ok("runs", "create", "--base-model", "tiny-random", "--analysis-data", data[0],
                  "--codefix-data", data[1], "--runs-dir", runs, "--json")  # fmt: skip
    run_dir = json.loads(done.stdout)["run_dir"]
    err = cli.error("run", "--resume", run_dir, "--runs-dir", runs)
    assert "no pipeline/state.json" in err and f"vulntune train {run_dir}" in err


def test_a_source_root_without_git_mines_nothing_says_so_and_goes_on(cli, tmp_path, demo_repo):
    plain = tmp_path / "plain"
    plain.mkdir()
    archive = subprocess.run(["git", "-C", demo_repo.path, "archive", "r1"], capture_output=True,
                             check=True).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(plain, filter="data")
    env = {**os.environ, "VULNTUNE_PIPELINE_STOP_AFTER": "datasets"}
    done = subprocess.run(
        [sys.executable, "-m", "vulntune", "run", reports_dir("r1"), "--source-root", plain,
         "--base-model", "tiny-random", "--runs-dir", tmp_path / "runs", "--no-progress"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    # It went on past the datasets step (where the test hook stops it).
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert f"{plain} is not a git repository: no fixes are mined from history" in done.stderr
    assert "build datasets: done" in done.stderr
