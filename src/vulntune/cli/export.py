"""`vulntune export`: a trained run as a Hugging Face model directory or GGUF files."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from vulntune.cli.root import JsonOption, Output, RunsDirOption, say, usage_error


class ExportFormat(StrEnum):
    """`--format` values."""

    HF = "hf"
    GGUF = "gguf"


def export_command(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(help="Run directory or run id.")],
    to: Annotated[
        Path,
        typer.Option(
            "--to",
            help="Directory to create (it must not exist, or be empty); written atomically.",
            show_default=False,
        ),
    ],
    export_format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="hf: the model in Hugging Face layout, its adapters and a model card; "
            "gguf: f16 and q8_0 GGUF files for llama.cpp and Ollama (needs the 'gguf' extra).",
        ),
    ] = ExportFormat.HF,
    adapter_only: Annotated[
        bool,
        typer.Option("--adapter-only", help="hf only: the Stage-1/Stage-2 adapters and card."),
    ] = False,
    runs_dir: RunsDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export a trained run with its model card (README.md)."""
    from vulntune.publish.export_gguf import export_gguf
    from vulntune.publish.export_hf import export_hf
    from vulntune.runs.manager import TrainingRunManager

    if adapter_only and export_format is ExportFormat.GGUF:
        usage_error(ctx, "--adapter-only applies to --format hf", "--adapter-only", "--format")
    training_run = TrainingRunManager(runs_dir).get(run)
    say(f"exporting run {training_run.id} as {export_format.value} to {to} ...")
    if export_format is ExportFormat.GGUF:
        result = export_gguf(training_run, to)
    else:
        result = export_hf(training_run, to, adapter_only=adapter_only)
    out = Output(as_json)
    for name in result.files:
        out.line(f"  {name}")
    out.line(f"Exported run {training_run.id} to {result.path}")
    out.result(
        {
            "run_id": training_run.id,
            "format": export_format.value,
            "path": str(result.path),
            "files": list(result.files),
        }
    )
