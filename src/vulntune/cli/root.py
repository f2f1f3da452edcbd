"""The root command: the typer app, its conventions, shared options, and the entry point.

Conventions every command follows:

- Commands are listed in pipeline order (`PIPELINE_ORDER`), not alphabetically.
- Usage errors (a bad choice, a missing paired flag, a number out of range) exit 2 with click's
  usage message; they are declared as choices and bounds where possible, so typer checks them.
- A `VulntuneError` becomes one line on stderr, its text shown literally (rich markup in it is
  escaped), and exit status 1.
- A command that produces a result takes `--json`: stdout then holds exactly one JSON document
  and everything meant for people goes to stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from vulntune.errors import VulntuneError

# The order `vulntune --help` lists the commands in: the order of the pipeline.
PIPELINE_ORDER = (
    "ingest",
    "datasets",
    "runs",
    "train",
    "evaluate",
    "run",
    "demo",
    "analyze",
    "export",
    "publish",
)

console = Console()
err_console = Console(stderr=True)


class PipelineOrderGroup(TyperGroup):
    """Lists commands in pipeline order and turns a VulntuneError into one line and exit 1."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        rank = {name: i for i, name in enumerate(PIPELINE_ORDER)}
        return sorted(self.commands, key=lambda name: rank.get(name, len(rank)))

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except VulntuneError as exc:
            print_error(str(exc))
            raise typer.Exit(1) from None


app = typer.Typer(
    name="vulntune",
    help="Fine-tune a small local model on the findings your security scanners produce.",
    cls=PipelineOrderGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _commands() -> None:
    """Fine-tune a small local model on the findings your security scanners produce."""


RunsDirOption = Annotated[
    Path | None,
    typer.Option("--runs-dir", help="Where runs live (default: $VULNTUNE_RUNS_DIR or ./runs)."),
]
JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print the result as one JSON document on stdout; other output goes to stderr.",
    ),
]
ProgressOption = Annotated[bool, typer.Option(help="Show progress bars.")]


class Output:
    """Where a command writes: its result, and the lines meant for people.

    Without --json both go to stdout; with --json the result is one JSON document on stdout
    and the lines for people go to stderr.
    """

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.human = err_console if as_json else console

    def line(self, text: str) -> None:
        """One line for people, printed literally (no markup, no highlighting)."""
        self.human.print(text, markup=False, highlight=False, soft_wrap=True)

    def result(self, data: object) -> None:
        """The machine-readable result: printed only with --json."""
        if self.as_json:
            typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def say(message: str) -> None:
    """Progress messages of long work: always stderr, printed literally."""
    err_console.print(message, markup=False, highlight=False, soft_wrap=True)


def print_error(message: str) -> None:
    """``error: <message>`` on stderr; the message is escaped, never read as markup."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def usage_error(ctx: typer.Context, message: str, *params: str) -> NoReturn:
    """Refuse a combination of flags the way typer refuses a bad value: usage and exit 2."""
    hint = " / ".join(f"'{name}'" for name in params) or None
    raise typer.BadParameter(message, ctx=ctx, param_hint=hint)


def main() -> None:
    """Console-script entry point (`vulntune`, `python -m vulntune`)."""
    app(prog_name="vulntune")
