"""Grouped, seeded train/validation/test splits.

Examples of one group (the same rule on the same code, the same package version, the same
pair; the analysis and code-fix examples of one finding share it) always land in the same
split. Groups are ordered by a hash of the seed and the group, then the first groups fill
the test split up to its share of examples, the next the validation split, the rest train:
the same inputs and seed always give the same splits, and adding a finding moves only its
own group. Augmenting examples (the CWE catalogue's) only ever go to train: the test split
is never augmented, and validation measures the user's own findings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from vulntune.datasets.finding_keys import digest
from vulntune.datasets.records import SPLITS, DatasetExample, Split

DEFAULT_SEED = 0
DEFAULT_VALIDATION_FRACTION = 0.1
DEFAULT_TEST_FRACTION = 0.1


@dataclass(frozen=True, slots=True)
class SplitOptions:
    """Split fractions (of the examples made from findings and pairs) and the seed."""

    seed: int = DEFAULT_SEED
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION
    test_fraction: float = DEFAULT_TEST_FRACTION

    def __post_init__(self) -> None:
        for name in ("validation_fraction", "test_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be at least 0 and below 1, not {value}")
        if self.validation_fraction + self.test_fraction >= 1.0:
            raise ValueError("validation_fraction + test_fraction must stay below 1")


def assign_splits(examples: Sequence[DatasetExample], options: SplitOptions) -> dict[str, Split]:
    """The split of every group of ``examples`` (group -> split).

    Each task gets its share of test and validation examples: tasks are served rarest
    first (code-fix examples are fewer than analysis ones), each taking its groups in the
    seeded order; a group goes wholly where its first task sends it, counting for every
    task it holds."""
    sizes: dict[str, Counter[str]] = defaultdict(Counter)
    augmenting: set[str] = set()
    for example in examples:
        sizes[example.group][example.task] += 1
        if example.origin == "catalogue":
            augmenting.add(example.group)
    own = sorted(
        (g for g in sizes if g not in augmenting), key=lambda g: (digest(str(options.seed), g), g)
    )
    totals: Counter[str] = Counter()
    for group in own:
        totals.update(sizes[group])
    fractions = {"test": options.test_fraction, "validation": options.validation_fraction}
    targets = {
        (split, task): _share(totals[task], fraction, sum(1 for g in own if sizes[g][task]))
        for split, fraction in fractions.items()
        for task in totals
    }
    filled: Counter[tuple[str, str]] = Counter()
    result: dict[str, Split] = dict.fromkeys(augmenting, "train")
    for task in sorted(totals, key=lambda t: (totals[t], t)):
        for group in own:
            if group in result or not sizes[group][task]:
                continue
            split: Split = "train"
            for candidate in ("test", "validation"):
                if filled[(candidate, task)] < targets[(candidate, task)]:
                    split = candidate  # type: ignore[assignment]
                    break
            result[group] = split
            if split != "train":
                for held_task, n in sizes[group].items():
                    filled[(split, held_task)] += n
    return result


def _share(total: int, fraction: float, groups: int) -> int:
    """Examples a held-out split aims at: its fraction, at least one when there are three
    groups or more (so training keeps most of a small dataset)."""
    if fraction <= 0 or total == 0:
        return 0
    return max(round(total * fraction), 1 if groups >= 3 else 0)


def split_examples(
    examples: Sequence[DatasetExample], options: SplitOptions
) -> dict[Split, list[DatasetExample]]:
    """``examples`` by split, each in input order."""
    of_group = assign_splits(examples, options)
    out: dict[Split, list[DatasetExample]] = {split: [] for split in SPLITS}
    for example in examples:
        out[of_group[example.group]].append(example)
    return out
