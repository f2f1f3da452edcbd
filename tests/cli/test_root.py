"""The conventions every command shares: pipeline order, error lines, entry points."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys

import typer
from typer.main import get_command
from typer.testing import CliRunner

from vulntune.cli import app, main
from vulntune.cli.root import PIPELINE_ORDER, Output, PipelineOrderGroup
from vulntune.errors import VulntuneError


def test_help_lists_the_commands_in_pipeline_order():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    listed = re.findall(r"^│ (\w+) ", result.stdout, flags=re.MULTILINE)
    assert listed == list(PIPELINE_ORDER)
    assert listed == [
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
    ]


def test_every_command_has_a_place_in_the_pipeline_order():
    # A new command must be placed in PIPELINE_ORDER, not fall to the end of the list.
    registered = set(get_command(app).commands)  # type: ignore[attr-defined]
    assert registered == set(PIPELINE_ORDER)


def test_no_arguments_shows_the_help():
    result = CliRunner().invoke(app, [])
    assert result.exit_code == 2  # click's code for "no command given"
    assert "Usage: vulntune" in result.stdout + result.stderr


def test_an_error_is_one_line_with_its_markup_shown_literally(cli, tmp_path):
    # rich would read "[bold]" as a style and fail on the closing "[/]" without escaping.
    name = "[bold]x[/] [/]"
    stderr = cli.error("runs", "show", name, "--runs-dir", tmp_path)
    assert stderr.startswith(f"error: no run {name!r}: not a run directory")
    assert stderr.count("\n") == 1


def test_the_error_path_of_the_app_itself(tmp_path):
    result = CliRunner().invoke(app, ["runs", "show", "[red]y[/]", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash
    assert result.stdout == ""
    assert result.stderr.startswith("error: no run '[red]y[/]': ")


def test_only_vulntune_errors_become_an_error_line():
    probe = typer.Typer(cls=PipelineOrderGroup)

    @probe.command()
    def refuse() -> None:
        raise VulntuneError("input.json: field 'x' is [not] valid")

    @probe.command()
    def crash() -> None:
        raise ZeroDivisionError("a bug must show its traceback")

    refused = CliRunner().invoke(probe, ["refuse"])
    assert (refused.exit_code, refused.stderr) == (
        1,
        "error: input.json: field 'x' is [not] valid\n",
    )
    crashed = CliRunner().invoke(probe, ["crash"])
    assert isinstance(crashed.exception, ZeroDivisionError)


def test_json_output_is_silent_without_json(capsys):
    Output(as_json=False).result({"a": 1})
    Output(as_json=True).result({"a": [1, "é"]})
    captured = capsys.readouterr()
    assert captured.out == '{\n  "a": [\n    1,\n    "é"\n  ]\n}\n'


def test_the_console_script_and_python_m_run_the_same_app(cli):
    (script,) = [
        entry
        for entry in importlib.metadata.entry_points(group="console_scripts")
        if entry.name == "vulntune"
    ]
    assert script.value == "vulntune.cli:main"
    assert script.load() is main
    done = cli.ok("--help")
    assert "Usage: vulntune" in done.stdout and "demo" in done.stdout


def test_python_m_vulntune_cli_runs_the_app_too(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "vulntune.cli",
            "runs",
            "list",
            "--runs-dir",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")
