"""The tiny-random built-in model: deterministic, small, loadable, with a working tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from vulntune.models.resolve import ResolvedModel, resolve_model

SAMPLE = 'Finding: CWE-89 in app/db.py:42 → cursor.execute("SELECT 1")\n\tfix — 日本語 ✓'


def test_tiny_random_is_byte_identical_across_cache_dirs(tiny: ResolvedModel, tmp_path: Path):
    other = resolve_model("tiny-random", cache_dir=tmp_path / "other-cache")
    assert other.content_hash == tiny.content_hash
    assert other.path != tiny.path
    names = sorted(p.name for p in tiny.path.iterdir())
    assert names == [
        "config.json",
        "generation_config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    assert sorted(p.name for p in other.path.iterdir()) == names
    for name in names:
        assert (tiny.path / name).read_bytes() == (other.path / name).read_bytes(), name


def test_tiny_random_record(tiny: ResolvedModel):
    assert tiny.spec == "tiny-random"
    assert tiny.kind == "builtin"
    assert tiny.revision == "tiny-random-v1"
    assert tiny.content_hash.startswith("sha256:") and len(tiny.content_hash) == 7 + 64
    assert tiny.path.is_absolute()
    assert "seed 0" in (tiny.source or "")
    assert json.loads(json.dumps(tiny.to_dict()))["path"] == str(tiny.path)


def test_tiny_random_loads_and_runs(tiny: ResolvedModel):
    model = AutoModelForCausalLM.from_pretrained(tiny.path)
    assert type(model).__name__ == "Olmo2ForCausalLM"
    n_params = sum(p.numel() for p in model.parameters())
    assert 800_000 <= n_params <= 1_300_000
    assert n_params == 984_192
    assert model.config.num_hidden_layers == 2 and model.config.hidden_size == 128
    ids = torch.tensor([[5, 17, 300, 1000]])
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    assert logits.shape == (1, 4, 1024)
    assert torch.isfinite(logits).all()


def test_tiny_random_tokenizer(tiny: ResolvedModel):
    tokenizer = AutoTokenizer.from_pretrained(tiny.path)
    assert len(tokenizer) == 1024
    assert tokenizer.eos_token == "<|endoftext|>" and tokenizer.eos_token_id == 0
    assert tokenizer.pad_token == "<|pad|>" and tokenizer.pad_token_id == 1
    assert tokenizer.chat_template is None
    assert tokenizer.model_max_length == 2048
    ids = tokenizer(SAMPLE)["input_ids"]
    assert tokenizer.decode(ids) == SAMPLE
    # Trained on security text: common words are single tokens, not bytes.
    assert len(tokenizer("the injection")["input_ids"]) == 2
    config = json.loads((tiny.path / "config.json").read_text())
    assert config["eos_token_id"] == 0 and config["pad_token_id"] == 1


def test_resolution_leaves_the_global_torch_rng_alone(tmp_path: Path):
    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    resolve_model("tiny-random", cache_dir=tmp_path)
    assert torch.equal(torch.rand(3), expected)
