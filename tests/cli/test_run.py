"""`vulntune run` end to end on tiny-random: the demo project's reports of six revisions, fixes
mined from its git history, both stages, evaluation, report; and `--resume` after the pipeline
was killed between stages, after training (before evaluation) and in the middle of Stage 1.

The kills at step boundaries use the documented test hook ``VULNTUNE_PIPELINE_STOP_AFTER``
(the process SIGKILLs itself right after recording the step); the kill inside Stage 1 is a
real SIGKILL from outside once the stage has written a checkpoint.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vulntune.demo.project import DemoRepository, build_demo_repository, reports_dir
from vulntune.pipeline.state import STEPS, read_state
from vulntune.runs.run import TrainingRun

# Small and quick: one epoch, frequent checkpoints (so a kill inside Stage 1 has one to resume
# from), few generated tokens. Similar findings in the analysis prompts (off in the demo, which
# covers the default) so that the whole path of that setting runs here too.
TINY_RUN_CONFIG = {
    "precision": "fp32",
    "stage1": {"epochs": 1, "batch_size": 4, "checkpoint_every": 2, "learning_rate": 1e-3},
    "stage2": {"epochs": 1, "batch_size": 4, "checkpoint_every": 2, "learning_rate": 1e-3},
    "pipeline": {
        "catalogue_max": 4,
        "max_new_tokens": {"analysis": 24, "codefix": 24},
        "evaluation_limit": 4,
        "similar_findings": 2,
    },
}
TIMEOUT = 300


@pytest.fixture(scope="module")
def demo_repo(tmp_path_factory) -> DemoRepository:
    """The demo project's git repository: the source root of its reports."""
    return build_demo_repository(tmp_path_factory.mktemp("demo") / "tinyparcel")


@pytest.fixture(scope="module")
def run_config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("run-config") / "tiny.json"
    path.write_text(json.dumps(TINY_RUN_CONFIG))
    return path


def _vulntune(*args: object, stop_after: str | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"}
    env.pop("VULNTUNE_PIPELINE_STOP_AFTER", None)
    if stop_after is not None:
        env["VULNTUNE_PIPELINE_STOP_AFTER"] = stop_after
    return subprocess.Popen(
        [sys.executable, "-m", "vulntune", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _finish(child: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = child.communicate(timeout=TIMEOUT)
    return child.returncode, out, err


def _start_args(demo_repo, runs: Path, config: Path) -> list[object]:
    return [
        "run", reports_dir("r1").parent, "--source-root", demo_repo.path,
        "--base-model", "tiny-random", "--config", config, "--runs-dir", runs, "--no-progress",
    ]  # fmt: skip


def _only_run(runs: Path) -> Path:
    (run_dir,) = [p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return run_dir


def _events(run_dir: Path) -> list[dict[str, object]]:
    lines = (run_dir / "pipeline" / "progress.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_run_killed_between_stages_and_before_evaluation_resumes_to_the_end(
    demo_repo, run_config, tmp_path
):
    runs = tmp_path / "runs"
    code, _, err = _finish(
        _vulntune(*_start_args(demo_repo, runs, run_config), stop_after="stage1")
    )
    assert code == -signal.SIGKILL, err
    run_dir = _only_run(runs)
    assert read_state(run_dir).done == ["ingest", "datasets", "create", "stage1"]
    run = TrainingRun.load(run_dir)
    assert run.is_complete(1) and not run.is_complete(2)
    stage1_model = (run.stage1.merged_model / "model.safetensors").stat().st_mtime_ns
    # What the dataset step made went into the run, with the findings of every revision.
    assert (run_dir / "pipeline" / "dataset" / "stats.json").is_file()
    assert run.stage1.test_data is not None and run.stage1.test_data.is_file()
    findings = (run_dir / "pipeline" / "findings.jsonl").read_text().splitlines()
    assert {json.loads(f)["origin"]["revision"] for f in findings} == {
        "r1", "r2", "r3", "r4", "r5", "r6",
    }  # fmt: skip

    # Resume, and stop again after training, before evaluation.
    code, _, err = _finish(_vulntune("run", "--resume", run_dir, "--no-progress",
                                     stop_after="stage2"))  # fmt: skip
    assert code == -signal.SIGKILL, err
    assert read_state(run_dir).done == ["ingest", "datasets", "create", "stage1", "stage2"]
    assert run.is_complete(2) and not run.evaluation.results.exists()

    code, out, err = _finish(_vulntune("run", "--resume", run_dir, "--no-progress", "--json"))
    assert code == 0, err
    assert read_state(run_dir).done == list(STEPS)
    # Stage 1 was not trained again, and each step started only once in all three processes.
    assert (run.stage1.merged_model / "model.safetensors").stat().st_mtime_ns == stage1_model
    starts = [e["step"] for e in _events(run_dir) if e["event"] == "start"]
    assert starts == list(STEPS)
    result = json.loads(out)
    assert result["run_dir"] == str(run_dir) and result["resumed"] is True
    assert result["report"] == str(run.evaluation.report) and run.evaluation.report.is_file()
    models = result["results"]["models"]
    assert set(models) >= {"base", "stage1", "final"}
    # The analysis prompts carry similar training findings, and the baseline that copies the
    # nearest one's CWE stands beside the keyword lookup.
    assert run.similar_findings() == 2
    test_prompts = [json.loads(x)["prompt"] for x in run.stage1.test_data.read_text().splitlines()]
    assert all("\nSimilar finding: " in p for p in test_prompts)
    assert set(result["results"]["baselines"]) == {"majority", "keyword", "similar"}
    # The run directory and the report are the last things said.
    last_two = err.strip().splitlines()[-2:]
    assert last_two == [f"run directory: {run_dir}", f"report: {run.evaluation.report}"]


def test_run_killed_inside_stage1_resumes_from_its_checkpoint(demo_repo, run_config, tmp_path):
    runs = tmp_path / "runs"
    child = _vulntune(*_start_args(demo_repo, runs, run_config))
    deadline = time.monotonic() + TIMEOUT
    checkpoint = None
    while child.poll() is None and time.monotonic() < deadline:
        found = list(runs.glob("*/stage1/checkpoints/step-*"))
        if found:
            checkpoint = found[0]
            break
        time.sleep(0.01)
    assert child.poll() is None and checkpoint is not None, child.communicate()[1]
    os.kill(child.pid, signal.SIGKILL)
    child.communicate()
    run_dir = _only_run(runs)
    assert read_state(run_dir).done == ["ingest", "datasets", "create"]
    assert not TrainingRun.load(run_dir).is_complete(1)

    code, out, err = _finish(_vulntune("run", "--resume", run_dir.name, "--runs-dir", runs,
                                       "--no-progress"))  # fmt: skip
    assert code == 0, err
    assert "stage1: resuming from step-" in err
    assert read_state(run_dir).done == list(STEPS)
    messages = [e["text"] for e in _events(run_dir) if e["event"] == "message"]
    assert any(str(m).startswith("stage1: resuming from step-") for m in messages)
    assert out.strip().splitlines()[-1] == f"report: {run_dir / 'report.html'}"
