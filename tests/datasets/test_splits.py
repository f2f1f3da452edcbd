"""Grouped, seeded splits: groups never straddle, each task gets its share, catalogue -> train."""

from __future__ import annotations

import pytest

from vulntune.datasets.records import DatasetExample, ExampleMeta
from vulntune.datasets.splits import SplitOptions, assign_splits, split_examples


def _example(n: int, task: str, group: str, origin: str = "finding") -> DatasetExample:
    return DatasetExample(f"{task}-{n}", task, "p", "c", origin, ExampleMeta(group=group))  # type: ignore[arg-type]


def _examples() -> list[DatasetExample]:
    out = [_example(n, "analysis", f"g{n % 40}") for n in range(100)]
    out += [_example(n, "codefix", f"g{n}") for n in range(0, 40, 4)]
    out += [_example(n, "analysis", f"cat{n}", "catalogue") for n in range(20)]
    return out


def test_groups_never_straddle_and_catalogue_goes_to_train() -> None:
    examples = _examples()
    of_group = assign_splits(examples, SplitOptions(seed=3))
    split = split_examples(examples, SplitOptions(seed=3))
    for name, items in split.items():
        assert all(of_group[e.group] == name for e in items)
    assert all(of_group[f"cat{n}"] == "train" for n in range(20))


def test_each_task_gets_its_share_and_the_seed_decides() -> None:
    examples = _examples()
    split = split_examples(examples, SplitOptions(seed=1))
    codefix = {name: sum(e.task == "codefix" for e in items) for name, items in split.items()}
    assert codefix["test"] >= 1 and codefix["validation"] >= 1 and codefix["train"] >= 6
    analysis_test = sum(e.task == "analysis" and e.origin == "finding" for e in split["test"])
    assert 10 <= analysis_test <= 13  # 10% of 100, whole groups of 2 or 3
    assert split_examples(examples, SplitOptions(seed=1)) == split
    assert split_examples(examples, SplitOptions(seed=2)) != split


def test_fractions_are_checked() -> None:
    with pytest.raises(ValueError, match="below 1"):
        SplitOptions(validation_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError, match="test_fraction"):
        SplitOptions(test_fraction=-0.1)


def test_no_held_out_examples_with_fewer_than_three_groups() -> None:
    examples = [_example(0, "analysis", "a"), _example(1, "analysis", "b")]
    assert assign_splits(examples, SplitOptions()) == {"a": "train", "b": "train"}
