"""`analyze --format jsonl` and `--format md`: one record per finding, and a pull-request
comment.

JSONL: one object per finding, in input order: the finding record (as `vulntune ingest`
writes it) plus ``status`` (see :data:`~vulntune.inference.analyze.FindingStatus`),
``analysis`` {cwe (``CWE-<n>``), cwe_name, severity, category, root_cause, impact, text} and
``fix`` {sentence, diff, applies, problem}; each null when there is none.

Markdown: a summary line and table, then the analysed findings most severe first (the
model's severity, else the scanner's), each with its analysis and, when its diff applies, the
diff fenced. Everything the scanner or the model wrote is escaped
(:func:`~vulntune.inference.analyze_text.escape_markdown`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from vulntune.findings.record import Finding, Severity
from vulntune.inference.analyze import AnalyzedFinding, AnalyzeResult
from vulntune.inference.analyze_model import AnalysisModel
from vulntune.inference.analyze_text import (
    analysis_markdown,
    escape_markdown,
    first_sentence,
)


def jsonl_records(result: AnalyzeResult) -> Iterator[dict[str, Any]]:
    """The JSONL objects, one per finding, in input order."""
    for item in result.items:
        analysis = item.analysis
        fix = item.fix
        yield {
            **item.finding.to_dict(),
            "status": item.status,
            "analysis": None
            if analysis is None
            else {
                "cwe": analysis.cwe,
                "cwe_name": analysis.cwe_name,
                "severity": analysis.severity,
                "category": analysis.category,
                "root_cause": analysis.root_cause,
                "impact": analysis.impact,
                "text": analysis.text,
            },
            "fix": None
            if fix is None
            else {
                "sentence": fix.sentence,
                "diff": fix.diff,
                "applies": fix.applies,
                "problem": fix.problem,
            },
        }


def jsonl_text(result: AnalyzeResult) -> str:
    """The whole JSONL file."""
    return "".join(
        json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        for record in jsonl_records(result)
    )


def markdown_report(result: AnalyzeResult, model: AnalysisModel) -> str:
    """The pull-request comment (see the module docstring)."""
    counts = result.counts()
    analysed = sorted(
        (item for item in result.items if item.status == "analysed"),
        key=lambda item: item.severity_rank,
    )
    lines = [
        f"## vulntune: {len(result.items)} finding(s), {result.analysed} analysed",
        "",
        f"Model: {escape_markdown(model.label)} (`{model.content_hash[:19]}`). "
        f"{result.fixes_applying} suggested fix(es) apply to the scanned code.",
    ]
    passed = {status: n for status, n in counts.items() if status != "analysed"}
    if passed:
        listed = ", ".join(f"{n} {status}" for status, n in sorted(passed.items()))
        lines += ["", f"Passed through unchanged: {listed}."]
    if analysed:
        lines += ["", "| severity | finding | location | classification |", "|---|---|---|---|"]
        lines += [_table_row(number, item) for number, item in enumerate(analysed, start=1)]
    for number, item in enumerate(analysed, start=1):
        lines += ["", _section(number, item, model)]
    return "\n".join(lines) + "\n"


def _severity(item: AnalyzedFinding) -> Severity:
    judged = item.analysis.severity if item.analysis is not None else None
    return Severity(judged) if judged is not None else item.finding.severity


def _where(finding: Finding) -> str:
    loc = finding.location
    if loc is not None and loc.path:
        place = f"{loc.path}:{loc.start_line}" if loc.start_line else loc.path
        return escape_markdown(place)
    if finding.package is not None:
        return escape_markdown(f"{finding.package.name} {finding.package.installed_version or ''}")
    if finding.web is not None:
        return escape_markdown(finding.web.url)
    return ""


def _table_row(number: int, item: AnalyzedFinding) -> str:
    finding = item.finding
    cwe = item.analysis.cwe if item.analysis is not None else None
    title = escape_markdown(f"{finding.tool} {finding.rule_id}")
    return f"| {_severity(item)} | {number}. {title} | {_where(finding)} | {cwe or ''} |"


def _section(number: int, item: AnalyzedFinding, model: AnalysisModel) -> str:
    finding = item.finding
    heading = escape_markdown(f"{finding.tool}: {finding.rule_id}")
    where = _where(finding)
    first, _ = first_sentence(finding.message)
    parts = [
        f"### {number}. {_severity(item)} · {heading}" + (f" · {where}" if where else ""),
        f"> {escape_markdown(first)}",
        analysis_markdown(item.analysis, item.fix, model.label),
    ]
    return "\n\n".join(parts)
