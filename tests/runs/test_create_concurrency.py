"""Concurrent create_run calls against one runs directory never share a run."""

from __future__ import annotations

import itertools
import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from vulntune.models.resolve import ResolvedModel, resolve_model
from vulntune.runs import manager as manager_module
from vulntune.runs.manager import TrainingRunManager
from vulntune.runs.manifest import CONFIG_NAME, MANIFEST_NAME
from vulntune.runs.run import TrainingRun

N = 20


@pytest.fixture(scope="module")
def tiny_resolved() -> ResolvedModel:
    """Resolved once in the parent, so no child process builds or hashes the model."""
    return resolve_model("tiny-random")


def _create(runs_dir: str, resolved: ResolvedModel, start: object, out: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    run = TrainingRunManager(Path(runs_dir)).create_run("tiny-random", resolved=resolved)
    out.put(str(run.dir))  # type: ignore[attr-defined]


def _check_runs(runs_dir: Path, reported: list[str]) -> None:
    assert len(reported) == N
    assert len(set(reported)) == N
    entries = sorted(runs_dir.iterdir())
    assert sorted(str(p) for p in entries) == sorted(reported)
    ids = set()
    for entry in entries:
        assert sorted(p.name for p in entry.iterdir()) == [CONFIG_NAME, MANIFEST_NAME]
        run = TrainingRun.load(entry)  # the manifest is complete and validates
        assert run.id == entry.name
        ids.add(run.id)
    assert len(ids) == N


def test_concurrent_processes_get_distinct_runs(tmp_path, tiny_resolved):
    ctx = multiprocessing.get_context("fork")
    runs_dir = tmp_path / "runs"
    start = ctx.Event()
    out = ctx.Queue()
    workers = [
        ctx.Process(target=_create, args=(str(runs_dir), tiny_resolved, start, out))
        for _ in range(N)
    ]
    for worker in workers:
        worker.start()
    start.set()  # all of them race for run directories at once
    reported = [out.get(timeout=60) for _ in range(N)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    _check_runs(runs_dir, reported)


def test_colliding_run_ids_are_retried(tmp_path, tiny_resolved, monkeypatch):
    # Every id is handed out twice, so half of all attempts collide with an existing run.
    ids = (f"20260101-000000-{n:08x}" for n in itertools.count() for _ in range(2))
    calls: list[str] = []
    lock = threading.Lock()

    def colliding_run_id(now=None) -> str:
        with lock:
            calls.append(next(ids))
            return calls[-1]

    monkeypatch.setattr(manager_module, "new_run_id", colliding_run_id)
    runs_dir = tmp_path / "runs"
    barrier = threading.Barrier(N)

    def create() -> str:
        barrier.wait()  # all threads race for run directories at once
        run = TrainingRunManager(runs_dir).create_run("tiny-random", resolved=tiny_resolved)
        return str(run.dir)

    with ThreadPoolExecutor(max_workers=N) as pool:
        futures = [pool.submit(create) for _ in range(N)]
        reported = [f.result(timeout=60) for f in futures]  # re-raises a thread's error
    _check_runs(runs_dir, reported)
    # 20 ids, each one handed out twice except the last: 19 collisions were retried.
    assert len(calls) == 2 * N - 1
    assert {p.name for p in runs_dir.iterdir()} == set(calls)
