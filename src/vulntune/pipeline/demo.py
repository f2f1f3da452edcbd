"""`vulntune demo`: the whole pipeline on the example project shipped with vulntune.

The demo builds the tinyparcel repository (:mod:`vulntune.demo`) in a temporary folder, gives
`vulntune run` its scanner reports of revisions r1..r6 with the repository as source root (so
fixes are mined from its history), and returns the run with base-vs-final numbers. Its
configuration ships in ``demo.toml`` next to this module: tuned so that SmolLM2-135M finishes in
under ten minutes on two CPU cores and beats the base model; ``[overrides.<model>]`` tables
replace parts of it for another base model (``tiny-random``: the half-minute smoke run).
"""

from __future__ import annotations

import tempfile
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from vulntune.pipeline import DEMO_BASE_MODEL
from vulntune.pipeline.inputs import parse_report_arguments
from vulntune.pipeline.run import PipelineResult, RunRequest, start_pipeline
from vulntune.pipeline.settings import (
    RunConfiguration,
    configuration_from_mapping,
    merge_mappings,
)

DEMO_CONFIG_NAME = "demo.toml"


def demo_config_mapping(base_model: str) -> dict[str, Any]:
    """The demo's configuration for ``base_model`` as a mapping (overrides applied)."""
    text = resources.files("vulntune.pipeline").joinpath(DEMO_CONFIG_NAME).read_text("utf-8")
    data = tomllib.loads(text)
    overrides = data.pop("overrides", {})
    return merge_mappings(data, overrides.get(base_model, {}))


def demo_configuration(base_model: str = DEMO_BASE_MODEL) -> RunConfiguration:
    """The demo's training and pipeline configuration for ``base_model``."""
    return configuration_from_mapping(demo_config_mapping(base_model), DEMO_CONFIG_NAME)


@dataclass(frozen=True)
class DemoResult:
    pipeline: PipelineResult
    revisions: tuple[str, ...]  # the demo repository's tags whose reports went in


def run_demo(
    base_model: str = DEMO_BASE_MODEL,
    runs_dir: Path | None = None,
    progress_enabled: bool = True,
) -> DemoResult:
    """Build the demo repository and run the whole pipeline on its reports."""
    from vulntune.demo import build_demo_repository
    from vulntune.demo.project import data_dir

    with tempfile.TemporaryDirectory(prefix="vulntune-demo-") as tmp:
        repo = build_demo_repository(Path(tmp) / "tinyparcel")
        # The reports folder holds one folder per revision (r1..r6): a folder of revisions.
        reports = parse_report_arguments([str(data_dir() / "reports")], repo.path)
        request = RunRequest(
            reports=reports,
            source_root=repo.path,
            base_model=base_model,
            configuration=demo_configuration(base_model),
            runs_dir=runs_dir,
        )
        result = start_pipeline(request, progress_enabled)
    return DemoResult(result, tuple(r.revision or "" for r in reports))
