"""`vulntune runs create/list/show`: training runs, their manifests and their stages' states."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vulntune.cli.root import JsonOption, Output, RunsDirOption, usage_error

if TYPE_CHECKING:
    from vulntune.runs.manager import RunListing
    from vulntune.runs.summary import RunSummary

runs_app = typer.Typer(help="Create, list and inspect training runs.", no_args_is_help=True)


@runs_app.command("create")
def runs_create_command(
    ctx: typer.Context,
    base_model: Annotated[
        str,
        typer.Option(
            "--base-model",
            help="tiny-random, smollm2-135m, a local model directory, a .gguf file, or a "
            "hub id org/name[@revision].",
        ),
    ],
    runs_dir: RunsDirOption = None,
    config_file: Annotated[
        Path | None, typer.Option("--config", help="TOML or JSON file overriding defaults.")
    ] = None,
    analysis_data: Annotated[
        Path | None,
        typer.Option(
            "--analysis-data",
            help="Stage-1 examples (JSONL: prompt/completion); needs --codefix-data.",
        ),
    ] = None,
    codefix_data: Annotated[
        Path | None,
        typer.Option(
            "--codefix-data",
            help="Stage-2 examples (JSONL: prompt/completion); needs --analysis-data.",
        ),
    ] = None,
    dataset: Annotated[
        Path | None,
        typer.Option(
            "--dataset",
            help="A folder written by `vulntune datasets`: its splits become the run's data "
            "(the test splits are kept for evaluation).",
            file_okay=False,
            exists=True,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a run: its directory and complete manifest (and its data, when given).

    The last line printed is the run directory (with --json: the "run_dir" key).
    """
    from vulntune.datasets.examples import read_examples
    from vulntune.runs.config import TrainingConfig, load_config
    from vulntune.runs.manager import TrainingRunManager

    if (analysis_data is None) != (codefix_data is None):
        usage_error(
            ctx,
            "give both --analysis-data and --codefix-data, or neither",
            "--analysis-data",
            "--codefix-data",
        )
    if dataset is not None and analysis_data is not None:
        usage_error(ctx, "give --dataset or --analysis-data/--codefix-data, not both", "--dataset")
    out = Output(as_json)
    config = load_config(config_file) if config_file is not None else TrainingConfig()
    # Data is validated before the run exists, so bad data leaves nothing behind.
    data = None
    if analysis_data is not None and codefix_data is not None:
        data = (read_examples(analysis_data), read_examples(codefix_data))
    if dataset is not None:
        from vulntune.runs.run import check_dataset_dir

        check_dataset_dir(dataset)
    run = TrainingRunManager(runs_dir).create_run(base_model, config)
    counts = run.import_data(*data) if data is not None else None
    if dataset is not None:
        counts = run.import_dataset(dataset)
    if counts is not None:
        line = (
            f"data: stage 1 {counts.stage1_train} train / {counts.stage1_validation} "
            f"validation, stage 2 {counts.stage2_train} train / "
            f"{counts.stage2_validation} validation"
        )
        if dataset is not None:
            line += f"; test {counts.stage1_test} / {counts.stage2_test} kept for evaluation"
        out.line(line)
    out.line(f"created run {run.id} (base model {base_model})")
    out.line(str(run.dir))
    out.result(
        {
            "run_id": run.id,
            "run_dir": str(run.dir),
            "base_model": run.manifest.base_model.model_dump(mode="json"),
            "data": None if counts is None else asdict(counts),
        }
    )


@runs_app.command("list")
def runs_list_command(runs_dir: RunsDirOption = None, as_json: JsonOption = False) -> None:
    """List the runs under the runs directory with each stage's state.

    A stage is "training" while a process holds the run's lock, "interrupted" when it stopped
    with a checkpoint to resume from.
    """
    from vulntune.runs.manager import TrainingRunManager

    rows = [_listing_row(item) for item in TrainingRunManager(runs_dir).list_runs()]
    out = Output(as_json)
    if as_json:
        out.result(rows)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(rows)} run(s)")
    for column in ("run", "created", "base model", "stage 1", "stage 2"):
        table.add_column(column)
    for row in rows:
        if "problem" in row:
            cells = [
                Text(row["dir"]),
                Text(""),
                Text(""),
                Text("broken", "red"),
                Text(row["problem"]),
            ]
        else:
            names = ("run_id", "created_at", "base_model", "stage1", "stage2")
            cells = [Text(str(row[name])) for name in names]
        table.add_row(*cells)
    out.human.print(table)


def _listing_row(item: RunListing) -> dict[str, Any]:
    from vulntune.io.lock import lock_is_held
    from vulntune.runs.summary import stage_summary

    if item.run is None:
        return {"dir": str(item.path), "problem": item.problem}
    run = item.run
    training = lock_is_held(run.dir)
    return {
        "run_id": run.id,
        "dir": str(run.dir),
        "created_at": run.manifest.created_at,
        "base_model": run.manifest.base_model.spec,
        "stage1": stage_summary(run, 1, training).state,
        "stage2": stage_summary(run, 2, training).state,
    }


@runs_app.command("show")
def runs_show_command(
    run: Annotated[str, typer.Argument(help="Run directory or run id.")],
    runs_dir: RunsDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a run: base model, semantics, every artifact path and each stage's state."""
    from vulntune.runs.manager import TrainingRunManager
    from vulntune.runs.summary import run_summary

    summary = run_summary(TrainingRunManager(runs_dir).get(run))
    out = Output(as_json)
    if as_json:
        out.result(summary.to_dict())
        return
    _print_summary(summary, out)


def _print_summary(summary: RunSummary, out: Output) -> None:
    from rich.table import Table
    from rich.text import Text

    base, semantics = summary.base_model, summary.semantics
    out.human.print(Text.assemble((f"run {summary.run_id}", "bold"), f"  {summary.dir}"))
    out.line(
        f"base model {base.spec} ({base.kind}, {base.content_hash[:19]}...)  "
        f"stage 2 mode {semantics.stage2_mode}, replay {semantics.replay_ratio}, "
        f"prompt {semantics.prompt_format}"
    )
    for name, stage in summary.stages.items():
        line = f"{name}: {stage.state}"
        if stage.validation is not None:
            losses = ", ".join(f"{k} loss {v['loss']:.4f}" for k, v in stage.validation.items())
            line += f" ({stage.steps} steps, {losses})"
        out.line(line)
    table = Table(title="artifacts")
    for column in ("artifact", "path", "exists"):
        table.add_column(column)
    for name, artifact in summary.artifacts.items():
        table.add_row(Text(name), Text(artifact.path), "yes" if artifact.exists else "-")
    out.human.print(table)
