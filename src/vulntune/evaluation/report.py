"""``report.html``: one self-contained page about a run (no network, no script; inline SVG).

It shows the lineage (base model and hash -> Stage 1 -> Stage 2 -> final), both stages'
training and validation loss curves (from their ``metrics.jsonl``), the metrics of base,
Stage 1 and final (with and without structured decoding) beside the baselines, retention,
the dataset statistics when the run's data has a ``stats.json``, and three predictions beside
their references. Every text from the run is HTML-escaped: predictions are untrusted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from vulntune.io.atomic import atomic_write_text
from vulntune.runs.run import TrainingRun

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")
_ROWS: tuple[tuple[str, str, str], ...] = (
    ("analysis", "parse_rate", "analysis: parses into five fields"),
    ("analysis", "cwe_accuracy", "analysis: CWE exact"),
    ("analysis", "cwe_related_accuracy", "analysis: CWE related"),
    ("analysis", "severity_accuracy", "analysis: severity"),
    ("analysis", "category_accuracy", "analysis: category"),
    ("analysis", "root_cause_chrf", "analysis: root cause chrF"),
    ("analysis", "impact_chrf", "analysis: impact chrF"),
    ("analysis_unstructured", "parse_rate", "unstructured: parses"),
    ("analysis_unstructured", "cwe_accuracy", "unstructured: CWE exact"),
    ("analysis_unstructured", "severity_accuracy", "unstructured: severity"),
    ("analysis_unstructured", "category_accuracy", "unstructured: category"),
    ("codefix", "diff_parse_rate", "fix: diff parses"),
    ("codefix", "applies_rate", "fix: applies (git apply --check)"),
    ("codefix", "applies_rate_recount", "fix: applies (--recount)"),
    ("codefix", "exact_match", "fix: exact match (normalised)"),
    ("codefix", "dependency_fix_rate", "fix: writes a fixed version"),
    ("codefix", "patched_parse_rate", "fix: patched files still parse"),
    ("codefix_unstructured", "diff_parse_rate", "unstructured: diff parses"),
    ("codefix_unstructured", "applies_rate", "unstructured: diff applies"),
    ("codefix_unstructured", "exact_match", "unstructured: diff exact match"),
)
_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
pre{background:#f7f7f7;padding:8px;white-space:pre-wrap;word-break:break-word;font-size:12px}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:12px}.lineage{font-size:15px}
svg{background:#fff;border:1px solid #ddd;margin-right:12px}
"""


def write_report(run: TrainingRun, results: Mapping[str, Any]) -> Path:
    """Render the report for ``run`` and publish it at the manifest's report path."""
    path = run.evaluation.report
    atomic_write_text(path, render_report(run, results))
    return path


