"""Findings to a dataset: Stage-1 and Stage-2 examples, grouped splits, stats, one folder.

:func:`build_dataset` is the importable whole of ``vulntune datasets``:

1. every finding is observed at its revision (:mod:`~vulntune.datasets.observed`), secrets
   learnt first and redacted everywhere;
2. Stage-1 examples from findings with a classification
   (:mod:`~vulntune.datasets.analysis_examples`);
3. Stage-2 examples where a real reference fix exists (:mod:`~vulntune.datasets.fixes`:
   git history, tool fixes, dependency upgrades), every diff checked against the code its
   prompt shows;
4. examples from public pairs files and from the CWE catalogue;
5. grouped, seeded splits (:mod:`~vulntune.datasets.splits`) and ``stats.json``;
6. with ``similar`` > 0, the nearest training findings written into every analysis prompt
   (:mod:`~vulntune.datasets.similar`).

:func:`write_dataset` publishes the folder atomically: ``analysis-{train,validation,test}
.jsonl``, ``codefix-{train,validation,test}.jsonl`` and ``stats.json``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vulntune.datasets.analysis_examples import analysis_examples
from vulntune.datasets.catalogue_examples import DEFAULT_CATALOGUE_MAX, catalogue_examples
from vulntune.datasets.cwe_catalogue import CweCatalogue, parse_cwe_id
from vulntune.datasets.fixes import codefix_examples
from vulntune.datasets.fixes.history import DEFAULT_MAX_CHANGED_LINES
from vulntune.datasets.fixes.pairs import PairColumns, pair_examples, read_pairs
from vulntune.datasets.observed import observe
from vulntune.datasets.records import (
    SPLITS,
    TASKS,
    DatasetExample,
    DroppedFinding,
    ExampleSet,
    InputProblem,
    Split,
)
from vulntune.datasets.render import DEFAULT_MAX_CODE_LINES, Task
from vulntune.datasets.secret_guard import SecretGuard
from vulntune.datasets.similar import MAX_SIMILAR, with_similar
from vulntune.datasets.sources import SourceFiles
from vulntune.datasets.splits import SplitOptions, split_examples
from vulntune.datasets.stats import Tokenizer, build_stats, load_token_counter
from vulntune.findings.record import Finding
from vulntune.io.atomic import atomic_dir


def dataset_file_name(task: Task, split: Split) -> str:
    """``analysis-train.jsonl`` ... ``codefix-test.jsonl``."""
    return f"{task}-{split}.jsonl"


STATS_FILE = "stats.json"


@dataclass(frozen=True)
class DatasetOptions:
    """How :func:`build_dataset` builds: sources, fix limits, catalogue, splits, tokenizer."""

    source_root: Path | None = None
    split: SplitOptions = field(default_factory=SplitOptions)
    max_code_lines: int = DEFAULT_MAX_CODE_LINES
    max_changed_lines: int = DEFAULT_MAX_CHANGED_LINES  # history: larger changes are dropped
    base_model: str | None = None  # token percentiles with its tokenizer
    catalogue_path: Path | None = None  # a newer CWE XML; default: the one cwe2 installs
    pairs: tuple[Path, ...] = ()  # public vulnerable -> fixed pairs files (JSONL or CSV)
    pair_columns: PairColumns = field(default_factory=PairColumns)
    catalogue: bool = True  # examples from the catalogue's demonstrative examples (train only)
    catalogue_max: int = DEFAULT_CATALOGUE_MAX  # per task
    similar: int = 0  # similar training findings written into each analysis prompt

    def __post_init__(self) -> None:
        if not 0 <= self.similar <= MAX_SIMILAR:
            raise ValueError(f"similar must be between 0 and {MAX_SIMILAR}, not {self.similar}")

    def settings(self) -> dict[str, Any]:
        """The options as recorded in ``stats.json``."""
        return {
            "source_root": str(self.source_root) if self.source_root else None,
            "seed": self.split.seed,
            "validation_fraction": self.split.validation_fraction,
            "test_fraction": self.split.test_fraction,
            "max_code_lines": self.max_code_lines,
            "max_changed_lines": self.max_changed_lines,
            "base_model": self.base_model,
            "pairs": [str(p) for p in self.pairs],
            "catalogue": self.catalogue,
            "catalogue_max": self.catalogue_max if self.catalogue else 0,
            "similar": self.similar,
        }


@dataclass(frozen=True)
class Dataset:
    """A built dataset: examples by task and split, what was dropped, and the stats."""

    splits: dict[Task, dict[Split, list[DatasetExample]]]
    dropped: list[DroppedFinding]
    problems: list[InputProblem]
    stats: dict[str, Any]

    def examples(self, task: Task) -> list[DatasetExample]:
        """Every example of ``task``, splits in order."""
        return [e for split in SPLITS for e in self.splits[task][split]]


def build_dataset(
    findings: Sequence[Finding],
    options: DatasetOptions | None = None,
    *,
    catalogue: CweCatalogue | None = None,
    tokens: Tokenizer | None = None,
) -> Dataset:
    """Build the dataset of ``findings`` (see the module docstring). ``catalogue`` and
    ``tokens`` replace the ones ``options`` would load (tests pass them to save time)."""
    options = options or DatasetOptions()
    catalogue = catalogue or CweCatalogue.load(options.catalogue_path)
    if tokens is None and options.base_model is not None:
        tokens = load_token_counter(options.base_model)
    guard = SecretGuard()
    sources = SourceFiles(options.source_root) if options.source_root is not None else None
    try:
        observed = observe(findings, sources, guard)
        analysis = analysis_examples(
            observed, catalogue, guard, max_code_lines=options.max_code_lines
        )
        codefix = codefix_examples(
            observed,
            sources,
            guard,
            catalogue,
            max_changed_lines=options.max_changed_lines,
            max_code_lines=options.max_code_lines,
        )
    finally:
        if sources is not None:
            sources.close()
    problems: list[InputProblem] = []
    pairs = ExampleSet()
    for path in options.pairs:
        records, bad = read_pairs(path, options.pair_columns)
        made, skipped = pair_examples(
            records, catalogue, guard, max_code_lines=options.max_code_lines
        )
        pairs.extend(made)
        problems += bad + skipped
    taught = ExampleSet()
    if options.catalogue:
        preferred = [
            cwe
            for e in (*analysis.examples, *pairs.examples)
            if e.meta.cwe and (cwe := parse_cwe_id(e.meta.cwe)) is not None
        ]
        taught = catalogue_examples(
            catalogue,
            preferred,
            guard,
            limit=options.catalogue_max,
            max_code_lines=options.max_code_lines,
        )
    examples = _unique_ids(
        [*analysis.examples, *codefix.examples, *pairs.examples, *taught.examples]
    )
    by_split = split_examples(examples, options.split)
    splits: dict[Task, dict[Split, list[DatasetExample]]] = {
        task: {split: [e for e in by_split[split] if e.task == task] for split in SPLITS}
        for task in TASKS
    }
    splits["analysis"] = with_similar(splits["analysis"], options.similar)
    dropped = [*analysis.dropped, *codefix.dropped]
    stats = build_stats(
        splits,
        dropped,
        findings=len(findings),
        findings_by_tool=dict(Counter(f.tool for f in findings)),
        problems=problems,
        settings=options.settings(),
        tokens=tokens,
        base_model=options.base_model,
    )
    return Dataset(splits, dropped, problems, stats)


def _unique_ids(examples: list[DatasetExample]) -> list[DatasetExample]:
    """``examples`` with a ``-2``, ``-3`` ... suffix on an id already used (in order)."""
    seen: Counter[str] = Counter()
    out = []
    for example in examples:
        seen[example.id] += 1
        if seen[example.id] > 1:
            example = DatasetExample(
                f"{example.id}-{seen[example.id]}",
                example.task,
                example.prompt,
                example.completion,
                example.origin,
                example.meta,
            )
        out.append(example)
    return out


def merge_sets(*sets: ExampleSet) -> ExampleSet:
    """One set of all examples and drops of ``sets``."""
    out = ExampleSet()
    for item in sets:
        out.extend(item)
    return out


def write_dataset(dataset: Dataset, out_dir: Path) -> list[Path]:
    """Publish ``dataset`` as one folder, atomically (a previous folder there is replaced
    only once the new one is complete). Returns the files written."""
    names = []
    with atomic_dir(out_dir) as tmp:
        for task in TASKS:
            for split in SPLITS:
                name = dataset_file_name(task, split)
                lines = [e.to_json() + "\n" for e in dataset.splits[task][split]]
                (tmp / name).write_text("".join(lines), encoding="utf-8")
                names.append(name)
        text = json.dumps(dataset.stats, indent=2, ensure_ascii=False) + "\n"
        (tmp / STATS_FILE).write_text(text, encoding="utf-8")
        names.append(STATS_FILE)
    return [out_dir / name for name in names]


def dropped_records(dataset: Dataset) -> list[dict[str, Any]]:
    """The dropped findings as JSON-ready records."""
    return [asdict(d) for d in dataset.dropped]
