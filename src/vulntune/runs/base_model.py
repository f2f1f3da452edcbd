"""A run's base model on this machine, checked against the content hash its manifest pinned."""

from __future__ import annotations

from pathlib import Path

from vulntune.errors import VulntuneError
from vulntune.models.cache import default_cache_dir, model_content_hash
from vulntune.models.resolve import resolve_model
from vulntune.runs.run import TrainingRun


class BaseModelChangedError(VulntuneError):
    """The base model found on this machine is not the one the run was created with."""


def base_model_dir(run: TrainingRun) -> Path:
    """The run's base model directory, verified against the manifest's content hash.

    The recorded path is used when it still holds a model (the machine that created the run);
    otherwise the recorded spec is resolved again (another machine, or a cleared cache).
    """
    record = run.manifest.base_model
    recorded = Path(record.path)
    if (recorded / "config.json").is_file():
        actual, path = model_content_hash(recorded, default_cache_dir()), recorded
    else:
        resolved = resolve_model(record.spec)
        actual, path = resolved.content_hash, resolved.path
    if actual != record.content_hash:
        raise BaseModelChangedError(
            f"run {run.id}: base model {record.spec!r} at {path} has content {actual}, but the "
            f"run was created with {record.content_hash}; the base model changed since, so the "
            "run cannot be reproduced -- create a new run"
        )
    return path
