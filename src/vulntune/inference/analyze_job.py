"""`vulntune analyze` as one importable function: reports in, the annotated output file out.

The CLI and the throughput benchmark both call :func:`analyze_reports`; the model is asked
through the :data:`~vulntune.inference.analyze_model.Completer` they pass, so the benchmark can
put the one-by-one and the batched generator side by side on the same input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vulntune.datasets.similar import SimilarFindings
from vulntune.errors import VulntuneError
from vulntune.findings.record import Severity
from vulntune.inference.analyze import AnalyzeResult, ProgressFn, analyze_findings
from vulntune.inference.analyze_inputs import AnalyzeInputs, read_inputs
from vulntune.inference.analyze_model import AnalysisModel, Completer
from vulntune.inference.analyze_output import OutputFormat, render_output, write_output


@dataclass(frozen=True)
class CompleterFactory:
    """Makes the completer for a model (loads it) when the inputs turned out readable."""

    make: Callable[[AnalysisModel], Completer]


class NoInputError(VulntuneError):
    """None of the inputs could be read as a scanner report."""


@dataclass(frozen=True)
class AnalyzeOutcome:
    """What one `analyze` call read, did and wrote (``output`` is None when not written)."""

    inputs: AnalyzeInputs
    result: AnalyzeResult
    text: str
    output: Path | None


def analyze_reports(
    paths: Sequence[Path],
    model: AnalysisModel,
    completer: Completer | CompleterFactory,
    output_format: OutputFormat,
    *,
    output: Path | None = None,
    source_root: Path | None = None,
    min_severity: Severity | None = None,
    progress: ProgressFn | None = None,
    now: datetime | None = None,
) -> AnalyzeOutcome:
    """Ingest ``paths``, ask ``completer`` about every finding, render ``output_format`` and
    write it to ``output`` (atomically) when given. ``completer`` may be a
    :data:`CompleterFactory`, called only once the inputs were read, so that unreadable
    input fails before a model is loaded. Unreadable inputs are reported in
    ``inputs.report.errors``; none readable at all is an error."""
    inputs = read_inputs(paths, source_root, exclude=[output] if output is not None else [])
    if not inputs.report.files:
        problems = "; ".join(f"{e.file}: {e.problem}" for e in inputs.report.errors[:3])
        raise NoInputError(
            "no scanner report could be read" + (f" ({problems})" if problems else "")
        )
    similar = None
    if model.similar and model.similar_from is not None:
        similar = SimilarFindings.from_jsonl(model.similar_from, model.similar)
    if isinstance(completer, CompleterFactory):
        completer = completer.make(model)
    result = analyze_findings(
        inputs.report.findings,
        completer,
        min_severity=min_severity,
        secrets=inputs.secrets,
        progress=progress,
        similar=similar,
    )
    text = render_output(output_format, inputs, result, model, now or datetime.now(UTC))
    if output is not None:
        write_output(text, output)
    return AnalyzeOutcome(inputs, result, text, output)
