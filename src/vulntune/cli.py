"""Command line: a thin layer that parses arguments, calls library functions, prints results.

Every command's work lives in an importable function; here we only translate between the
terminal and those functions. A :class:`VulntuneError` becomes one line on stderr and exit 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from vulntune.errors import VulntuneError

if TYPE_CHECKING:
    from vulntune.findings.ingest import IngestReport

app = typer.Typer(
    name="vulntune",
    help="Fine-tune a small local model on the findings your security scanners produce.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


@app.callback()
def _commands() -> None:
    """Fine-tune a small local model on the findings your security scanners produce."""


def _print_ingest_summary(report: IngestReport, out: Console) -> None:
    """Findings per tool and severity, then what was skipped, unreadable or without context."""
    from collections import Counter

    from rich.markup import escape
    from rich.table import Table

    from vulntune.findings.record import Severity

    table = Table(title=f"{len(report.findings)} finding(s) from {len(report.files)} file(s)")
    table.add_column("tool")
    for severity in Severity:
        table.add_column(severity.value, justify="right")
    table.add_column("total", justify="right", style="bold")
    for tool, counts in report.by_tool_and_severity().items():
        row = [str(counts.get(s, 0) or "") for s in Severity]
        table.add_row(escape(tool), *row, str(sum(counts.values())))
    totals = report.by_severity()
    table.add_row("all", *[str(totals.get(s, 0)) for s in Severity], str(len(report.findings)))
    out.print(table)
    out.print(
        f"{report.duplicates} duplicate(s) merged, {report.redacted} finding(s) with redacted "
        "secrets",
        highlight=False,
    )
    if report.skipped:
        out.print(f"Skipped {len(report.skipped)} file(s) that are not scanner reports:")
        for skipped in report.skipped:
            out.print(
                f"  {escape(skipped.file)}: {escape(skipped.reason)}",
                highlight=False,
                soft_wrap=True,
            )
    if report.context_problems:
        kinds = Counter(p.kind for p in report.context_problems)
        listed = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        out.print(f"No code context for {len(report.context_problems)} finding(s): {listed}")
        for problem in report.context_problems[:5]:
            out.print(f"  {escape(problem.detail)}", highlight=False, soft_wrap=True)
    for error in report.errors:
        err_console.print(
            f"[bold red]error:[/] {escape(error.file)}: {escape(error.problem)}",
            highlight=False,
            soft_wrap=True,
        )


@app.command("ingest")
def ingest_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Scanner reports: SARIF or native JSON files, or folders to walk recursively. "
            "Formats are detected by content; in folders, non-JSON files (HTML/Markdown "
            "reports) and hidden files are skipped.",
            show_default=False,
        ),
    ],
    source_root: Annotated[
        Path | None,
        typer.Option(
            "--source-root",
            help="The scanned source tree: code findings get the surrounding lines and the "
            "enclosing function, dependency findings the manifest line. Nothing outside it is "
            "read.",
            file_okay=False,
        ),
    ] = None,
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            help="Where to write the findings, one JSON object per line ('-' for stdout). "
            "Written atomically, and only when the ingest succeeds.",
        ),
    ] = Path("findings.jsonl"),
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Fail (exit 1, nothing written) when any input file is unreadable."
        ),
    ] = False,
    context_lines: Annotated[
        int,
        typer.Option(
            "--context-lines",
            min=0,
            help="Source lines kept before and after a code finding (with --source-root).",
        ),
    ] = 5,
) -> None:
    """Read scanner reports into one de-duplicated, secret-redacted findings file.

    Exit status: 0 on success, even when some files were unreadable (they are listed);
    1 when no input could be read, or with --strict when any could not.
    """
    import io

    from rich.markup import escape

    from vulntune.findings.context import ContextOptions
    from vulntune.findings.ingest import ingest_paths, write_jsonl, write_jsonl_stream

    to_stdout = str(output) == "-"
    options = ContextOptions(lines_before=context_lines, lines_after=context_lines)
    excluded = [] if to_stdout else [output]
    report = ingest_paths(paths, source_root, context_options=options, exclude=excluded)
    out_console = err_console if to_stdout else console
    _print_ingest_summary(report, out_console)
    if not report.files:
        err_console.print("[bold red]error:[/] no scanner report could be read", highlight=False)
        raise typer.Exit(1)
    if strict and report.errors:
        err_console.print(
            f"[bold red]error:[/] {len(report.errors)} input file(s) could not be read "
            "(--strict); findings not written",
            highlight=False,
        )
        raise typer.Exit(1)
    if to_stdout:
        sys.stdout.flush()  # the JSONL goes to the byte stream underneath: keep the order
        stream = io.TextIOWrapper(
            sys.stdout.buffer, encoding="utf-8", errors="backslashreplace", newline="\n"
        )
        written = write_jsonl_stream(report.findings, stream)
        stream.flush()
        stream.detach()
    else:
        written = write_jsonl(report.findings, output)
    target = "stdout" if to_stdout else escape(str(output))
    out_console.print(f"Wrote {written} finding(s) to {target}", highlight=False)


# -- runs and training --------------------------------------------------------------------

runs_app = typer.Typer(help="Create, list and inspect training runs.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")

RunsDirOption = Annotated[
    Path | None,
    typer.Option("--runs-dir", help="Where runs live (default: $VULNTUNE_RUNS_DIR or ./runs)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _print_json(data: object) -> None:
    import json

    console.print_json(json.dumps(data, default=str))


@runs_app.command("create")
def runs_create_command(
    base_model: Annotated[
        str,
        typer.Option(
            "--base-model",
            help="tiny-random, smollm2-135m, a local checkpoint directory, a .gguf file, or a "
            "hub id org/name[@revision].",
        ),
    ],
    runs_dir: RunsDirOption = None,
    config_file: Annotated[
        Path | None, typer.Option("--config", help="TOML or JSON file overriding defaults.")
    ] = None,
    analysis_data: Annotated[
        Path | None,
        typer.Option("--analysis-data", help="Stage-1 examples (JSONL: prompt/completion)."),
    ] = None,
    codefix_data: Annotated[
        Path | None,
        typer.Option("--codefix-data", help="Stage-2 examples (JSONL: prompt/completion)."),
    ] = None,
) -> None:
    """Create a run: its directory and complete manifest (and its data, when given).

    The last line printed is the run directory.
    """
    from vulntune.datasets.examples import read_examples
    from vulntune.runs.config import TrainingConfig, load_config
    from vulntune.runs.manager import TrainingRunManager

    if (analysis_data is None) != (codefix_data is None):
        raise VulntuneError("give both --analysis-data and --codefix-data, or neither")
    config = load_config(config_file) if config_file else TrainingConfig()
    # Data is validated before the run exists, so bad data leaves nothing behind.
    data = None
    if analysis_data is not None and codefix_data is not None:
        data = (read_examples(analysis_data), read_examples(codefix_data))
    run = TrainingRunManager(runs_dir).create_run(base_model, config)
    if data is not None:
        counts = run.import_data(*data)
        console.print(
            f"data: stage 1 {counts.stage1_train} train / {counts.stage1_validation} "
            f"validation, stage 2 {counts.stage2_train} train / "
            f"{counts.stage2_validation} validation",
            highlight=False,
        )
    console.print(f"created run {run.id} (base model {base_model})", highlight=False)
    print(run.dir)


@runs_app.command("list")
def runs_list_command(runs_dir: RunsDirOption = None, as_json: JsonOption = False) -> None:
    """List the runs under the runs directory with each stage's state."""
    from rich.table import Table

    from vulntune.runs.manager import TrainingRunManager
    from vulntune.runs.summary import stage_summary

    listings = TrainingRunManager(runs_dir).list_runs()
    rows = []
    for item in listings:
        if item.run is None:
            rows.append({"dir": str(item.path), "problem": item.problem})
            continue
        run = item.run
        rows.append(
            {
                "run_id": run.id,
                "dir": str(run.dir),
                "created_at": run.manifest.created_at,
                "base_model": run.manifest.base_model.spec,
                "stage1": stage_summary(run, 1).state,
                "stage2": stage_summary(run, 2).state,
            }
        )
    if as_json:
        _print_json(rows)
        return
    table = Table(title=f"{len(rows)} run(s)")
    for column in ("run", "created", "base model", "stage 1", "stage 2"):
        table.add_column(column)
    for row in rows:
        if "problem" in row:
            table.add_row(row["dir"], "", "", "[red]broken[/]", row["problem"])
        else:
            cells = ("run_id", "created_at", "base_model", "stage1", "stage2")
            table.add_row(*(str(row[c]) for c in cells))
    console.print(table)


