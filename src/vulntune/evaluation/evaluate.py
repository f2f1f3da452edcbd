"""`vulntune evaluate`: the run's models and baselines on its test split, with retention.

:func:`evaluate_run` generates answers for every test prompt with the base model, the
Stage-1 model and the final model (analysis and code fixes twice: with and without structured
decoding; one model in memory at a time), scores them (``metrics.py``), scores the baselines
(``baselines.py``) and publishes, at the manifest's paths: ``results.json``, one predictions
JSONL per model, and the HTML report.

The test split is the manifest's ``test_data`` of each stage. Runs without one (schema 1, or
created from files with ``runs create``) are evaluated on their validation split instead, and
``results.json`` says so under ``split``.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from vulntune.conversation import Example
from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.datasets.examples import DataFormatError, example_from_obj, read_examples
from vulntune.datasets.render import Task
from vulntune.errors import VulntuneError
from vulntune.evaluation.baselines import (
    KeywordBaseline,
    MajorityBaseline,
    SimilarBaseline,
    majority_answers,
)
from vulntune.evaluation.metrics import (
    RETENTION_METRICS,
    score_analysis,
    score_codefix,
    summarise_analysis,
    summarise_codefix,
)
from vulntune.evaluation.prompt_facts import prompt_facts
from vulntune.io.atomic import atomic_write_json, atomic_write_jsonl
from vulntune.runs.base_model import base_model_dir
from vulntune.runs.run import TrainingRun

ModelName = Literal["base", "stage1", "final"]
MODEL_NAMES: tuple[ModelName, ...] = ("base", "stage1", "final")
RESULTS_SCHEMA = 1


class EvaluationError(VulntuneError):
    """A run that cannot be evaluated (a stage missing, no test data)."""


class Completer(Protocol):
    """What evaluation needs from a loaded model: prompts in, answers out, in order."""

    def generate(
        self,
        prompts: Sequence[str],
        task: Task,
        *,
        structured: bool = True,
        show_progress: bool = False,
        description: str | None = None,
    ) -> list[str]: ...

    def close(self) -> None: ...


# (model directory, the run's prompt format) -> a loaded Completer.
GeneratorFactory = Callable[[Path, str], Completer]


@dataclass(frozen=True)
class TestItem:
    """One test example: its prompt, reference answer and (from `vulntune datasets`) meta."""

    id: str
    prompt: str
    reference: str
    meta: dict[str, Any]


@dataclass(frozen=True)
class TestSplit:
    analysis: list[TestItem]
    codefix: list[TestItem]
    source: dict[Task, str]  # "test" or "validation", per task


@dataclass(frozen=True)
class EvaluationResult:
    """What :func:`evaluate_run` published, and the results it wrote."""

    results: dict[str, Any]
    results_path: Path
    predictions: dict[str, Path]
    report_path: Path | None
    seconds: float


def evaluate_run(
    run: TrainingRun,
    load_generator: GeneratorFactory,
    *,
    models: Sequence[ModelName] = MODEL_NAMES,
    say: Callable[[str], None] = print,
    show_progress: bool = False,
    write_report: bool = True,
    limit: int | None = None,
) -> EvaluationResult:
    """Evaluate ``models`` of ``run`` on its test split and publish the results.

    ``load_generator`` loads one model directory (``vulntune.inference.load_generator``).
    ``limit`` keeps the first examples of each task (for quick looks). Raises
    EvaluationError when a model's stage is not complete, naming the command to run."""
    started = time.perf_counter()
    dirs = _model_dirs(run, models)
    split = read_test_split(run, limit)
    catalogue = CweCatalogue.load()
    prompt_format = run.manifest.semantics.prompt_format
    say(
        f"evaluating {', '.join(models)} on {len(split.analysis)} analysis "
        f"({split.source['analysis']} split) and {len(split.codefix)} code-fix examples "
        f"({split.source['codefix']} split)"
    )
    results_models: dict[str, Any] = {}
    predictions: dict[str, list[dict[str, Any]]] = {}
    for name in models:
        model_started = time.perf_counter()
        say(f"{name}: loading {dirs[name]}")
        generator = load_generator(dirs[name], prompt_format)
        try:
            entry, records = _evaluate_model(generator, split, catalogue, name, show_progress)
        finally:
            generator.close()
            del generator
            gc.collect()
        entry["model_dir"] = str(dirs[name])
        entry["seconds"] = round(time.perf_counter() - model_started, 2)
        results_models[name] = entry
        predictions[name] = records
        say(_summary_line(name, entry))
    results = {
        "schema": RESULTS_SCHEMA,
        "run_id": run.id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "split": split.source,
        "counts": {"analysis": len(split.analysis), "codefix": len(split.codefix)},
        "structured_decoding": {
            "default": True,
            "keys": "analysis and codefix are with structured decoding, "
            "analysis_unstructured and codefix_unstructured without",
        },
        "headline": {"applies_rate": "strict (git apply --check); applies_rate_recount beside it"},
        "models": results_models,
        "baselines": _baselines(run, split, catalogue),
        "retention": retention(results_models, "analysis"),
        "retention_unstructured": retention(results_models, "analysis_unstructured"),
    }
    results["seconds"] = round(time.perf_counter() - started, 2)
    files = run.evaluation
    written: dict[str, Path] = {}
    for name, records in predictions.items():
        atomic_write_jsonl(files.predictions[name], records)
        written[name] = files.predictions[name]
    atomic_write_json(files.results, results)
    report_path = None
    if write_report:
        from vulntune.evaluation.report import write_report as publish_report

        report_path = publish_report(run, results)
    return EvaluationResult(
        results=results,
        results_path=files.results,
        predictions=written,
        report_path=report_path,
        seconds=time.perf_counter() - started,
    )


