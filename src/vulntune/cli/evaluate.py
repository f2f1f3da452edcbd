"""`vulntune evaluate`: base, Stage-1 and final model on the run's test split, with baselines,
retention and the HTML report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from vulntune.cli.root import JsonOption, Output, ProgressOption, RunsDirOption, say

if TYPE_CHECKING:
    from vulntune.evaluation.evaluate import EvaluationResult
    from vulntune.runs.run import TrainingRun

LimitOption = Annotated[
    int | None,
    typer.Option("--limit", min=1, help="Evaluate only the first N examples of each task."),
]


def evaluate_command(
    run: Annotated[str, typer.Argument(help="Run directory or run id.")],
    runs_dir: RunsDirOption = None,
    limit: LimitOption = None,
    progress: ProgressOption = True,
    as_json: JsonOption = False,
) -> None:
    """Evaluate a trained run: every model and the baselines on the test split.

    Writes evaluation/results.json, one predictions JSONL per model and report.html in the
    run directory; --json prints the results.
    """
    from vulntune.runs.manager import TrainingRunManager

    training_run = TrainingRunManager(runs_dir).get(run)
    out = Output(as_json)
    result = run_evaluation(training_run, show_progress=progress, limit=limit)
    print_results(out, result)


def run_evaluation(
    training_run: TrainingRun, *, show_progress: bool = True, limit: int | None = None
) -> EvaluationResult:
    """Evaluate ``training_run`` with the batched generator (the library call the CLI makes)."""
    from vulntune.evaluation.evaluate import evaluate_run
    from vulntune.inference.generate import load_generator

    return evaluate_run(
        training_run, load_generator, say=say, show_progress=show_progress, limit=limit
    )


def print_results(out: Output, result: EvaluationResult) -> None:
    """The metrics table for people, and the results document for --json."""
    results = result.results
    for line in results_table(results):
        out.line(line)
    out.line(f"results: {result.results_path}")
    if result.report_path is not None:
        out.line(f"report: {result.report_path}")
    out.result(results)


def results_table(results: dict[str, Any]) -> list[str]:
    """Base, Stage 1, final and the baselines side by side, one metric per line."""
    columns: list[tuple[str, dict[str, Any]]] = [
        *((name, entry) for name, entry in results["models"].items()),
        *((f"{name} baseline", entry) for name, entry in results["baselines"].items()),
    ]
    rows = [
        ("analysis", "parse_rate"),
        ("analysis", "cwe_accuracy"),
        ("analysis", "cwe_related_accuracy"),
        ("analysis", "severity_accuracy"),
        ("analysis", "category_accuracy"),
        ("analysis", "root_cause_chrf"),
        ("analysis", "impact_chrf"),
        ("analysis_unstructured", "cwe_accuracy"),
        ("codefix", "diff_parse_rate"),
        ("codefix", "applies_rate"),
        ("codefix", "applies_rate_recount"),
        ("codefix", "exact_match"),
        ("codefix", "dependency_fix_rate"),
        ("codefix", "patched_parse_rate"),
        ("codefix_unstructured", "applies_rate"),
        ("codefix_unstructured", "exact_match"),
    ]
    header = f"{'metric':<42}" + "".join(f"{name:>18}" for name, _ in columns)
    lines = [header]
    for group, metric in rows:
        cells = []
        for _, entry in columns:
            value = entry.get(group, {}).get(metric)
            cells.append(f"{'-' if value is None else f'{value:.2f}':>18}")
        lines.append(f"{group + '.' + metric:<42}" + "".join(cells))
    retained = results.get("retention", {})
    shown = ", ".join(f"{k} {v:.2f}" for k, v in retained.items() if v is not None)
    lines.append(f"retention (final / stage 1): {shown or 'n/a'}")
    return lines