@runs_app.command("show")
def runs_show_command(
    run: Annotated[str, typer.Argument(help="Run directory or run id.")],
    runs_dir: RunsDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a run: base model, semantics, every artifact path and each stage's state."""
    from rich.table import Table

    from vulntune.runs.manager import TrainingRunManager
    from vulntune.runs.summary import run_summary

    summary = run_summary(TrainingRunManager(runs_dir).get(run)).to_dict()
    if as_json:
        _print_json(summary)
        return
    base = summary["base_model"]
    console.print(f"[bold]run {summary['run_id']}[/]  {summary['dir']}", highlight=False)
    console.print(
        f"base model {base['spec']} ({base['kind']}, {base['content_hash'][:19]}...)  "
        f"stage 2 mode {summary['semantics']['stage2_mode']}, replay "
        f"{summary['semantics']['replay_ratio']}, prompt {summary['semantics']['prompt_format']}",
        highlight=False,
    )
    for name, stage in summary["stages"].items():
        line = f"{name}: {stage['state']}"
        if "validation" in stage:
            losses = ", ".join(f"{k} loss {v['loss']:.4f}" for k, v in stage["validation"].items())
            line += f" ({stage['steps']} steps, {losses})"
        console.print(line, highlight=False)
    table = Table(title="artifacts")
    table.add_column("artifact")
    table.add_column("path")
    table.add_column("exists")
    for name, info in summary["artifacts"].items():
        table.add_row(name, info["path"], "yes" if info["exists"] else "-")
    console.print(table)


@app.command("train")
def train_command(
    run: Annotated[str, typer.Argument(help="Run directory or run id.")],
    stage: Annotated[str, typer.Option("--stage", help="1, 2 or all.")] = "all",
    runs_dir: RunsDirOption = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Train a run's stages. Finished stages are skipped; interrupted ones resume.

    Scale out with the standard launchers, e.g. `torchrun --nproc_per_node=4
    $(which vulntune) train RUN`: each process takes a share of every step.
    """
    from vulntune.runs.manager import TrainingRunManager
    from vulntune.training.distributed import shutdown_distributed
    from vulntune.training.sequential import SequentialFineTuner

    if stage not in ("1", "2", "all"):
        raise VulntuneError(f"--stage must be 1, 2 or all, not {stage!r}")
    training_run = TrainingRunManager(runs_dir).get(run)
    tuner = SequentialFineTuner(training_run, say=_say, show_progress=progress)
    try:
        results = tuner.train(stage)  # type: ignore[arg-type]
    finally:
        shutdown_distributed()
    if tuner.dist.is_main:
        for name, result in results.items():
            state = "skipped (already complete)" if result is None else f"{result.steps} steps"
            console.print(f"{name}: {state}", highlight=False)
        console.print(f"model: {training_run.path(training_run.manifest.inference.model)}")


def _say(message: str) -> None:
    err_console.print(message, highlight=False, soft_wrap=True)


@app.command("quickstart")
def quickstart_command(
    base_model: Annotated[
        str, typer.Option("--base-model", help="Base model to fine-tune.")
    ] = "smollm2-135m",
    runs_dir: RunsDirOption = None,
    epochs: Annotated[
        int | None, typer.Option(help="Epochs per stage (default: the quickstart's).")
    ] = None,
    samples: Annotated[int, typer.Option(help="Held-out findings to generate for.")] = 2,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Fine-tune the base model in both stages on vulntune's built-in examples, offline,
    then show what it writes for findings it never saw."""
    from rich.markup import escape
    from rich.panel import Panel

    from vulntune.quickstart import quickstart_config, run_quickstart

    overrides = {"stage1": {"epochs": epochs}, "stage2": {"epochs": epochs}} if epochs else None
    run, shown = run_quickstart(
        base_model, runs_dir, quickstart_config(overrides), samples, _say, progress
    )
    for sample in shown:
        finding = "\n".join(sample.prompt.splitlines()[1:5])
        console.print(Panel(escape(finding), title=f"held-out finding {sample.id}"))
        console.print(Panel(escape(sample.generated), title="trained model wrote"))
        console.print(Panel(escape(sample.reference), title="reference"))
    console.print(f"run directory: {run.dir}", highlight=False)
    console.print(f"trained model: {run.path(run.manifest.inference.model)}", highlight=False)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except VulntuneError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
