"""The enriched SARIF document `analyze` writes: the original runs, enriched, plus one run per
tool for findings read from native JSON.

For a SARIF input, the original JSON is read again and enriched in place rather than
regenerated from findings, so that everything a tool or viewer relies on (tool, rules,
``ruleId``, locations, fingerprints, suppressions, code flows, the tool's own fixes,
``properties``) is kept as the scanner wrote it. Results are mapped back to their findings by
their position in the file (``Finding.origin``); a finding merged from several results
enriches each of them. Findings of native JSON inputs that no SARIF input also reported become
one run per tool (:mod:`vulntune.inference.sarif_native`).

Every run then gets:

- its secrets redacted (:mod:`vulntune.inference.sarif_redact`);
- provenance in ``run.properties`` (``ai.`` keys: vulntune's version, the model and its content
  hash, the run id, the prompt format, the time, and how many results were analysed);
- its own ``automationDetails.id``: the original's category (the id up to its last ``/``)
  followed by ``/vulntune/``; a run without one gets ``<tool>/<report file>/vulntune/``.
  Code scanning rejects an upload with two runs of one tool and category, and a category
  equal to the raw scan's would replace its alerts, so categories are unique within the
  document and never the raw scan's.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from vulntune import __version__
from vulntune.datasets.render import PROMPT_FORMAT_VERSION
from vulntune.errors import VulntuneError
from vulntune.findings.reader import detect_encoding
from vulntune.findings.tools import canonical_tool
from vulntune.inference.analyze import AnalyzedFinding, AnalyzeResult
from vulntune.inference.analyze_inputs import AnalyzeInputs, FindingKey
from vulntune.inference.analyze_model import AnalysisModel
from vulntune.inference.sarif_native import native_run
from vulntune.inference.sarif_redact import redact_result, redact_run
from vulntune.inference.sarif_result import enrich_result

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
CATEGORY_SUFFIX = "vulntune"
# The automationDetails entries that identify the original run; an enriched run is another run.
_RUN_IDENTITY = ("id", "guid", "correlationGuid")


class SarifOutputError(VulntuneError):
    """An original SARIF report cannot be read again."""


def build_sarif(
    inputs: AnalyzeInputs, result: AnalyzeResult, model: AnalysisModel, analysed_at: datetime
) -> dict[str, Any]:
    """The enriched SARIF 2.1.0 document (see the module docstring)."""
    items = {_key(item): item for item in result.items}
    runs: list[tuple[dict[str, Any], str]] = []  # (run, category base)
    covered: set[FindingKey] = set()
    for file in inputs.sarif_files():
        origins = inputs.origins_of_file(file)
        covered.update(origins.values())
        doc = load_sarif(inputs.path_of(file), file)
        position = 0
        doc_runs = [run for run in doc["runs"] if isinstance(run, dict)]
        for run_index, run in enumerate(doc_runs):
            counts: Counter[str] = Counter()
            for raw in _results(run):
                key = origins.get(position)
                position += 1
                item = items.get(key) if key is not None else None
                if not isinstance(raw, dict):
                    continue
                own = inputs.own_secrets.get(key) if key is not None else None
                redact_result(raw, own, item.finding.rule_id if item is not None else None)
                counts[_enrich(raw, item, model)] += 1
            redact_run(run, inputs.secrets)
            _add_provenance(run, model, analysed_at, counts)
            runs.append((run, _category_base(run, file, run_index, len(doc_runs))))
    by_tool: dict[str, list[AnalyzedFinding]] = {}
    for item in result.items:
        if _key(item) not in covered:
            by_tool.setdefault(item.finding.tool, []).append(item)
    for tool, tool_items in by_tool.items():
        run = native_run(tool, [item.finding for item in tool_items])
        counts = Counter(
            _enrich(raw, item, model) for raw, item in zip(run["results"], tool_items, strict=True)
        )
        _add_provenance(run, model, analysed_at, counts)
        runs.append((run, _slug(tool)))
    _assign_categories(runs)
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [r for r, _ in runs]}


def load_sarif(path: Path, name: str) -> dict[str, Any]:
    """An original SARIF report, decoded as ingest decodes it (BOM, UTF-16/32)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SarifOutputError(f"{name}: cannot read it again: {exc.strerror or exc}") from None
    codec, bom = detect_encoding(data[:4])
    try:
        doc = json.loads(data[bom:].decode(codec))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SarifOutputError(f"{name}: changed since it was read: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
        raise SarifOutputError(f"{name}: changed since it was read: no 'runs' array")
    return doc


def _key(item: AnalyzedFinding) -> FindingKey:
    return (item.finding.id, item.finding.origin.revision)


def _results(run: dict[str, Any]) -> list[Any]:
    """A run's results, counted as the parser counts them: an array, or a lone result object
    written as ``results`` (made an array, as SARIF requires); nothing for null."""
    results = run.get("results")
    if isinstance(results, list):
        return results
    if isinstance(results, dict) and ("message" in results or "ruleId" in results):
        run["results"] = [results]
        return run["results"]
    return []


def _enrich(raw: dict[str, Any], item: AnalyzedFinding | None, model: AnalysisModel) -> str:
    if item is None or item.status != "analysed":
        return "passedThrough"
    enrich_result(raw, item, model)
    return "analysed"


def _add_provenance(
    run: dict[str, Any], model: AnalysisModel, analysed_at: datetime, counts: Counter[str]
) -> None:
    values = {
        "ai.tool": "vulntune",
        "ai.toolVersion": __version__,
        "ai.model": model.spec,
        "ai.modelSource": model.source,
        "ai.modelHash": model.content_hash,
        "ai.runId": model.run_id,
        "ai.baseModel": model.base_model,
        "ai.promptFormat": PROMPT_FORMAT_VERSION,
        "ai.chatFormat": model.prompt_format,
        "ai.analyzedAt": analysed_at.isoformat(timespec="seconds"),
        "ai.results": {
            "analysed": counts.get("analysed", 0),
            "passedThrough": counts.get("passedThrough", 0),
        },
    }
    properties = run.get("properties")
    if not isinstance(properties, dict):
        properties = run["properties"] = {}
    properties.update({k: v for k, v in values.items() if v is not None})


def _category_base(run: dict[str, Any], file: str, run_index: int, run_count: int) -> str:
    """The original run's category, or ``<tool>/<report file>`` (``/run<i>`` when the file
    has several runs) for a run without one."""
    details = run.get("automationDetails")
    original = details.get("id") if isinstance(details, dict) else None
    if isinstance(original, str) and original.strip("/"):
        category = original.rsplit("/", 1)[0] if "/" in original else original
        if category.strip("/"):
            return category.strip("/")
    tool = run.get("tool")
    driver = tool.get("driver") if isinstance(tool, dict) else None
    name = driver.get("name") if isinstance(driver, dict) else None
    base = f"{_slug(canonical_tool(name))}/{_stem(file)}"
    return f"{base}/run{run_index}" if run_count > 1 else base


def _assign_categories(runs: list[tuple[dict[str, Any], str]]) -> None:
    """``automationDetails.id`` = ``<base>/vulntune/`` for each run, made unique."""
    seen: set[str] = set()
    for run, base in runs:
        category = f"{base}/{CATEGORY_SUFFIX}"
        number = 1
        while category.lower() in seen:
            number += 1
            category = f"{base}/{CATEGORY_SUFFIX}-{number}"
        seen.add(category.lower())
        details = run.get("automationDetails")
        kept = (
            {k: v for k, v in details.items() if k not in _RUN_IDENTITY}
            if isinstance(details, dict)
            else {}
        )
        run["automationDetails"] = {**kept, "id": f"{category}/"}


def _stem(file: str) -> str:
    name = Path(file).name
    for suffix in (".json", ".sarif"):
        name = name.removesuffix(suffix)
    return _slug(name)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "report"
