"""Command line: a thin layer that parses arguments, calls library functions, prints results.

Every command's work lives in an importable function; here we only translate between the
terminal and those functions. A :class:`VulntuneError` becomes one line on stderr and exit 1.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from vulntune.errors import VulntuneError

app = typer.Typer(
    name="vulntune",
    help="Fine-tune a small local model on the findings your security scanners produce.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except VulntuneError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
