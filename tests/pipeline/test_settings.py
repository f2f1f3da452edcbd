"""The configuration of `vulntune run` and of the demo."""

from __future__ import annotations

import pytest

from vulntune.pipeline.demo import demo_config_mapping, demo_configuration
from vulntune.pipeline.settings import (
    PipelineSettings,
    load_run_configuration,
    merge_mappings,
)
from vulntune.runs.config import ConfigError, TrainingConfig


def test_without_a_file_everything_is_default():
    config = load_run_configuration(None)
    assert config.training == TrainingConfig() and config.pipeline == PipelineSettings()


def test_the_pipeline_table_is_split_from_the_training_configuration(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(
        "[stage1]\nepochs = 5\n[pipeline]\ncatalogue_max = 7\nmax_new_tokens = { codefix = 64 }\n"
        "similar_findings = 2\n"
    )
    config = load_run_configuration(path)
    assert config.training.stage1.epochs == 5
    assert config.pipeline == PipelineSettings(
        catalogue_max=7, max_new_tokens={"codefix": 64}, similar_findings=2
    )
    assert PipelineSettings().similar_findings == 0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[pipeline]\ncatalogue_max = -1\n", "pipeline.catalogue_max"),
        ("[pipeline]\nunknown = 1\n", "pipeline.unknown"),
        ("[pipeline]\nmax_new_tokens = { summary = 9 }\n", "pipeline.max_new_tokens.summary"),
        ("[pipeline]\nmax_new_tokens = { codefix = 0 }\n", "pipeline.max_new_tokens.codefix"),
        ("[pipeline]\nsimilar_findings = 6\n", "pipeline.similar_findings"),
        ("[pipeline]\nsimilar_findings = -1\n", "pipeline.similar_findings"),
        ("pipeline = 3\n", r"\[pipeline\] must be a table"),
        ("[stage1]\nepochs = 0\n", "stage1.epochs"),
        ("[stage1\n", "not valid toml"),
    ],
)
def test_bad_configurations_name_the_file_and_the_field(tmp_path, text, problem):
    path = tmp_path / "run.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=problem) as info:
        load_run_configuration(path)
    assert str(path) in str(info.value)


def test_merging_lays_tables_over_each_other_key_by_key():
    base = {"stage1": {"epochs": 3, "batch_size": 4}, "precision": "auto"}
    assert merge_mappings(base, {"stage1": {"epochs": 1}, "precision": "fp32"}) == {
        "stage1": {"epochs": 1, "batch_size": 4},
        "precision": "fp32",
    }


def test_the_demo_configuration_ships_for_smollm2_and_shrinks_for_tiny_random():
    smol, tiny = demo_configuration("smollm2-135m"), demo_configuration("tiny-random")
    assert "overrides" not in demo_config_mapping("smollm2-135m")
    assert tiny.training.precision == "fp32"
    assert tiny.pipeline.max_new_tokens["codefix"] < smol.pipeline.max_new_tokens["codefix"]
    assert tiny.training.stage1.batch_size == smol.training.stage1.batch_size  # not overridden
    assert smol.pipeline.catalogue_max is not None and smol.pipeline.evaluation_limit is not None
    # A model without overrides gets the demo's main configuration.
    assert demo_configuration("some/other-model") == smol
