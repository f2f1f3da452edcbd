"""`vulntune analyze` as a user runs it, with the offline tiny-random model."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

DATA = Path(__file__).resolve().parents[1] / "inference" / "data"
SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"


@pytest.mark.parametrize("suffix", [".sarif", ".jsonl", ".md"])
def test_analyze_with_a_base_model_writes_the_format_its_name_says(cli, tmp_path, suffix):
    out = tmp_path / f"analysis{suffix}"
    done = cli.ok(
        "analyze", DATA / "codeql-flows.sarif", "--model", "tiny-random",
        "--source-root", DATA / "project", "-o", out, "--no-progress", "--json",
        timeout=300,
    )  # fmt: skip
    summary = cli.json(done)
    assert summary["findings"] == 3 and summary["format"] == suffix[1:]
    # tiny-random writes noise: whatever it wrote, each finding is counted somewhere.
    assert sum(summary["by_status"].values()) == 3
    assert summary["by_status"]["no context"] == 1
    text = out.read_text(encoding="utf-8")
    if suffix == ".sarif":
        doc = json.loads(text)
        schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
        jsonschema.Draft7Validator(schema).validate(doc)
        assert doc["runs"][0]["properties"]["ai.model"] == "tiny-random"
    elif suffix == ".jsonl":
        assert len(text.splitlines()) == 3


def test_analyze_to_stdout(cli):
    done = cli.ok(
        "analyze", DATA / "gitleaks-token.sarif", "--model", "tiny-random", "--format", "md",
        "--min-severity", "critical", "--no-progress",
    )  # fmt: skip
    assert done.stdout.startswith("## vulntune: 1 finding(s), 0 analysed")
    assert "ghp_" not in done.stdout + done.stderr


def test_exactly_one_model_must_be_named(cli):
    assert "exactly one of --run and --model" in cli.usage_error("analyze", DATA)
    assert "exactly one of --run and --model" in cli.usage_error(
        "analyze", DATA, "--run", "x", "--model", "tiny-random"
    )


def test_json_needs_an_output_file(cli):
    assert "--json needs -o" in cli.usage_error("analyze", DATA, "--model", "m", "--json")


def test_an_unknown_run_is_one_error_line(cli, tmp_path):
    stderr = cli.error("analyze", DATA, "--run", "nope", "--runs-dir", tmp_path)
    assert "no run 'nope'" in stderr


def test_a_run_without_a_trained_model_says_what_to_do(cli, tmp_path):
    cli.ok("runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path)
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    stderr = cli.error("analyze", DATA, "--run", run_dir)
    assert "does not exist yet" in stderr and "vulntune train" in stderr


def test_no_readable_report_is_an_error_before_the_model_is_loaded(cli, tmp_path):
    bad = tmp_path / "bad.sarif"
    bad.write_text("{not json", encoding="utf-8")
    stderr = cli.error("analyze", bad, "--model", "tiny-random")
    assert "no scanner report could be read" in stderr
    assert "Loading" not in stderr
