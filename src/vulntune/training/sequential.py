"""SequentialFineTuner: Stage 1 then Stage 2 of one run, under the run's lock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from vulntune.io.lock import RunLock, RunLockedError
from vulntune.models.device import resolve_device
from vulntune.runs.manifest import STAGE_NAMES, StageName, StageNumber
from vulntune.runs.run import TrainingRun
from vulntune.training.distributed import DistContext, init_distributed
from vulntune.training.job import StageResult, TrainingBackend
from vulntune.training.stages import (
    check_stage1_prerequisites,
    check_stage2_prerequisites,
    run_stage1,
    run_stage2,
)
from vulntune.training.torch_backend import TorchPeftBackend

# What `vulntune train --stage` accepts, and the stages each choice means.
StageChoice = Literal["1", "2", "all"]
STAGE_CHOICES: dict[StageChoice, tuple[StageNumber, ...]] = {"1": (1,), "2": (2,), "all": (1, 2)}


class SequentialFineTuner:
    """Runs the stages of a training run in order; each stage is skipped when done and
    resumed from its last checkpoint when it was interrupted."""

    def __init__(
        self,
        run: TrainingRun,
        backend: TrainingBackend | None = None,
        dist: DistContext | None = None,
        say: Callable[[str], None] = print,
        show_progress: bool = True,
    ) -> None:
        self.run = run
        self.dist = dist or init_distributed(resolve_device(run.manifest.config.device))
        self.say = say if self.dist.is_main else (lambda _msg: None)
        self.backend = backend or TorchPeftBackend(self.dist, self.say, show_progress)

    def train(self, stage: StageChoice = "all") -> dict[StageName, StageResult | None]:
        """Train the chosen stage(s); returns each stage's result (None when skipped)."""
        chosen = STAGE_CHOICES[stage]
        todo = [n for n in chosen if not self.run.is_complete(n)]
        results: dict[StageName, StageResult | None] = {STAGE_NAMES[n]: None for n in chosen}
        if not todo:
            self.say("all requested stages are complete; nothing to do")
            return results
        # Fail fast, before the lock file or anything else is created.
        if todo[0] == 1:
            check_stage1_prerequisites(self.run)
        else:
            check_stage2_prerequisites(self.run)
        # Only the main process holds the lock: the others are its workers, not rivals. They
        # learn whether it got the lock so that a refused run stops every process.
        lock = RunLock(self.run.dir)
        refusal = None
        if self.dist.is_main:
            try:
                lock.acquire()
            except RunLockedError as exc:
                refusal = str(exc)
        refusal = self.dist.broadcast_object(refusal)
        if refusal is not None:
            raise RunLockedError(refusal)
        try:
            if 1 in todo:
                results["stage1"] = run_stage1(self.run, self.backend, self.dist, self.say)
            if 2 in todo:
                results["stage2"] = run_stage2(self.run, self.backend, self.dist, self.say)
        finally:
            if self.dist.is_main:
                lock.release()
        return results
