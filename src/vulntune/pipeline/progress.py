"""One progress display for the whole pipeline, and its machine-readable twin.

People see two bars on stderr: the pipeline (every step weighted by its usual share of the
time, with an estimate of the time left) and the step now running (training steps, examples
evaluated). The inner trainers' own bars are switched off so that only this display is live;
their messages are printed above it. Every event also goes, as one JSON object per line, to
``pipeline/progress.jsonl`` in the run: ``{"time", "step", "event", ...}`` with ``event`` one
of ``start``, ``update``, ``done``, ``skipped``, ``failed``, ``message``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from vulntune.pipeline.state import STEPS, Step

# Rough shares of a pipeline's wall time per step (measured on the demo): they only shape the
# overall bar and its time estimate.
STEP_WEIGHTS: dict[Step, int] = {
    "ingest": 2,
    "datasets": 3,
    "create": 2,
    "stage1": 35,
    "stage2": 33,
    "evaluate": 24,
    "report": 1,
}
STEP_TITLES: dict[Step, str] = {
    "ingest": "ingest reports",
    "datasets": "build datasets",
    "create": "create run",
    "stage1": "stage 1: analysis",
    "stage2": "stage 2: code fixes",
    "evaluate": "evaluate models",
    "report": "write report",
}


class ProgressLog:
    """Appends progress events as JSON lines; the file can move (into the run, once it exists)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, step: Step, event: str, **fields: Any) -> None:
        record = {"time": datetime.now(UTC).isoformat(timespec="milliseconds")}
        record |= {"step": step, "event": event, **fields}
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


class PipelineProgress:
    """The live display plus the JSONL log. Use as a context manager around the pipeline."""

    def __init__(self, log: ProgressLog, enabled: bool = True, console: Console | None = None):
        self.log = log
        self.console = console or Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            disable=not enabled,
        )
        self._overall = self._progress.add_task(
            "pipeline", total=sum(STEP_WEIGHTS.values()), detail=""
        )
        self._current: TaskID | None = None
        self._step: Step | None = None
        self._started = 0.0
        self._base = 0.0  # the overall bar's value when the running step started

    def __enter__(self) -> PipelineProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def skip_done(self, done: list[Step]) -> None:
        """Count steps finished earlier (a resumed run) as complete."""
        self._base = float(sum(STEP_WEIGHTS[step] for step in done))
        self._progress.update(self._overall, completed=self._base)

    @contextmanager
    def step(self, step: Step) -> Iterator[None]:
        """Run one step: its own bar, start/done/failed records, the overall bar advanced."""
        self._step, self._started = step, time.monotonic()
        number = STEPS.index(step) + 1
        title = f"{number}/{len(STEPS)} {STEP_TITLES[step]}"
        self._current = self._progress.add_task(title, total=None, detail="")
        self._progress.update(self._overall, detail=STEP_TITLES[step])
        self.log.write(step, "start")
        try:
            yield
        except BaseException as exc:
            self.log.write(step, "failed", error=str(exc) or type(exc).__name__, **self._elapsed())
            raise
        finally:
            self._progress.remove_task(self._current)
            self._current = None
        self._base += STEP_WEIGHTS[step]
        self._progress.update(self._overall, completed=self._base)
        self.log.write(step, "done", **self._elapsed())
        self.say(f"{STEP_TITLES[step]}: done in {time.monotonic() - self._started:.1f} s")

    def _elapsed(self) -> dict[str, float]:
        return {"elapsed_s": round(time.monotonic() - self._started, 3)}

    def update(self, completed: int, total: int | None, detail: str = "") -> None:
        """Progress inside the running step (e.g. optimizer steps of a stage)."""
        if self._current is None or self._step is None:
            return
        self._progress.update(self._current, completed=completed, total=total, detail=detail)
        if total:
            share = STEP_WEIGHTS[self._step] * min(completed, total) / total
            self._progress.update(self._overall, completed=self._base + share)
        self.log.write(self._step, "update", completed=completed, total=total, detail=detail)

    def say(self, message: str) -> None:
        """A message for people, printed above the bars, and logged."""
        self.console.print(message, markup=False, highlight=False, soft_wrap=True)
        if self._step is not None:
            self.log.write(self._step, "message", text=message)


class TrainingWatcher:
    """Follows a stage's live metrics file (``metrics.live.jsonl``) and reports the optimizer
    step to the progress display, from a background thread, until stopped."""

    def __init__(self, live_path: Path, total: int, progress: PipelineProgress) -> None:
        self.live_path, self.total, self.progress = live_path, total, progress
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._last = -1

    def __enter__(self) -> TrainingWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._poll()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            self._poll()

    def _poll(self) -> None:
        try:
            lines = self.live_path.read_text(encoding="utf-8").splitlines()
        except (FileNotFoundError, UnicodeDecodeError):
            return
        for line in reversed(lines):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line being written right now
                continue
            if record.get("type") == "train":
                step = int(record["step"])
                if step != self._last:
                    self._last = step
                    detail = f"step {step}/{max(self.total, step)}"
                    if "loss" in record:
                        detail += f", loss {record['loss']:.4f}"
                    self.progress.update(step, max(self.total, step), detail)
                return
