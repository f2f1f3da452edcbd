"""vulntune's built-in example datasets, hand-written and shipped inside the package.

They are the tests' hand-checked reference of the prompt and completion layouts, and data to
fine-tune on offline (``vulntune runs create --analysis-data ... --codefix-data ...``):

- ``analysis``: 48 Stage-1 examples (a rendered finding -> a five-line analysis),
- ``codefix``: 48 Stage-2 examples (a rendered finding with code -> a fix sentence and a
  unified diff),
- ``heldout``: 8 further findings in the analysis layout, never trained on, whose reference
  completions show what a trained model should write.

Each file is JSONL, one ``{"id", "prompt", "completion"}`` object per line. The layouts, the
category vocabulary and the severity conventions are described in ``builtin/README.md`` and
pinned by ``tests/datasets/test_builtin.py``.
"""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from vulntune.datasets.taxonomy import ANALYSIS_CATEGORIES, ANALYSIS_SEVERITIES
from vulntune.errors import VulntuneError

# The category and severity vocabularies live in taxonomy.py (next to the CWE -> category
# table); they are re-exported here because the built-in data is written in them.
__all__ = [
    "ANALYSIS_CATEGORIES",
    "ANALYSIS_SEVERITIES",
    "BUILTIN_DATASETS",
    "builtin_dataset_path",
    "load_builtin",
]

BUILTIN_DATASETS = ("analysis", "codefix", "heldout")

_PACKAGE = "vulntune.datasets"
_FOLDER = "builtin"
_REQUIRED_KEYS = ("id", "prompt", "completion")


def _resource(name: str) -> Traversable:
    if name not in BUILTIN_DATASETS:
        valid = ", ".join(BUILTIN_DATASETS)
        raise VulntuneError(f"unknown built-in dataset {name!r}; valid names are: {valid}")
    return resources.files(_PACKAGE).joinpath(_FOLDER, f"{name}.jsonl")


def builtin_dataset_path(name: str) -> Path:
    """The file of built-in dataset ``name`` (one of :data:`BUILTIN_DATASETS`).

    Raises VulntuneError for an unknown name, or when vulntune is installed in a form (such as
    a zip archive) where its data files are not plain files on disk.
    """
    resource = _resource(name)
    if not isinstance(resource, Path):
        raise VulntuneError(
            f"built-in dataset {name!r} is not a file on disk ({resource}); "
            "install vulntune as a regular package directory to use its data files by path"
        )
    if not resource.is_file():
        raise VulntuneError(
            f"built-in dataset {name!r} is missing from the installation: {resource}"
        )
    return resource


def load_builtin(name: str) -> list[dict[str, Any]]:
    """The examples of built-in dataset ``name`` as dicts with ``id``, ``prompt`` and
    ``completion`` strings, in file order."""
    resource = _resource(name)
    try:
        text = resource.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VulntuneError(f"cannot read built-in dataset {name!r} ({resource}): {exc}") from exc
    records: list[dict[str, Any]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        where = f"built-in dataset {name!r}, line {lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise VulntuneError(f"{where}: invalid JSON ({exc.msg})") from exc
        if not isinstance(record, dict) or not all(
            isinstance(record.get(key), str) and record[key] for key in _REQUIRED_KEYS
        ):
            raise VulntuneError(f"{where}: needs non-empty string fields {_REQUIRED_KEYS}")
        records.append(record)
    return records
