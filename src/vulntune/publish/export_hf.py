"""`vulntune export --format hf`: a trained run in Hugging Face layout, with its model card.

The export directory holds the final model as ``from_pretrained`` loads it (safetensors,
config, tokenizer, ``generation_config.json``), the Stage-1 and Stage-2 LoRA adapters under
``adapters/`` and the model card ``README.md``; with ``adapter_only`` only the adapters and
the card. It is built in a staging directory next to the target and renamed into place, so
an interrupted export leaves nothing half-written, and an existing non-empty directory is
never overwritten.

Adapters name their base model by the path it had on the training machine; the exported
copies name the run's base-model spec instead (Stage 2's base is the Stage-1 merged model,
which is Stage 1's adapter merged into that base).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vulntune.publish.errors import ExportError
from vulntune.publish.model_card import model_card, read_card_inputs
from vulntune.runs.run import TrainingRun

ADAPTERS_DIR = "adapters"
CARD_NAME = "README.md"
# Files of a PEFT adapter directory worth shipping (its auto-generated README is not).
_ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


@dataclass(frozen=True)
class ExportResult:
    """Where the export went and the files in it (relative, sorted)."""

    path: Path
    files: tuple[str, ...]


def check_exportable(run: TrainingRun) -> None:
    """Raise ExportError unless both stages of ``run`` are complete."""
    for stage in (1, 2):
        status = run.stage_status(stage)
        if not status.complete:
            problem = status.problems[0] if status.problems else "not trained"
            raise ExportError(
                f"run {run.id}: stage {stage} is not complete ({problem}); train it with "
                f"`vulntune train {run.dir}` before exporting"
            )


def export_hf(run: TrainingRun, to: Path, *, adapter_only: bool = False) -> ExportResult:
    """Export ``run`` to ``to`` in Hugging Face layout (see the module docstring)."""
    check_exportable(run)
    card = model_card(read_card_inputs(run, adapter_only))
    with staged_directory(to) as staging:
        if not adapter_only:
            _copy_model(run.stage2.final_model, staging)
        base_spec = run.manifest.base_model.spec
        _copy_adapter(run.stage1.adapter, staging / ADAPTERS_DIR / "stage1", base_spec)
        _copy_adapter(
            run.stage2.adapter, staging / ADAPTERS_DIR / "stage2", f"{base_spec} + stage1"
        )
        (staging / CARD_NAME).write_text(card, encoding="utf-8")
    return ExportResult(to, _listing(to))


@contextmanager
def staged_directory(target: Path) -> Iterator[Path]:
    """A staging directory next to ``target`` that becomes ``target`` when the block ends
    without an error, and is removed otherwise. ``target`` must not exist or be empty."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ExportError(
            f"{target}: already exists and is not an empty directory; choose another --to "
            "or remove it"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        )
    except OSError as exc:
        raise ExportError(f"{target}: cannot create it: {exc.strerror or exc}") from None
    try:
        yield staging
        if target.exists():
            target.rmdir()  # empty, checked on entry
        staging.rename(target)
    except OSError as exc:
        raise ExportError(f"{target}: cannot write it: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _copy_model(model_dir: Path, out: Path) -> None:
    names = sorted(p.name for p in model_dir.iterdir() if p.is_file())
    if not any(n.endswith(".safetensors") for n in names):
        raise ExportError(f"{model_dir}: the final model has no safetensors weights")
    for name in names:
        if name != CARD_NAME:
            shutil.copy2(model_dir / name, out / name)
    if "generation_config.json" not in names:
        from transformers import AutoConfig, GenerationConfig

        config = AutoConfig.from_pretrained(model_dir)
        GenerationConfig.from_model_config(config).save_pretrained(out)


def _copy_adapter(adapter_dir: Path, out: Path, base_name: str) -> None:
    out.mkdir(parents=True)
    for name in _ADAPTER_FILES:
        source = adapter_dir / name
        if not source.is_file():
            raise ExportError(f"{adapter_dir}: the adapter has no {name}")
        shutil.copy2(source, out / name)
    config_path = out / "adapter_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = base_name  # not the training machine's path
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _listing(root: Path) -> tuple[str, ...]:
    return tuple(sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()))
