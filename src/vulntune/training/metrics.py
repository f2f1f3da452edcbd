"""Training records and progress display.

Every logged record goes to an in-memory list (saved with each checkpoint and published as the
stage's ``metrics.jsonl`` when it finishes) and is appended to a live file in the checkpoints
directory so that a user can follow a running stage with ``tail -f``.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

LIVE_METRICS_NAME = "metrics.live.jsonl"


def peak_memory_mb(device: torch.device) -> float:
    """Peak memory of this process: GPU allocations on CUDA, resident set size on the CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in bytes on macOS and in KiB on Linux and the BSDs.
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


class MetricsLog:
    """Metric records of one stage; only the main process writes the live file."""

    def __init__(self, live_path: Path, write: bool) -> None:
        self.live_path = live_path
        self.write = write
        self.records: list[dict[str, Any]] = []

    def restore(self, records: list[dict[str, Any]]) -> None:
        """Continue from a checkpoint: later records in the live file are discarded."""
        self.records = list(records)
        if self.write:
            self.live_path.parent.mkdir(parents=True, exist_ok=True)
            self.live_path.write_text("".join(json.dumps(r) + "\n" for r in self.records))

    def log(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        if self.write:
            self.live_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.live_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")


class StageProgress:
    """A rich progress bar for one stage (silent when disabled or not the main process)."""

    def __init__(self, label: str, total: int, enabled: bool) -> None:
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}  {task.fields[speed]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not enabled,
        )
        self._task = self._progress.add_task(label, total=total, loss="-", speed="")

    def __enter__(self) -> StageProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def update(
        self, completed: int, loss: float | None = None, tokens_per_s: float | None = None
    ) -> None:
        fields: dict[str, Any] = {}
        if loss is not None:
            fields["loss"] = f"{loss:.4f}"
        if tokens_per_s is not None:
            fields["speed"] = f"{tokens_per_s:,.0f} tok/s"
        self._progress.update(self._task, completed=completed, **fields)