def _model_dirs(run: TrainingRun, models: Sequence[ModelName]) -> dict[ModelName, Path]:
    dirs: dict[ModelName, Path] = {}
    for name in models:
        if name == "base":
            dirs[name] = base_model_dir(run)
            continue
        stage = 1 if name == "stage1" else 2
        status = run.stage_status(stage)
        if not status.complete:
            raise EvaluationError(
                f"{run.dir}: stage {stage} is not complete ({'; '.join(status.problems)}); "
                f"run `vulntune train {run.dir}` first"
            ) from None
        dirs[name] = (
            run.stage1.merged_model if stage == 1 else run.path(run.manifest.inference.model)
        )
    return dirs


def read_test_split(run: TrainingRun, limit: int | None = None) -> TestSplit:
    """The run's test examples of both tasks (the validation split where it has none)."""
    analysis, a_source = _items(run.stage1.test_data, run.stage1.validation_data, "analysis")
    codefix, c_source = _items(run.stage2.test_data, run.stage2.validation_data, "codefix")
    if limit is not None:
        analysis, codefix = analysis[:limit], codefix[:limit]
    return TestSplit(analysis, codefix, {"analysis": a_source, "codefix": c_source})


def _items(test: Path | None, validation: Path, task: Task) -> tuple[list[TestItem], str]:
    path, source = (
        (test, "test") if test is not None and test.is_file() else (validation, "validation")
    )
    if not path.is_file():
        raise EvaluationError(
            f"{path}: no {task} test or validation data; create the run's data first "
            "(`vulntune datasets` or `vulntune runs create`)"
        )
    examples = read_examples(path)  # validates every line, all problems at once
    metas = _metas(path)
    return [_item(e, metas.get(e.id, {})) for e in examples], source


def _item(example: Example, meta: dict[str, Any]) -> TestItem:
    user = [m.content for m in example.prompt_messages if m.role == "user"]
    return TestItem(example.id, user[-1], example.completion, meta)


def _metas(path: Path) -> dict[str, dict[str, Any]]:
    """The ``meta`` objects of a JSONL file's lines, by example id (lines without one skipped)."""
    metas: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8-sig").split("\n"):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            example = example_from_obj(obj)
        except (json.JSONDecodeError, ValueError):
            raise DataFormatError(f"{path}: a line that is not an example") from None
        if isinstance(obj.get("meta"), dict):
            metas[example.id] = obj["meta"]
    return metas


