"""Replay mixing: the Stage-2 training mix of code-fix examples and replayed Stage-1 examples.

``ratio`` is the share of the final mix that comes from Stage 1, counted in examples:
with ``n`` code-fix examples the mix holds ``k = round(ratio * n / (1 - ratio))`` Stage-1
examples, drawn without replacement with a recorded seed. If Stage 1 has fewer than ``k``
examples all of them are replayed and the achieved ratio is recorded next to the requested one.

In the mix a replayed example is named ``stage1:<id>``: the two datasets are numbered
independently (often both 1..N) and the mix must hold unique ids. The record lists the
replayed examples by their ids in the Stage-1 training data.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from vulntune.datasets.examples import DataFormatError, Example

REPLAY_ID_PREFIX = "stage1:"


@dataclass(frozen=True)
class ReplayRecord:
    """What was replayed, enough to rebuild the mix exactly."""

    seed: int
    ratio_requested: float
    ratio_achieved: float
    n_codefix: int
    n_replayed: int
    replayed_ids: list[str] = field(default_factory=list)

    @property
    def replayed_ids_sha256(self) -> str:
        return hashlib.sha256("\n".join(self.replayed_ids).encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "ratio_requested": self.ratio_requested,
            "ratio_achieved": self.ratio_achieved,
            "n_codefix": self.n_codefix,
            "n_replayed": self.n_replayed,
            "replayed_ids": self.replayed_ids,
            "replayed_ids_sha256": self.replayed_ids_sha256,
        }


def mix_replay(
    codefix: Sequence[Example], stage1: Sequence[Example], ratio: float, seed: int
) -> tuple[list[Example], ReplayRecord]:
    """Return the shuffled Stage-2 mix and the record of which Stage-1 examples it replays."""
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"replay ratio must be in [0, 1), got {ratio}")
    wanted = round(ratio * len(codefix) / (1.0 - ratio))
    rng = random.Random(seed)
    replayed = rng.sample(list(stage1), min(wanted, len(stage1)))
    renamed = [Example(f"{REPLAY_ID_PREFIX}{e.id}", e.messages) for e in replayed]
    clashes = {e.id for e in codefix} & {e.id for e in renamed}
    if clashes:
        raise DataFormatError(
            f"code-fix example ids {sorted(clashes)} clash with the names of replayed Stage-1 "
            f"examples; rename them (ids starting with {REPLAY_ID_PREFIX!r} are reserved)"
        )
    mixed = list(codefix) + renamed
    rng.shuffle(mixed)
    achieved = len(replayed) / len(mixed) if mixed else 0.0
    record = ReplayRecord(
        seed=seed,
        ratio_requested=ratio,
        ratio_achieved=round(achieved, 6),
        n_codefix=len(codefix),
        n_replayed=len(replayed),
        replayed_ids=[e.id for e in replayed],
    )
    return mixed, record
