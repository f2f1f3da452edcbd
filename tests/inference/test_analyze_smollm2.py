"""`analyze` with the real small model (slow): SmolLM2-135M-Instruct, untrained, on the
CodeQL-style fixture: valid SARIF, every finding accounted for, nothing leaked."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from vulntune.inference.analyze_job import CompleterFactory, analyze_reports
from vulntune.inference.analyze_model import AnalysisModel, default_completer

from .scripted import CODEQL, GITLEAKS, PLANTED_SECRET, PROJECT

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"


def user_model_cache() -> Path:
    """The machine's model cache, so the ~700 MB SmolLM2 conversion happens once per machine."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "vulntune"


@pytest.mark.slow
def test_smollm2_analyses_the_fixture_into_valid_sarif():
    from vulntune.models.prompt_format import prompt_format_for
    from vulntune.models.resolve import resolve_model

    resolved = resolve_model("smollm2-135m", cache_dir=user_model_cache())
    model = AnalysisModel(
        source="model",
        spec="smollm2-135m",
        path=resolved.path,
        content_hash=resolved.content_hash,
        prompt_format=prompt_format_for(resolved.path),
    )
    outcome = analyze_reports(
        [CODEQL, GITLEAKS], model, CompleterFactory(default_completer), "sarif",
        source_root=PROJECT,
    )  # fmt: skip
    doc = json.loads(outcome.text)
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(doc)
    counts = outcome.result.counts()
    assert sum(counts.values()) == 4 and counts["no context"] == 1
    assert PLANTED_SECRET not in outcome.text
    assert doc["runs"][0]["properties"]["ai.model"] == "smollm2-135m"