def _evaluate_model(
    generator: Completer,
    split: TestSplit,
    catalogue: CweCatalogue,
    name: str,
    show_progress: bool,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    entry: dict[str, Any] = {"timing": {}}
    records: list[dict[str, Any]] = []
    passes: tuple[tuple[Task, Sequence[TestItem]], ...] = (
        ("analysis", split.analysis),
        ("codefix", split.codefix),
    )
    for task, items in passes:
        prompts = [item.prompt for item in items]
        for structured in (True, False):
            key = task if structured else f"{task}_unstructured"
            t0 = time.perf_counter()
            texts = generator.generate(
                prompts,
                task,
                structured=structured,
                show_progress=show_progress,
                description=f"{name}: {key.replace('_', ' ').replace('codefix', 'code fix')}",
            )
            entry["timing"][key] = round(time.perf_counter() - t0, 2)
            if task == "analysis":
                scores: list[Any] = [
                    score_analysis(text, item.reference, catalogue)
                    for text, item in zip(texts, items, strict=True)
                ]
                entry[key] = summarise_analysis(scores).to_dict()
            else:
                scores = [
                    score_codefix(text, item.reference, prompt_facts(item.prompt), item.meta)
                    for text, item in zip(texts, items, strict=True)
                ]
                entry[key] = summarise_codefix(scores).to_dict()
            records += [
                _record(item, task, structured, text, _fields(score))
                for item, text, score in zip(items, texts, scores, strict=True)
            ]
    return entry, records


def _fields(score: object) -> dict[str, Any]:
    """A score's fields for a predictions record (tuples as JSON lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in vars(score).items()}


def _record(
    item: TestItem, task: Task, structured: bool | None, text: str, score: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "id": item.id,
        "task": task,
        "structured": structured,
        "prompt": item.prompt,
        "prediction": text,
        "reference": item.reference,
        "score": dict(score),
    }


def _baselines(run: TrainingRun, split: TestSplit, catalogue: CweCatalogue) -> dict[str, Any]:
    train_analysis = _training_examples(run.stage1.train_data)
    train_codefix = _training_examples(run.stage2.codefix_dataset)
    answers = majority_answers(train_analysis, train_codefix)
    out: dict[str, Any] = {}
    baselines: list[MajorityBaseline | KeywordBaseline] = [
        MajorityBaseline(answers, catalogue),
        KeywordBaseline(answers, catalogue),
    ]
    if any(prompt_facts(item.prompt).similar_cwe is not None for item in split.analysis):
        baselines.append(SimilarBaseline(answers, catalogue))
    for baseline in baselines:
        analysis = [
            score_analysis(baseline.analysis(item.prompt), item.reference, catalogue)
            for item in split.analysis
        ]
        codefix = [
            score_codefix(
                baseline.codefix(item.prompt), item.reference, prompt_facts(item.prompt), item.meta
            )
            for item in split.codefix
        ]
        out[baseline.name] = {
            "analysis": summarise_analysis(analysis).to_dict(),
            "codefix": summarise_codefix(codefix).to_dict(),
        }
    return out


def _training_examples(path: Path) -> list[Example]:
    return read_examples(path) if path.is_file() else []


def retention(models: Mapping[str, Any], key: str = "analysis") -> dict[str, float | None]:
    """Final / Stage 1 for each Stage-1 metric; None where Stage 1 scored 0 or a model is
    missing (a ratio to nothing means nothing)."""
    if "final" not in models or "stage1" not in models:
        return dict.fromkeys(RETENTION_METRICS)
    final, stage1 = models["final"][key], models["stage1"][key]
    return {
        metric: (round(final[metric] / stage1[metric], 4) if stage1[metric] else None)
        for metric in RETENTION_METRICS
    }


def _summary_line(name: str, entry: Mapping[str, Any]) -> str:
    a, c = entry["analysis"], entry["codefix"]
    return (
        f"{name}: parse {a['parse_rate']:.2f}, CWE {a['cwe_accuracy']:.2f}, "
        f"severity {a['severity_accuracy']:.2f}, category {a['category_accuracy']:.2f}; "
        f"diff parses {c['diff_parse_rate']:.2f}, applies {c['applies_rate']:.2f}, "
        f"exact {c['exact_match']:.2f} ({entry['seconds']:.0f} s)"
    )
