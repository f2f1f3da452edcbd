"""The calls `vulntune run` makes into the layers below, one function per pipeline step.

Kept in one place so that the orchestration (:mod:`vulntune.pipeline.run`) reads as a list of
steps, and so that what each step needs from datasets, runs, training and evaluation is plain.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from vulntune.errors import VulntuneError
from vulntune.pipeline.settings import PipelineSettings
from vulntune.runs.manifest import StageNumber
from vulntune.runs.run import TrainingRun


class EmptyDatasetError(VulntuneError):
    """The dataset built from the reports cannot train both stages."""


class MissingResultsError(VulntuneError):
    """The report step found no evaluation results to show."""


@dataclass(frozen=True)
class DatasetSummary:
    """The example counts of a built dataset (from its ``stats.json``)."""

    analysis_train: int
    codefix_train: int
    analysis_test: int
    codefix_test: int


def build_dataset(
    findings: Path,
    source_root: Path | None,
    pairs: list[Path],
    base_model: str,
    settings: PipelineSettings,
    out: Path,
) -> DatasetSummary:
    """Build the analysis and code-fix datasets (with their test splits) into ``out``;
    refuse a dataset that has no training example for one of the stages."""
    from vulntune.datasets.build import DatasetOptions, write_dataset
    from vulntune.datasets.build import build_dataset as build
    from vulntune.datasets.splits import SplitOptions
    from vulntune.findings import read_findings

    split = SplitOptions()
    if settings.test_fraction is not None:
        split = SplitOptions(split.seed, split.validation_fraction, settings.test_fraction)
    options = DatasetOptions(
        source_root=source_root,
        split=split,
        base_model=base_model,
        pairs=tuple(pairs),
        similar=settings.similar_findings,
    )
    if settings.catalogue_max is not None:
        options = replace(
            options, catalogue=settings.catalogue_max > 0, catalogue_max=settings.catalogue_max
        )
    write_dataset(build(read_findings(findings), options), out)
    return check_dataset(out)


def _split_count(stats: dict[str, Any], task: str, split: str) -> int:
    return int(stats["tasks"][task]["splits"][split]["examples"])


def check_dataset(folder: Path) -> DatasetSummary:
    """The counts of the dataset in ``folder``; EmptyDatasetError when a stage has nothing to
    train on (naming the reasons the findings were dropped, from ``stats.json``) or no
    validation example (a run needs both), before any run is created."""
    stats_path = folder / "stats.json"
    stats = json.loads(stats_path.read_text(encoding="utf-8"))
    summary = DatasetSummary(
        analysis_train=_split_count(stats, "analysis", "train"),
        codefix_train=_split_count(stats, "codefix", "train"),
        analysis_test=_split_count(stats, "analysis", "test"),
        codefix_test=_split_count(stats, "codefix", "test"),
    )
    for task, stage in (("analysis", "Stage-1 (analysis)"), ("codefix", "Stage-2 (code fix)")):
        train = _split_count(stats, task, "train")
        if train == 0:
            dropped = stats["tasks"][task].get("dropped", {})
            reasons = ", ".join(f"{reason}: {n}" for reason, n in dropped.items()) or "none"
            raise EmptyDatasetError(
                f"{stats_path}: the dataset has no {stage} training examples "
                f"({stats.get('findings', 0)} findings; dropped by reason: {reasons}); "
                "give --source-root with the project's git history, or --pairs FILE"
            )
        if _split_count(stats, task, "validation") == 0:
            raise EmptyDatasetError(
                f"{stats_path}: the dataset has no {stage} validation examples "
                f"({train} train, {_split_count(stats, task, 'test')} test): too few findings "
                "for a run; give more reports, --source-root with the project's git history, "
                "or --pairs FILE"
            )
    return summary


def import_dataset(run: TrainingRun, folder: Path) -> None:
    """Make ``folder`` the run's data (train, validation and test splits, stats)."""
    run.import_dataset(folder)


def train_stage(run: TrainingRun, stage: StageNumber, say: Callable[[str], None]) -> None:
    """Train one stage (skipped when complete, resumed from its checkpoint when interrupted).

    The trainer's own bar is off: the pipeline's display is the only live one.
    """
    from vulntune.training.distributed import shutdown_distributed
    from vulntune.training.sequential import SequentialFineTuner

    tuner = SequentialFineTuner(run, say=say, show_progress=False)
    try:
        tuner.train("1" if stage == 1 else "2")
    finally:
        shutdown_distributed()


def evaluate(run: TrainingRun, settings: PipelineSettings, say: Callable[[str], None]) -> None:
    """Evaluate base, Stage-1 and final models on the run's test split (results.json and the
    predictions); the report is the next step."""
    from vulntune.evaluation.evaluate import evaluate_run
    from vulntune.inference.generate import (
        DEFAULT_MAX_NEW_TOKENS,
        GenerationSettings,
        Generator,
        load_generator,
    )

    generation = GenerationSettings(
        max_new_tokens={**DEFAULT_MAX_NEW_TOKENS, **settings.max_new_tokens}
    )

    def load(model_dir: Path, prompt_format: str) -> Generator:
        return load_generator(model_dir, prompt_format, generation)

    evaluate_run(
        run,
        load,
        say=say,
        show_progress=False,
        write_report=False,
        limit=settings.evaluation_limit,
    )


def write_report(run: TrainingRun) -> Path:
    """Write the run's report.html from its evaluation results and training metrics."""
    from vulntune.evaluation.report import write_report as write_html

    results = read_results(run)
    if results is None:
        raise MissingResultsError(
            f"{run.evaluation.results}: missing; run `vulntune evaluate {run.dir}` first"
        )
    return write_html(run, results)


def read_results(run: TrainingRun) -> dict[str, Any] | None:
    """The run's evaluation results, or None before evaluation."""
    try:
        return json.loads(run.evaluation.results.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
