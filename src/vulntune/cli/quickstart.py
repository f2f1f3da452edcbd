"""`vulntune quickstart`: both stages on the built-in examples, then samples on held-out ones."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from vulntune.cli.root import JsonOption, Output, ProgressOption, RunsDirOption, say
from vulntune.quickstart import DEFAULT_BASE_MODEL, DEFAULT_SAMPLES


def quickstart_command(
    base_model: Annotated[
        str, typer.Option("--base-model", help="Base model to fine-tune.")
    ] = DEFAULT_BASE_MODEL,
    runs_dir: RunsDirOption = None,
    epochs: Annotated[
        int | None,
        typer.Option(min=1, help="Epochs per stage (default: the quickstart's, 4 and 3)."),
    ] = None,
    samples: Annotated[
        int, typer.Option(min=0, help="Held-out findings to generate for (0: none).")
    ] = DEFAULT_SAMPLES,
    progress: ProgressOption = True,
    as_json: JsonOption = False,
) -> None:
    """Fine-tune the base model in both stages on built-in examples, offline, and show samples.

    After training, the trained model writes its answer for findings it never saw, shown next
    to the reference answer.
    """
    from rich.panel import Panel
    from rich.text import Text

    from vulntune.quickstart import quickstart_config, run_quickstart

    overrides = None
    if epochs is not None:
        overrides = {"stage1": {"epochs": epochs}, "stage2": {"epochs": epochs}}
    result = run_quickstart(
        base_model, runs_dir, quickstart_config(overrides), samples, say, progress
    )
    run, out = result.run, Output(as_json)
    model = run.path(run.manifest.inference.model)
    for sample in result.samples:
        finding = "\n".join(sample.prompt.splitlines()[1:5])
        out.human.print(Panel(Text(finding), title=f"held-out finding {sample.id}"))
        out.human.print(Panel(Text(sample.generated), title="trained model wrote"))
        out.human.print(Panel(Text(sample.reference), title="reference"))
    out.line(f"run directory: {run.dir}")
    out.line(f"trained model: {model}")
    out.result(
        {
            "run_id": run.id,
            "run_dir": str(run.dir),
            "model": str(model),
            "samples": [asdict(sample) for sample in result.samples],
        }
    )
