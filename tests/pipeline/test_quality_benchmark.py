"""benchmarks/quality.py: its arguments, its two configurations and the block it writes (the
benchmark itself is two full SmolLM2 runs: run by hand, results in benchmarks/RESULTS.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..benchmark_scripts import BENCHMARKS, load_script

SCRIPT = BENCHMARKS / "quality.py"


@pytest.fixture(scope="module")
def quality():
    return load_script("quality")


def test_the_dry_run_plans_replay_and_no_replay_on_the_same_configuration(quality, capsys):
    assert quality.main(["--base-model", "tiny-random", "--dry-run", "--max-steps", "2"]) == 0
    replay, no_replay = json.loads(capsys.readouterr().out)
    assert (replay["variant"], no_replay["variant"]) == ("replay", "no-replay")
    assert replay["training"]["stage2"]["replay_ratio"] == 0.25
    assert no_replay["training"]["stage2"]["replay_ratio"] == 0.0
    # Everything else is the same, and --max-steps reached both stages.
    replay["training"]["stage2"].pop("replay_ratio")
    no_replay["training"]["stage2"].pop("replay_ratio")
    assert replay["training"] == no_replay["training"]
    assert replay["training"]["stage1"]["max_steps"] == 2
    assert replay["pairs"].endswith("benchmarks/data/pairs.jsonl")


def test_the_evaluation_limit_reaches_both_configurations(quality, capsys):
    quality.main(["--base-model", "tiny-random", "--dry-run", "--evaluation-limit", "7"])
    plans = json.loads(capsys.readouterr().out)
    assert [p["pipeline"]["evaluation_limit"] for p in plans] == [7, 7]


def test_only_selects_a_variant(quality, capsys):
    quality.main(["--base-model", "tiny-random", "--dry-run", "--only", "no-replay"])
    assert [p["variant"] for p in json.loads(capsys.readouterr().out)] == ["no-replay"]


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--max-steps", "0"], "--max-steps must be at least 1"),
        (["--pairs", "/nonexistent/pairs.jsonl"], "is not a file"),
        (["--only", "sometimes"], "invalid choice"),
        (["--evaluation-limit", "0"], "--evaluation-limit must be at least 1"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(quality, capsys, argv, problem):
    with pytest.raises(SystemExit) as info:
        quality.parse_args(argv)
    assert info.value.code == 2
    assert problem in capsys.readouterr().err


def test_the_block_shows_each_model_baselines_and_retention_and_replaces_itself(quality, tmp_path):
    results = {
        "models": {
            "base": {"analysis": {"cwe_accuracy": 0.0}, "codefix": {"applies_rate": 0.1}},
            "stage1": {"analysis": {"cwe_accuracy": 0.6}},
            "final": {"analysis": {"cwe_accuracy": 0.58}, "codefix": {"applies_rate": 0.5}},
        },
        "baselines": {"keyword": {"analysis": {"cwe_accuracy": 0.4}}},
        "retention": {"cwe_accuracy": 0.9667},
    }
    outcome = {"variant": "replay", "replay_ratio": 0.25, "run_dir": "/r", "wall_s": 61.0,
               "results": results}  # fmt: skip
    block = quality.markdown([outcome], "python benchmarks/quality.py", "smollm2-135m")
    assert "| metric | base | stage1 | final | keyword |" in block
    assert "| analysis.cwe_accuracy | 0.000 | 0.600 | 0.580 | 0.400 |" in block
    assert "| codefix.applies_rate | 0.100 | - | 0.500 | - |" in block
    assert "Retention (final / Stage 1): cwe_accuracy 0.967" in block
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text("# Benchmark results\n\nother block\n")
    quality.write_block(results_md, block)
    quality.write_block(results_md, block.replace("0.580", "0.590"))
    text = results_md.read_text()
    assert text.count(quality.START) == 1 and "0.590" in text and "0.580" not in text
    assert text.startswith("# Benchmark results\n\nother block\n")


def test_a_config_file_is_laid_over_both_configurations(quality, capsys, tmp_path):
    overlay = tmp_path / "wide.toml"
    overlay.write_text("[lora]\nlast_layers = 30\n\n[stage1]\nepochs = 8\nlearning_rate = 3e-3\n")
    assert quality.main(["--dry-run", "--config", str(overlay)]) == 0
    plans = json.loads(capsys.readouterr().out)
    for plan in plans:
        training = plan["training"]
        assert training["lora"]["last_layers"] == 30
        assert (training["stage1"]["epochs"], training["stage1"]["learning_rate"]) == (8, 3e-3)
        # What the file does not name stays the demo's.
        assert (training["stage2"]["epochs"], training["stage2"]["learning_rate"]) == (3, 1e-3)
    assert [p["training"]["stage2"]["replay_ratio"] for p in plans] == [0.25, 0.0]


def test_the_shipped_cwe_overlay_is_a_valid_configuration(quality, capsys):
    overlay = SCRIPT.parent / "data" / "quality-cwe.toml"
    assert quality.main(["--dry-run", "--only", "replay", "--config", str(overlay)]) == 0
    (plan,) = json.loads(capsys.readouterr().out)
    assert plan["training"]["lora"]["last_layers"] == 30


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "cannot be read"),
        ("[stage1\n", "not a TOML file"),
        (b"\xff\xfe[stage1]", "not a TOML file"),
    ],
)
def test_an_unreadable_config_exits_2_naming_the_file(quality, capsys, tmp_path, text, problem):
    path = tmp_path / "overlay.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text)
    with pytest.raises(SystemExit) as info:
        quality.parse_args(["--config", str(path)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"--config: {path}: {problem}" in err


def test_a_config_with_a_bad_value_exits_2_naming_file_and_field(quality, capsys, tmp_path):
    path = tmp_path / "overlay.toml"
    path.write_text('[stage1]\nepochs = "many"\n')
    assert quality.main(["--dry-run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"--config {path}" in err and "stage1.epochs" in err


def test_an_overlay_block_has_its_own_markers_and_leaves_the_demo_block(quality, tmp_path):
    outcome = {"variant": "replay", "replay_ratio": 0.25, "run_dir": "/r", "wall_s": 1.0,
               "results": {"models": {}, "baselines": {}}}  # fmt: skip
    config = Path("benchmarks/data/quality-cwe.toml")
    demo = quality.markdown([outcome], "python benchmarks/quality.py", "smollm2-135m")
    wide = quality.markdown([outcome], "python benchmarks/quality.py", "smollm2-135m", config)
    assert wide.startswith("<!-- quality:quality-cwe:start -->")
    assert "with `benchmarks/data/quality-cwe.toml` laid over it" in wide
    assert "## Quality with `quality-cwe.toml` over the demo configuration" in wide
    assert "## Quality: base vs Stage 1 vs final, with and without replay" in demo
    results_md = tmp_path / "RESULTS.md"
    quality.write_block(results_md, demo)
    quality.write_block(results_md, wide, config)
    quality.write_block(results_md, wide.replace("1 s", "2 s"), config)
    text = results_md.read_text()
    assert text.count(quality.START) == 1
    assert text.count("<!-- quality:quality-cwe:start -->") == 1 and "2 s" in text
