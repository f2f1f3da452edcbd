"""The numbers `vulntune run` and `vulntune demo` show at the end: base vs Stage 1 vs final.

Read from the evaluation results (``evaluation/results.json``, keys
``models.{base,stage1,final}.{analysis,codefix}.<metric>`` and ``retention``), never computed
here: the terminal shows exactly what the report and ``vulntune evaluate --json`` show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MODELS = ("base", "stage1", "final")
BASELINES = ("majority", "keyword")  # beside the models, so that a number means something
# Shown only where the results have it (runs whose prompts carry similar training findings).
OPTIONAL_BASELINES = ("similar",)

# (task, metric key, label): the rows of the comparison table, Stage-1 metrics first.
METRICS: tuple[tuple[str, str, str], ...] = (
    ("analysis", "parse_rate", "analysis parses (5 fields)"),
    ("analysis", "cwe_accuracy", "CWE accuracy"),
    ("analysis", "severity_accuracy", "severity accuracy"),
    ("analysis", "category_accuracy", "category accuracy"),
    ("analysis_unstructured", "cwe_accuracy", "CWE accuracy, free decoding"),
    ("codefix", "diff_parse_rate", "diff parses"),
    ("codefix", "applies_rate", "diff applies"),
    ("codefix", "exact_match", "diff exact match"),
    ("codefix_unstructured", "applies_rate", "diff applies, free decoding"),
)


@dataclass(frozen=True)
class MetricRow:
    """One metric for the three models (None where the results do not have it)."""

    task: str
    key: str
    label: str
    values: dict[str, float | None]  # model or baseline -> value, in the table's column order

    def improved(self) -> bool | None:
        """Whether the final model beats the base model (None when either is missing)."""
        base, final = self.values.get("base"), self.values.get("final")
        if base is None or final is None:
            return None
        return final > base


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def comparison(results: dict[str, Any] | None) -> list[MetricRow]:
    """The comparison rows found in ``results`` (empty without results)."""
    if not results:
        return []
    sources = {m: results.get("models", {}).get(m, {}) for m in MODELS}
    baselines = results.get("baselines", {})
    sources |= {b: baselines.get(b, {}) for b in BASELINES}
    sources |= {b: baselines[b] for b in OPTIONAL_BASELINES if b in baselines}
    rows = []
    for task, key, label in METRICS:
        values = {name: _number(src.get(task, {}).get(key)) for name, src in sources.items()}
        if any(values[m] is not None for m in MODELS):
            rows.append(MetricRow(task, key, label, values))
    return rows


def headline(results: dict[str, Any] | None) -> dict[str, MetricRow]:
    """The demo's two headline rows, CWE accuracy and applying diffs, by key."""
    wanted = {("analysis", "cwe_accuracy"), ("codefix", "applies_rate")}
    return {r.key: r for r in comparison(results) if (r.task, r.key) in wanted}


def retention(results: dict[str, Any] | None) -> dict[str, float]:
    """Final / Stage-1 per Stage-1 metric, as the results give it."""
    if not results:
        return {}
    raw = results.get("retention", {})
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in ((k, _number(v)) for k, v in raw.items()) if v is not None}
