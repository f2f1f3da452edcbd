"""`analyze`'s three output formats, chosen by flag or by the output file's name, and written
atomically."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args

from vulntune.errors import VulntuneError
from vulntune.inference.analyze import AnalyzeResult
from vulntune.inference.analyze_inputs import AnalyzeInputs
from vulntune.inference.analyze_model import AnalysisModel
from vulntune.inference.analyze_report import jsonl_text, markdown_report
from vulntune.inference.sarif_output import build_sarif
from vulntune.io.atomic import atomic_open_text

OutputFormat = Literal["sarif", "jsonl", "md"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = get_args(OutputFormat)
DEFAULT_FORMAT: OutputFormat = "sarif"
# What an output file's name says about its format (longest suffix first).
_SUFFIXES: tuple[tuple[str, OutputFormat], ...] = (
    (".sarif.json", "sarif"),
    (".sarif", "sarif"),
    (".jsonl", "jsonl"),
    (".markdown", "md"),
    (".md", "md"),
)


class AnalyzeOutputError(VulntuneError):
    """The analysis cannot be written."""


def format_for_path(path: Path) -> OutputFormat | None:
    """The format an output file name implies (``.sarif``, ``.jsonl``, ``.md``), or None."""
    name = path.name.lower()
    return next((fmt for suffix, fmt in _SUFFIXES if name.endswith(suffix)), None)


def render_output(
    output_format: OutputFormat,
    inputs: AnalyzeInputs,
    result: AnalyzeResult,
    model: AnalysisModel,
    analysed_at: datetime,
) -> str:
    """The whole output file's text in ``output_format``."""
    if output_format == "sarif":
        doc = build_sarif(inputs, result, model, analysed_at)
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if output_format == "jsonl":
        return jsonl_text(result)
    return markdown_report(result, model)


def write_output(text: str, path: Path) -> None:
    """Write ``text`` to ``path`` atomically: a crash leaves the old file or the new one."""
    try:
        # backslashreplace: a lone surrogate from a JSON escape becomes the same JSON escape.
        with atomic_open_text(path, errors="backslashreplace") as handle:
            handle.write(text)
    except OSError as exc:
        problem = exc.strerror or exc
        raise AnalyzeOutputError(f"{path}: cannot write the analysis: {problem}") from None
