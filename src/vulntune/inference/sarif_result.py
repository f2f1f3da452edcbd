"""One SARIF result enriched in place with what the model made of its finding.

Only three parts of a result change; everything else (``ruleId``, locations, fingerprints,
suppressions, code flows, the tool's own fixes, ...) stays exactly as it was:

- ``message.text``: the original first sentence stays first (GitHub code scanning shows only
  this text of a result), the analysis follows it, then the rest of the original text;
  ``message.markdown``: the original (as Markdown) and the analysis with the diff, fenced;
- ``properties``: the model's fields in the ``ai.`` namespace (:func:`ai_properties`);
- ``fixes``: the suggested fix is appended as ``artifactChanges``/``replacements`` (one
  replacement per hunk, regions against the unmodified file), only when its diff applies.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import quote

from vulntune.datasets.render import PROMPT_FORMAT_VERSION
from vulntune.inference.analyze import AnalyzedFinding
from vulntune.inference.analyze_fix import SuggestedFix
from vulntune.inference.analyze_model import AnalysisModel
from vulntune.inference.analyze_text import (
    analysis_markdown,
    analysis_text,
    escape_markdown,
    first_sentence,
)


def enrich_result(result: dict[str, Any], item: AnalyzedFinding, model: AnalysisModel) -> None:
    """Add ``item``'s analysis and fix to the SARIF ``result`` (see the module docstring)."""
    message = result.get("message")
    if not isinstance(message, dict):
        message = result["message"] = {}
    original = message.get("text")
    if not isinstance(original, str) or not original.strip():
        original = item.finding.message  # a message id resolved at ingest, or the rule's text
    first, rest = first_sentence(original)
    added_text = analysis_text(item.analysis, item.fix, model.label)
    message["text"] = "\n\n".join(part for part in (first, added_text, rest) if part)
    original_markdown = message.get("markdown")
    if isinstance(original_markdown, str) and original_markdown.strip():
        shown = original_markdown.rstrip()
    else:
        shown = "\n\n".join(escape_markdown(p) for p in original.split("\n\n") if p.strip())
    added_markdown = analysis_markdown(item.analysis, item.fix, model.label)
    message["markdown"] = f"{shown}\n\n{added_markdown}" if shown else added_markdown
    properties = result.get("properties")
    if properties is None:
        properties = result["properties"] = {}
    if isinstance(properties, dict):
        properties.update(ai_properties(item, model))
    if item.fix is not None and item.fix.applies:
        fixes = result.get("fixes")
        if not isinstance(fixes, list):
            fixes = result["fixes"] = []
        fixes.append(sarif_fix(item.fix, _artifact_location(result, item)))


def ai_properties(item: AnalyzedFinding, model: AnalysisModel) -> dict[str, Any]:
    """The model's fields under ``ai.`` names, leaving out the ones it did not give."""
    analysis, fix = item.analysis, item.fix
    values: dict[str, Any] = {
        "ai.model": model.spec,
        "ai.modelHash": model.content_hash,
        "ai.runId": model.run_id,
        "ai.promptFormat": PROMPT_FORMAT_VERSION,
    }
    if analysis is not None:
        values |= {
            "ai.cwe": analysis.cwe,
            "ai.cweName": analysis.cwe_name,
            "ai.severity": analysis.severity,
            "ai.category": analysis.category,
            "ai.rootCause": analysis.root_cause,
            "ai.impact": analysis.impact,
        }
    if fix is not None:
        values["ai.fixApplies"] = fix.applies
        values["ai.fixProblem"] = fix.problem
    return {key: value for key, value in values.items() if value is not None}


def sarif_fix(fix: SuggestedFix, artifact_location: dict[str, Any]) -> dict[str, Any]:
    """A SARIF ``fix``: the fix sentence and one replacement per hunk of the diff."""
    replacements = [
        {
            "deletedRegion": {
                "startLine": r.start_line,
                "startColumn": r.start_column,
                "endLine": r.end_line,
                "endColumn": r.end_column,
            },
            "insertedContent": {"text": r.inserted_text},
        }
        for r in fix.replacements
    ]
    return {
        "description": {"text": fix.sentence or "Suggested by vulntune"},
        "artifactChanges": [{"artifactLocation": artifact_location, "replacements": replacements}],
        "properties": {"ai.generated": True},
    }


def _artifact_location(result: dict[str, Any], item: AnalyzedFinding) -> dict[str, Any]:
    """Where the fix applies: the result's own file as the result names it (so a viewer
    resolves it the same way) when the fix patches that file, else the patched file's path
    relative to the source root (a dependency finding's manifest)."""
    assert item.fix is not None and item.fix.path is not None
    location = item.finding.location
    if location is not None and location.path == item.fix.path:
        locations = result.get("locations")
        if isinstance(locations, list) and locations and isinstance(locations[0], dict):
            physical = locations[0].get("physicalLocation")
            if isinstance(physical, dict) and isinstance(physical.get("artifactLocation"), dict):
                return copy.deepcopy(physical["artifactLocation"])
    return {"uri": quote(item.fix.path)}
