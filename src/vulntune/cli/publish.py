"""`vulntune publish`: export a trained run and push it to a hub model repository."""

from __future__ import annotations

from typing import Annotated

import typer

from vulntune.cli.root import JsonOption, Output, RunsDirOption, say


def publish_command(
    run: Annotated[str, typer.Argument(help="Run directory or run id.")],
    repo_id: Annotated[
        str,
        typer.Option("--repo-id", help="The model repository, e.g. org/name.", show_default=False),
    ],
    private: Annotated[bool, typer.Option("--private", help="Create it as private.")] = False,
    runs_dir: RunsDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Push a run (model, adapters, model card) to a hub repository.

    The token comes from HF_TOKEN or your saved login and is never written anywhere. Offline
    (HF_HUB_OFFLINE, or the hub unreachable) it fails at once, before any export work.
    """
    from vulntune.publish.hub import publish_run
    from vulntune.runs.manager import TrainingRunManager

    training_run = TrainingRunManager(runs_dir).get(run)
    result = publish_run(training_run, repo_id, private=private, say=say)
    out = Output(as_json)
    out.line(f"Published run {training_run.id} to {result.url}")
    out.result(
        {
            "run_id": training_run.id,
            "repo_id": result.repo_id,
            "url": result.url,
            "commit": result.commit,
            "files": list(result.files),
        }
    )
