"""`vulntune run`: scanner reports to a trained, evaluated run and its report, in one command."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vulntune.cli.root import JsonOption, Output, ProgressOption, RunsDirOption, usage_error

if TYPE_CHECKING:
    from vulntune.pipeline.run import PipelineResult

DEFAULT_BASE_MODEL = "smollm2-135m"


def run_command(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Scanner reports (files or folders). REV=PATH says PATH was made at revision "
            "REV; a folder whose subfolders are named after revisions of --source-root (r1/, "
            "r2/, ...) gives each subfolder's revision; SARIF names its own.",
            show_default=False,
        ),
    ] = None,
    source_root: Annotated[
        Path | None,
        typer.Option(
            "--source-root",
            help="The scanned project: code context, and fixes mined from its git history.",
        ),
    ] = None,
    base_model: Annotated[
        str, typer.Option("--base-model", help="Base model to fine-tune.")
    ] = DEFAULT_BASE_MODEL,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config", help="TOML or JSON training configuration, with an optional [pipeline]."
        ),
    ] = None,
    pairs: Annotated[
        list[Path] | None,
        typer.Option("--pairs", help="Public vulnerable->fixed pairs file (repeatable)."),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume", metavar="RUN", help="Continue the pipeline of run RUN where it stopped."
        ),
    ] = None,
    runs_dir: RunsDirOption = None,
    progress: ProgressOption = True,
    as_json: JsonOption = False,
) -> None:
    """Ingest reports, build datasets, create a run, train both stages, evaluate, report.

    Prints the run directory and the report path last. `--resume RUN` continues a run that
    stopped anywhere (between steps, inside a stage, before evaluation).
    """
    from vulntune.pipeline.inputs import PipelineInputError, parse_report_arguments
    from vulntune.pipeline.run import RunRequest, resume_pipeline, start_pipeline
    from vulntune.pipeline.settings import load_run_configuration

    if resume is not None:
        given = [name for name, value in (("PATH", paths), ("--source-root", source_root),
                 ("--config", config_file), ("--pairs", pairs)) if value]  # fmt: skip
        if given:
            usage_error(ctx, f"--resume continues a run with its own inputs; drop {given[0]}")
        result = resume_pipeline(resume, runs_dir, progress)
    else:
        if source_root is not None and not source_root.is_dir():
            raise PipelineInputError(f"{source_root}: the source root is not a directory")
        for pair_file in pairs or []:
            if not pair_file.is_file():
                raise PipelineInputError(f"{pair_file}: no such pairs file")
        request = RunRequest(
            reports=parse_report_arguments(paths or [], source_root),
            source_root=source_root,
            base_model=base_model,
            configuration=load_run_configuration(config_file),
            pairs=tuple(pairs or ()),
            runs_dir=runs_dir,
        )
        result = start_pipeline(request, progress)
    show_result(result, Output(as_json))


def show_result(
    result: PipelineResult,
    out: Output,
    title: str = "base vs trained",
    notes: Sequence[str] = (),
) -> None:
    """The comparison table and ``notes``, then the run directory and the report path (last),
    and with --json the result document."""
    from rich.table import Table

    from vulntune.pipeline.summary import comparison, retention

    rows = comparison(result.results)
    if rows:
        table = Table(title=title)
        table.add_column("metric")
        for column in rows[0].values:
            table.add_column(column, justify="right")
        for row in rows:
            cells = ["-" if v is None else f"{v:.2f}" for v in row.values.values()]
            table.add_row(row.label, *cells)
        out.human.print(table)
    kept = retention(result.results)
    if kept:
        out.line("retention (final / stage 1): "
                 + ", ".join(f"{k} {v:.2f}" for k, v in kept.items()))  # fmt: skip
    for note in notes:
        out.line(note)
    run = result.run
    out.line(f"run directory: {run.dir}")
    out.line(f"report: {result.report}")
    out.result(
        {
            "run_id": run.id,
            "run_dir": str(run.dir),
            "report": str(result.report),
            "resumed": result.resumed,
            "results": result.results,
        }
    )
