"""`vulntune ingest`: scanner reports in, one de-duplicated, secret-redacted findings file out."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from vulntune.cli.root import JsonOption, Output, err_console, print_error, usage_error

if TYPE_CHECKING:
    from vulntune.findings.ingest import IngestReport


def ingest_command(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Scanner reports: SARIF or native JSON files, folders to walk recursively, "
            "and archives (.gz files, .zip, .tar.gz: a CI artifact as downloaded). Formats are "
            "detected by content; in folders and archives, non-JSON files (HTML/Markdown "
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
    revision: Annotated[
        str | None,
        typer.Option(
            "--revision",
            help="The commit the reports were made at (a SHA, tag or branch of the scanned "
            "repository), recorded with every finding; default: what a SARIF run names in its "
            "versionControlProvenance. `vulntune datasets` mines fixes between revisions.",
        ),
    ] = None,
    max_unpacked_mb: Annotated[
        int,
        typer.Option(
            "--max-unpacked-mb",
            min=1,
            help="The most an archive may unpack to, in MiB (per archive and per member); "
            "reading stops there, and at a member that expands over 200 times (zip bombs).",
        ),
    ] = 4096,
    as_json: JsonOption = False,
) -> None:
    """Read scanner reports into one de-duplicated, secret-redacted findings file.

    Exit status: 0 on success, even when some files were unreadable (they are listed);
    1 when no input could be read, or with --strict when any could not.
    With --json, a summary (counts, skipped and unreadable files) goes to stdout.
    """
    from rich.markup import escape

    from vulntune.findings.ingest import ingest_paths, write_jsonl
    from vulntune.findings.jsonl import write_findings
    from vulntune.io.archives import ArchiveLimits

    to_stdout = str(output) == "-"
    if to_stdout and as_json:
        usage_error(ctx, "--json and '-o -' would both write to stdout; pick one", "--json", "-o")
    out = Output(as_json)
    options = None
    if source_root is not None:  # code context only with a source root: skip its imports
        from vulntune.findings.context import ContextOptions

        options = ContextOptions(lines_before=context_lines, lines_after=context_lines)
    excluded = [] if to_stdout else [output]
    if revision is not None and not revision.strip():
        usage_error(ctx, "--revision must name a commit, tag or branch", "--revision")
    report = ingest_paths(
        paths,
        source_root,
        context_options=options,
        exclude=excluded,
        revision=revision,
        archive_limits=ArchiveLimits.total_mib(max_unpacked_mb),
    )
    human = err_console if to_stdout else out.human
    _print_ingest_summary(report, human)
    failure = None
    if not report.files:
        failure = "no scanner report could be read"
    elif strict and report.errors:
        failure = (
            f"{len(report.errors)} input file(s) could not be read (--strict); findings not written"
        )
    if failure is not None:
        out.result(_summary_json(report, output, written=None))
        print_error(failure)
        raise typer.Exit(1)
    if to_stdout:
        sys.stdout.flush()  # the JSONL goes to the byte stream underneath: keep the order
        written = write_findings(report.findings, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        written = write_jsonl(report.findings, output)
    target = "stdout" if to_stdout else escape(str(output))
    human.print(f"Wrote {written} finding(s) to {target}", highlight=False)
    out.result(_summary_json(report, output, written))


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
        print_error(f"{error.file}: {error.problem}")


def _summary_json(report: IngestReport, output: Path, written: int | None) -> dict[str, Any]:
    """What `ingest --json` prints: the counts and every file that was skipped or unreadable."""
    return {
        "output": str(output) if written is not None else None,
        "written": written,
        "findings": len(report.findings),
        "files": report.files,
        "duplicates": report.duplicates,
        "redacted": report.redacted,
        "by_severity": {str(s): n for s, n in report.by_severity().items()},
        "by_tool_and_severity": {
            tool: {str(s): n for s, n in counts.items()}
            for tool, counts in report.by_tool_and_severity().items()
        },
        "skipped": [{"file": s.file, "reason": s.reason} for s in report.skipped],
        "errors": [{"file": e.file, "problem": e.problem} for e in report.errors],
        "context_problems": [
            {"finding_id": p.finding_id, "path": p.path, "kind": p.kind, "detail": p.detail}
            for p in report.context_problems
        ],
    }
