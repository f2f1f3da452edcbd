"""`vulntune datasets`: findings (or scanner reports) in, a training dataset folder out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vulntune.cli.root import JsonOption, Output, say, usage_error

# = vulntune.datasets.catalogue_examples.DEFAULT_CATALOGUE_MAX (not imported: it pulls in the
# whole dataset builder at every command's start; a test keeps the two equal).
CATALOGUE_MAX = 200
# = vulntune.datasets.similar.MAX_SIMILAR (the same reason, the same test).
MAX_SIMILAR = 5

if TYPE_CHECKING:
    from vulntune.datasets.build import Dataset
    from vulntune.datasets.fixes.pairs import PairColumns


def datasets_command(
    ctx: typer.Context,
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Findings files (from `vulntune ingest`) or scanner reports and folders of "
            "them, told apart by content; reports are ingested first.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            help="The dataset folder to write (replaced atomically when it exists).",
            file_okay=False,
        ),
    ],
    source_root: Annotated[
        Path | None,
        typer.Option(
            "--source-root",
            help="The scanned source tree. A git repository gives fixes mined from history "
            "and code read at each finding's revision; any tree gives dependency upgrades "
            "and tool fixes.",
            file_okay=False,
            exists=True,
        ),
    ] = None,
    revision: Annotated[
        str | None,
        typer.Option(
            "--revision",
            help="The commit the scanner reports among the inputs were made at (findings "
            "files carry their own).",
        ),
    ] = None,
    pairs: Annotated[
        list[Path] | None,
        typer.Option(
            "--pairs",
            help="Public vulnerable->fixed pairs (JSONL, or CSV by its .csv suffix) in the "
            "shape of CVEfixes/SVEN/Big-Vul exports; repeatable.",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    pair_column: Annotated[
        list[str] | None,
        typer.Option(
            "--pair-column",
            help="FIELD=COLUMN: the column of a pairs field (code_before, code_after, "
            "language, cwe, cve, file, function, severity); repeatable.",
        ),
    ] = None,
    catalogue: Annotated[
        bool,
        typer.Option(
            "--catalogue/--no-catalogue",
            help="Add examples from the CWE catalogue's demonstrative examples (train only).",
        ),
    ] = True,
    catalogue_max: Annotated[
        int,
        typer.Option(
            "--catalogue-max", min=0, help="At most this many catalogue examples per task."
        ),
    ] = CATALOGUE_MAX,
    similar: Annotated[
        int,
        typer.Option(
            "--similar",
            min=0,
            max=MAX_SIMILAR,
            help="Write this many similar training findings, with their CWE, into each "
            "analysis prompt (0: none).",
        ),
    ] = 0,
    base_model: Annotated[
        str | None,
        typer.Option(
            "--base-model",
            help="Count tokens with this model's tokenizer in stats.json (weights not loaded).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the grouped splits.")] = 0,
    validation_fraction: Annotated[
        float,
        typer.Option("--validation-fraction", min=0.0, max=0.9, help="Share of validation."),
    ] = 0.1,
    test_fraction: Annotated[
        float, typer.Option("--test-fraction", min=0.0, max=0.9, help="Share of test.")
    ] = 0.1,
    max_changed_lines: Annotated[
        int,
        typer.Option(
            "--max-changed-lines",
            min=1,
            help="History fixes that change more lines than this are dropped.",
        ),
    ] = 30,
    as_json: JsonOption = False,
) -> None:
    """Build Stage-1 and Stage-2 datasets from findings, with grouped splits and stats.

    Writes OUTPUT/analysis-{train,validation,test}.jsonl, OUTPUT/codefix-{train,validation,
    test}.jsonl and OUTPUT/stats.json; `vulntune runs create --dataset OUTPUT` trains on it.
    """
    from vulntune.datasets.build import DatasetOptions, build_dataset, write_dataset
    from vulntune.datasets.inputs import load_inputs
    from vulntune.datasets.splits import SplitOptions

    if validation_fraction + test_fraction >= 1.0:
        usage_error(
            ctx,
            "--validation-fraction plus --test-fraction must stay below 1",
            "--validation-fraction",
            "--test-fraction",
        )
    if revision is not None and not revision.strip():
        usage_error(ctx, "--revision must name a commit, tag or branch", "--revision")
    columns = _pair_columns(ctx, pair_column or [])
    out = Output(as_json)
    loaded = load_inputs(inputs, source_root, revision)
    for problem in loaded.report_errors:
        say(f"skipped {problem}")
    options = DatasetOptions(
        source_root=source_root,
        split=SplitOptions(seed, validation_fraction, test_fraction),
        max_changed_lines=max_changed_lines,
        base_model=base_model,
        pairs=tuple(pairs or ()),
        pair_columns=columns,
        catalogue=catalogue,
        catalogue_max=catalogue_max,
        similar=similar,
    )
    dataset = build_dataset(loaded.findings, options)
    files = write_dataset(dataset, output)
    _print_summary(out, dataset)
    for problem in dataset.problems:
        say(f"skipped {problem}")
    out.line(f"wrote {output}")
    out.result(
        {
            "output": str(output),
            "files": [str(p) for p in files],
            "findings": len(loaded.findings),
            "stats": dataset.stats,
        }
    )


def _pair_columns(ctx: typer.Context, specs: list[str]) -> PairColumns:
    from vulntune.datasets.fixes.pairs import PairColumns

    known = set(PairColumns.__dataclass_fields__)
    chosen: dict[str, str] = {}
    for spec in specs:
        field, sep, column = spec.partition("=")
        if not sep or field not in known or not column:
            usage_error(
                ctx,
                f"{spec!r} is not FIELD=COLUMN with FIELD one of {', '.join(sorted(known))}",
                "--pair-column",
            )
        chosen[field] = column
    return PairColumns(**chosen)


def _print_summary(out: Output, dataset: Dataset) -> None:
    from rich.table import Table

    from vulntune.datasets.records import SPLITS, TASKS

    table = Table(title=f"dataset of {dataset.stats['findings']} findings")
    for column in ("task", *SPLITS, "catalogue", "dropped findings"):
        table.add_column(column)
    for task in TASKS:
        stats = dataset.stats["tasks"][task]
        dropped = ", ".join(f"{reason} {n}" for reason, n in stats["dropped"].items())
        cells = [str(stats["splits"][split]["examples"]) for split in SPLITS]
        table.add_row(task, *cells, str(stats["catalogue"]), dropped or "-")
    out.human.print(table)