def render_report(run: TrainingRun, results: Mapping[str, Any]) -> str:
    """The report page as one HTML string."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>vulntune run {escape(run.id)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>vulntune run {escape(run.id)}</h1>",
        _lineage(run),
        "<h2>Loss curves</h2>",
        _loss_charts(run),
        "<h2>Metrics</h2>",
        _split_line(results),
        _metrics_table(results),
        _retention(results),
        "<h2>Dataset</h2>",
        _dataset(run),
        "<h2>Example predictions (final model)</h2>",
        _examples(run),
        "</body></html>",
    ]
    return "\n".join(parts)


def _lineage(run: TrainingRun) -> str:
    base = run.manifest.base_model
    sem = run.manifest.semantics
    steps = [
        f"base model <b>{escape(base.spec)}</b> ({escape(base.content_hash)})",
        f"Stage 1 (analysis): {escape(run.manifest.stages.stage1.merged_model)}",
        f"Stage 2 (code fix, mode {escape(sem.stage2_mode)}, replay {sem.replay_ratio:g}): "
        f"{escape(run.manifest.stages.stage2.adapter)}",
        f"final model: {escape(run.manifest.inference.model)}",
    ]
    return "<p class='lineage'>" + " &rarr; ".join(steps) + "</p>"


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line of a live file; the chart shows what is readable
        if isinstance(record, dict):
            records.append(record)
    return records


def _loss_charts(run: TrainingRun) -> str:
    charts = []
    for title, path in (("Stage 1", run.stage1.metrics), ("Stage 2", run.stage2.metrics)):
        series: dict[str, list[tuple[float, float]]] = {}
        for r in _read_jsonl(path):
            if not isinstance(r.get("step"), int | float) or not isinstance(
                r.get("loss"), float | int
            ):
                continue
            name = "training" if r.get("type") == "train" else f"validation: {r.get('set', '?')}"
            series.setdefault(name, []).append((float(r["step"]), float(r["loss"])))
        charts.append(line_chart(f"{title} loss", series))
    return "<div>" + "".join(charts) + "</div>"


def line_chart(title: str, series: Mapping[str, Sequence[tuple[float, float]]]) -> str:
    """An inline SVG chart of ``series`` (name -> (x, y) points), with axes and a legend."""
    width, height, pad = 480, 260, 44
    points = [p for values in series.values() for p in values if p[1] == p[1]]  # drop NaN
    head = f"<svg width='{width}' height='{height}' role='img' aria-label='{escape(title)}'>"
    head += f"<text x='{pad}' y='18' font-size='14'>{escape(title)}</text>"
    if not points:
        return head + f"<text x='{pad}' y='{height // 2}'>no records</text></svg>"
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)

    def sx(x: float) -> float:
        return pad + (x - x0) / (x1 - x0) * (width - 2 * pad)

    def sy(y: float) -> float:
        return height - pad - (y - y0) / (y1 - y0) * (height - 2 * pad)

    bottom, right = height - pad, width - pad
    body = [
        f"<line x1='{pad}' y1='{bottom}' x2='{right}' y2='{bottom}' stroke='#888'/>",
        f"<line x1='{pad}' y1='{pad}' x2='{pad}' y2='{height - pad}' stroke='#888'/>",
        f"<text x='{pad}' y='{height - pad + 16}' font-size='11'>step {x0:g}</text>",
        f"<text x='{width - pad - 50}' y='{height - pad + 16}' font-size='11'>step {x1:g}</text>",
        f"<text x='2' y='{pad + 4}' font-size='11'>{y1:.2f}</text>",
        f"<text x='2' y='{height - pad}' font-size='11'>{y0:.2f}</text>",
    ]
    for i, (name, values) in enumerate(series.items()):
        colour = _COLOURS[i % len(_COLOURS)]
        kept = [(x, y) for x, y in values if y == y]
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in kept)
        body.append(f"<polyline fill='none' stroke='{colour}' stroke-width='2' points='{coords}'/>")
        body += [
            f"<circle cx='{sx(x):.1f}' cy='{sy(y):.1f}' r='2.5' fill='{colour}'/>" for x, y in kept
        ]
        body.append(
            f"<text x='{width - pad - 150}' y='{pad + 14 * i}' font-size='11' fill='{colour}'>"
            f"{escape(name)}</text>"
        )
    return head + "".join(body) + "</svg>"


def _split_line(results: Mapping[str, Any]) -> str:
    split, counts = results.get("split", {}), results.get("counts", {})
    return (
        f"<p>{counts.get('analysis', 0)} analysis examples ({escape(str(split.get('analysis')))} "
        f"split), {counts.get('codefix', 0)} code-fix examples "
        f"({escape(str(split.get('codefix')))} split). Analysis rows are decoded with the "
        "structured constraint unless marked unstructured.</p>"
    )


def _metrics_table(results: Mapping[str, Any]) -> str:
    columns = [(name, entry) for name, entry in results.get("models", {}).items()]
    columns += [(f"{name} baseline", e) for name, e in results.get("baselines", {}).items()]
    out = ["<table><tr><th>metric</th>"]
    out += [f"<th>{escape(name)}</th>" for name, _ in columns]
    out.append("</tr>")
    for group, metric, label in _ROWS:
        out.append(f"<tr><td>{escape(label)}</td>")
        for _, entry in columns:
            value = entry.get(group, {}).get(metric)
            out.append(f"<td class='n'>{'&ndash;' if value is None else f'{value:.2f}'}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _retention(results: Mapping[str, Any]) -> str:
    structured = results.get("retention", {})
    unstructured = results.get("retention_unstructured", {})
    out = ["<h3>Retention (final / Stage 1)</h3><table>"]
    out.append("<tr><th>Stage-1 metric</th><th>structured</th><th>unstructured</th></tr>")
    for metric in structured:
        cells = "".join(
            f"<td class='n'>{'&ndash;' if v is None else f'{v:.2f}'}</td>"
            for v in (structured.get(metric), unstructured.get(metric))
        )
        out.append(f"<tr><td>{escape(metric)}</td>{cells}</tr>")
    out.append("</table>")
    return "".join(out)


def _dataset(run: TrainingRun) -> str:
    if not run.data_stats.is_file():
        return "<p>The run's data has no stats.json (it was not built by vulntune datasets).</p>"
    try:
        stats = json.loads(run.data_stats.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return f"<p>{escape(str(run.data_stats))}: not readable JSON.</p>"
    return "<pre>" + escape(json.dumps(stats, indent=2, ensure_ascii=False)[:8000]) + "</pre>"


def _examples(run: TrainingRun) -> str:
    records = _read_jsonl(run.evaluation.predictions["final"])
    chosen = [r for r in records if r.get("task") == "analysis" and r.get("structured")][:2]
    chosen += [r for r in records if r.get("task") == "codefix"][:1]
    if not chosen:
        return "<p>No predictions of the final model.</p>"
    out = []
    for r in chosen:
        out.append(
            f"<h3>{escape(str(r.get('task')))}: {escape(str(r.get('id')))}</h3>"
            f"<details><summary>prompt</summary><pre>{escape(str(r.get('prompt')))}</pre></details>"
            "<div class='pair'><div><b>prediction</b>"
            f"<pre>{escape(str(r.get('prediction')))}</pre></div><div><b>reference</b>"
            f"<pre>{escape(str(r.get('reference')))}</pre></div></div>"
        )
    return "".join(out)
