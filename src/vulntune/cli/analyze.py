"""`vulntune analyze`: scanner reports in, reports annotated with the model's analysis out."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vulntune.cli.root import (
    JsonOption,
    Output,
    ProgressOption,
    RunsDirOption,
    err_console,
    usage_error,
)

if TYPE_CHECKING:
    from rich.progress import TaskID

    from vulntune.inference.analyze import ProgressFn
    from vulntune.inference.analyze_job import AnalyzeOutcome


class FormatOption(StrEnum):
    """`--format` values."""

    SARIF = "sarif"
    JSONL = "jsonl"
    MD = "md"


class SeverityOption(StrEnum):
    """`--min-severity` values, most severe first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


def analyze_command(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Scanner reports (SARIF or native JSON files, or folders), read as `vulntune "
            "ingest` reads them.",
            show_default=False,
        ),
    ],
    run: Annotated[
        str | None,
        typer.Option("--run", help="Analyse with this run's trained model (id or directory)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Analyse with any base model instead (built-in name, model directory, .gguf "
            "file or hub id), e.g. to compare the untrained model on the same input.",
        ),
    ] = None,
    source_root: Annotated[
        Path | None,
        typer.Option(
            "--source-root",
            help="The scanned source tree: prompts show the code around each finding, and "
            "fixes are suggested for it. Without it only code the scanner quoted is shown.",
            file_okay=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Output file, written atomically (default: stdout). Its name picks the format "
            "when --format is not given: .sarif, .jsonl, .md.",
        ),
    ] = None,
    output_format: Annotated[
        FormatOption | None,
        typer.Option("--format", help="sarif (enriched SARIF 2.1.0), jsonl or md (a PR comment)."),
    ] = None,
    min_severity: Annotated[
        SeverityOption | None,
        typer.Option(
            "--min-severity",
            help="Only ask the model about findings at least this severe (the scanner's "
            "severity); the others pass through unchanged.",
        ),
    ] = None,
    runs_dir: RunsDirOption = None,
    progress: ProgressOption = True,
    as_json: JsonOption = False,
) -> None:
    """Annotate scanner findings with the model's analysis and suggested fixes.

    Findings without code, package or URL to show, suppressed ones and those under
    --min-severity are passed through unchanged and counted. SARIF inputs keep every original
    run and result; each run gets its own automationDetails category.
    """
    from vulntune.findings.record import Severity
    from vulntune.inference.analyze_job import CompleterFactory, analyze_reports
    from vulntune.inference.analyze_model import (
        AnalysisModel,
        Completer,
        default_completer,
        model_from_run,
        model_from_spec,
    )
    from vulntune.inference.analyze_output import DEFAULT_FORMAT, format_for_path
    from vulntune.runs.manager import TrainingRunManager

    if (run is None) == (model is None):
        usage_error(ctx, "name the model with exactly one of --run and --model", "--run", "--model")
    chosen = output_format.value if output_format is not None else None
    if chosen is None:
        chosen = (format_for_path(output) if output is not None else None) or DEFAULT_FORMAT
    if output is None and as_json:
        usage_error(ctx, "--json needs -o: the analysis itself goes to stdout", "--json", "-o")
    out = Output(as_json)
    analysis_model = (
        model_from_run(TrainingRunManager(runs_dir).get(run))
        if run is not None
        else model_from_spec(str(model))
    )

    def load(chosen_model: AnalysisModel) -> Completer:
        err_console.print(f"Loading {chosen_model.label} ...", markup=False, highlight=False)
        return default_completer(chosen_model)

    with _progress_bar(progress) as report_progress:
        outcome = analyze_reports(
            paths,
            analysis_model,
            CompleterFactory(load),
            chosen,  # type: ignore[arg-type]  # a FormatOption value
            output=output,
            source_root=source_root,
            min_severity=Severity(min_severity.value) if min_severity is not None else None,
            progress=report_progress,
        )
    if output is None:
        sys.stdout.write(outcome.text)
        sys.stdout.flush()
    _print_summary(outcome, out if output is not None else Output(True))
    out.result(_summary_json(outcome, chosen))


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[ProgressFn | None]:
    """A rich progress bar (on stderr) with one task per prompt kind, or nothing."""
    if not enabled:
        yield None
        return
    from rich.progress import Progress

    with Progress(console=err_console) as bar:
        tasks: dict[str, TaskID] = {}

        def report(task: str, done: int, total: int) -> None:
            if task not in tasks:
                tasks[task] = bar.add_task(f"{task} prompts", total=total)
            bar.update(tasks[task], completed=done, total=total)

        yield report


def _print_summary(outcome: AnalyzeOutcome, out: Output) -> None:
    result = outcome.result
    out.line(
        f"{len(result.items)} finding(s): {result.analysed} analysed, "
        f"{result.passed_through} passed through unchanged, "
        f"{result.fixes_applying} suggested fix(es) apply"
    )
    for status, count in sorted(result.counts().items()):
        if status != "analysed":
            out.line(f"  {count} {status}")
    for error in outcome.inputs.report.errors:
        out.line(f"unreadable: {error.file}: {error.problem}")
    if outcome.output is not None:
        out.line(f"Wrote {outcome.output}")


def _summary_json(outcome: AnalyzeOutcome, output_format: str) -> dict[str, object]:
    result = outcome.result
    return {
        "output": str(outcome.output) if outcome.output is not None else None,
        "format": output_format,
        "findings": len(result.items),
        "analysed": result.analysed,
        "passed_through": result.passed_through,
        "fixes_applying": result.fixes_applying,
        "by_status": dict(result.counts()),
        "unreadable": [
            {"file": e.file, "problem": e.problem} for e in outcome.inputs.report.errors
        ],
    }
