"""export --format hf: the layout, the adapters, the model card's fields."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
import yaml

from vulntune.publish.base_model_info import base_model_info, read_license
from vulntune.publish.errors import ExportError
from vulntune.publish.export_hf import export_hf
from vulntune.publish.model_card import model_card, read_card_inputs

from .tiny_llama import LICENSE


def front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n", 2)[1])


def test_the_export_loads_and_equals_the_final_model(trained_run, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = export_hf(trained_run, tmp_path / "export")
    assert {"README.md", "config.json", "generation_config.json", "model.safetensors"} <= set(
        out.files
    )
    assert "adapters/stage1/adapter_model.safetensors" in out.files
    assert "adapters/stage2/adapter_config.json" in out.files
    ids = torch.tensor([[1, 5, 17, 42, 99]])
    exported = AutoModelForCausalLM.from_pretrained(out.path, dtype=torch.float32).eval()
    final = AutoModelForCausalLM.from_pretrained(
        trained_run.stage2.final_model, dtype=torch.float32
    ).eval()
    with torch.no_grad():
        assert torch.equal(exported(input_ids=ids).logits, final(input_ids=ids).logits)
    assert AutoTokenizer.from_pretrained(out.path)("x").input_ids
    adapter = json.loads((out.path / "adapters/stage1/adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == trained_run.manifest.base_model.spec
    assert (
        str(trained_run.dir) not in (out.path / "adapters/stage2/adapter_config.json").read_text()
    )


def test_adapter_only_ships_the_adapters_and_the_card(trained_run, tmp_path):
    out = export_hf(trained_run, tmp_path / "adapters", adapter_only=True)
    assert not any(name.endswith("model.safetensors") and "/" not in name for name in out.files)
    meta = front_matter((out.path / "README.md").read_text(encoding="utf-8"))
    assert meta["library_name"] == "peft"


def test_the_card_of_a_local_base_model_carries_its_licence(trained_run):
    card = model_card(read_card_inputs(trained_run))
    meta = front_matter(card)
    assert meta["license"] == LICENSE
    assert meta["library_name"] == "transformers"
    assert meta["pipeline_tag"] == "text-generation"
    assert "vulntune" in meta["tags"] and "security" in meta["tags"]
    assert "base_model" not in meta  # a local directory is not a hub id
    assert "model-index" not in meta  # not evaluated yet
    for heading in (
        "## Intended use", "## Training data", "## Training configuration", "## Evaluation",
        "## Limitations",
    ):  # fmt: skip
        assert heading in card
    assert "| stage 1 train | 14 |" in card  # counts only, never the examples
    assert "finding 0" not in card
    assert "Not evaluated yet" in card
    assert "Similar finding" not in card


def test_the_card_says_when_prompts_carried_similar_findings(trained_run):
    inputs = replace(read_card_inputs(trained_run), similar=2)
    assert "up to 2 `Similar finding:` lines" in model_card(inputs)


def test_the_card_has_the_evaluation_table_and_model_index(trained_run, tmp_path):
    results = {
        "counts": {"analysis": 4, "codefix": 3},
        "models": {
            name: {
                "analysis": {"cwe_accuracy": value, "severity_accuracy": value / 2},
                "codefix": {"applies_rate": value / 4},
            }
            for name, value in (("base", 0.1), ("stage1", 0.6), ("final", 0.5))
        },
        "retention": {"cwe_accuracy": 0.8333},
    }
    path = trained_run.evaluation.results
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results), encoding="utf-8")
    try:
        card = model_card(read_card_inputs(trained_run))
    finally:
        path.unlink()
    meta = front_matter(card)
    (entry,) = meta["model-index"]
    by_task = {r["task"]["name"]: r for r in entry["results"]}
    assert by_task["analysis"]["metrics"][0] == {
        "type": "cwe_accuracy", "name": "cwe accuracy", "value": 0.5
    }  # fmt: skip
    assert by_task["codefix"]["metrics"][0]["value"] == 0.125
    assert "| metric | base model | Stage 1 | final (Stage 2) |" in card
    assert "| cwe accuracy | 0.100 | 0.600 | 0.500 |" in card
    assert "| cwe accuracy | 0.833 |" in card


def test_builtin_base_models_have_their_licence_and_lineage(trained_run):
    record = trained_run.manifest.base_model.model_copy(
        update={"spec": "smollm2-135m", "kind": "builtin"}
    )
    info = base_model_info(record)
    assert info.license == "apache-2.0"
    assert info.hub_chain[-1] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    tiny = base_model_info(record.model_copy(update={"spec": "tiny-random"}))
    assert tiny.license == "apache-2.0" and tiny.hub_chain == ()


def test_an_unknown_licence_is_other_with_a_note(trained_run, tmp_path):
    (tmp_path / "config.json").write_text("{}")
    assert read_license(tmp_path) is None
    record = trained_run.manifest.base_model.model_copy(
        update={"spec": "org/model@abc", "kind": "hub", "path": str(tmp_path)}
    )
    info = base_model_info(record)
    assert info.license == "other" and info.note and "org/model@abc" in info.note
    assert info.hub_chain == ("org/model",)


def test_an_existing_directory_is_never_overwritten(trained_run, tmp_path):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="already exists"):
        export_hf(trained_run, target)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["busy"]  # no staging left behind


def test_an_untrained_run_names_the_command(tmp_path, tiny_config, tiny_llama_dir):
    from vulntune.runs.manager import TrainingRunManager

    run = TrainingRunManager(tmp_path / "runs").create_run(str(tiny_llama_dir), tiny_config)
    with pytest.raises(ExportError, match=r"stage 1 is not complete.*vulntune train"):
        export_hf(run, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_export_command(trained_run, tmp_path):
    from typer.testing import CliRunner

    from vulntune.cli import app

    target = tmp_path / "cli-export"
    result = CliRunner().invoke(
        app, ["export", str(trained_run.dir), "--to", str(target), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["format"] == "hf" and "README.md" in summary["files"]
    assert (target / "model.safetensors").is_file()
