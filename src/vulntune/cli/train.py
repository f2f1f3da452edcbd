"""`vulntune train`: train a run's stages; finished stages are skipped, interrupted ones resume."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vulntune.cli.root import JsonOption, Output, ProgressOption, RunsDirOption, say

if TYPE_CHECKING:
    from vulntune.runs.run import TrainingRun
    from vulntune.training.job import StageResult


class StageOption(StrEnum):
    """`--stage` values (a closed set, so typer refuses anything else with exit 2)."""

    ONE = "1"
    TWO = "2"
    ALL = "all"


def train_command(
    run: Annotated[str, typer.Argument(help="Run directory or run id.")],
    stage: Annotated[
        StageOption, typer.Option("--stage", help="Which stage to train: 1, 2 or all.")
    ] = StageOption.ALL,
    runs_dir: RunsDirOption = None,
    evaluate: Annotated[
        bool,
        typer.Option(
            "--evaluate/--no-evaluate",
            help="Evaluate the run (vulntune evaluate) once both stages are complete.",
        ),
    ] = True,
    progress: ProgressOption = True,
    as_json: JsonOption = False,
) -> None:
    """Train a run's stages. Finished stages are skipped; interrupted ones resume.

    When both stages are complete the run is evaluated (as `vulntune evaluate` does), unless
    --no-evaluate is given or nothing was trained and the run already has results.

    Scale out with the standard launchers, e.g. `torchrun --nproc_per_node=4
    $(which vulntune) train RUN`: each process takes a share of every step.
    """
    from vulntune.runs.manager import TrainingRunManager
    from vulntune.training.distributed import shutdown_distributed
    from vulntune.training.sequential import SequentialFineTuner

    training_run = TrainingRunManager(runs_dir).get(run)
    tuner = SequentialFineTuner(training_run, say=say, show_progress=progress)
    try:
        results = tuner.train(stage.value)
    finally:
        shutdown_distributed()
    if not tuner.dist.is_main:
        return
    out = Output(as_json)
    for name, result in results.items():
        state = "skipped (already complete)" if result is None else f"{result.steps} steps"
        out.line(f"{name}: {state}")
    model = _final_model(training_run)
    if model is not None:
        out.line(f"model: {model}")
    evaluation = None
    trained = any(result is not None for result in results.values())
    if (
        evaluate
        and model is not None
        and (trained or not training_run.evaluation.results.is_file())
    ):
        from vulntune.cli.evaluate import results_table, run_evaluation

        evaluated = run_evaluation(training_run, show_progress=progress)
        for line in results_table(evaluated.results):
            out.line(line)
        out.line(f"report: {evaluated.report_path}")
        evaluation = {"results": str(evaluated.results_path), "report": str(evaluated.report_path)}
    out.result(
        {
            "run_id": training_run.id,
            "run_dir": str(training_run.dir),
            "stages": {name: _stage_json(result) for name, result in results.items()},
            "model": model,
            "evaluation": evaluation,
        }
    )


def _final_model(run: TrainingRun) -> str | None:
    """The model to use, once the run has one (after Stage 2), else None."""
    if not run.is_complete(2):
        return None
    return str(run.path(run.manifest.inference.model))


def _stage_json(result: StageResult | None) -> dict[str, Any]:
    if result is None:
        return {"trained": False}
    return {
        "trained": True,
        "steps": result.steps,
        "resumed_from_step": result.resumed_from_step,
        "evaluation": result.evaluation,
    }
