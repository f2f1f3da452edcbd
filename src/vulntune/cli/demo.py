"""`vulntune demo`: the whole pipeline on the example project that ships with vulntune."""

from __future__ import annotations

from typing import Annotated

import typer

from vulntune.cli.root import JsonOption, Output, ProgressOption, RunsDirOption
from vulntune.pipeline import DEMO_BASE_MODEL


def demo_command(
    base_model: Annotated[
        str, typer.Option("--base-model", help="Base model to fine-tune.")
    ] = DEMO_BASE_MODEL,
    runs_dir: RunsDirOption = None,
    progress: ProgressOption = True,
    as_json: JsonOption = False,
) -> None:
    """Fine-tune and evaluate on a real example project, offline: the main job.

    Builds the tinyparcel repository (a multi-language project whose six commits fix real
    findings) in a temporary folder and runs `vulntune run` on its scanner reports of revisions
    r1..r6, mining fixes from its history. Shows base vs final model on CWE accuracy and on
    the share of diffs that apply. `--base-model tiny-random` is the half-minute smoke run.
    """
    from vulntune.cli.run import show_result
    from vulntune.pipeline.demo import run_demo
    from vulntune.pipeline.summary import headline

    result = run_demo(base_model, runs_dir, progress)
    notes = []
    for row in headline(result.pipeline.results).values():
        base, final = row.values["base"], row.values["final"]
        if base is not None and final is not None:
            verdict = "better" if final > base else "not better"
            notes.append(f"{row.label}: base {base:.2f} -> final {final:.2f} ({verdict})")
    title = f"demo ({base_model}): base vs trained"
    show_result(result.pipeline, Output(as_json), title, notes)
