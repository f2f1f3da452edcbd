"""GGUF conversion: lossless dequantization into a float32 model directory, cached by content."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from vulntune.models import cache as cache_module
from vulntune.models import gguf_conversion
from vulntune.models.errors import ModelResolutionError
from vulntune.models.resolve import resolve_model

SAMPLE = 'Finding: CWE-89 in app/db.py:42 → cursor.execute("SELECT 1")\n\tfix — 日本語 ✓'


def test_gguf_conversion_is_lossless(tiny, tiny_gguf, gguf_chat_template, tmp_path: Path):
    gguf_path, expected = tiny_gguf
    # A tokenizer.json next to the GGUF must not leak into the conversion.
    (gguf_path.parent / "tokenizer.json").write_text("{}")
    resolved = resolve_model(str(gguf_path), cache_dir=tmp_path / "cache")
    assert resolved.kind == "gguf"
    sha = resolved.revision.removeprefix("sha256:")
    assert len(sha) == 64 and resolved.source == f"{gguf_path} sha256:{sha}"
    assert resolved.path.parent == (tmp_path / "cache" / "models").resolve()

    config = json.loads((resolved.path / "config.json").read_text())
    assert "quantization_config" not in config and "_model_name_or_path" not in config
    assert config["model_type"] == "llama" and config["dtype"] == "float32"
    model = AutoModelForCausalLM.from_pretrained(resolved.path)
    state = model.state_dict()
    assert set(state) == set(expected)
    for name, values in expected.items():
        assert state[name].dtype == torch.float32, name
        assert torch.equal(state[name], torch.from_numpy(values)), name

    tokenizer = AutoTokenizer.from_pretrained(resolved.path)
    reference = AutoTokenizer.from_pretrained(tiny.path)
    assert tokenizer(SAMPLE)["input_ids"] == reference(SAMPLE)["input_ids"]
    assert tokenizer.decode(tokenizer(SAMPLE)["input_ids"]) == SAMPLE
    assert tokenizer.chat_template == gguf_chat_template
    assert tokenizer.eos_token == "<|endoftext|>" and tokenizer.pad_token == "<|pad|>"
    assert tokenizer.model_max_length == 256  # the GGUF's context length, not "unlimited"
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False)
    assert prompt == "<|user|>hi"


def _refuse(*_args: object) -> None:
    raise AssertionError("a cached resolution must not convert or hash anything again")


def test_gguf_conversion_is_cached_and_deterministic(
    tiny_gguf, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    gguf_path, _ = tiny_gguf
    first = resolve_model(str(gguf_path), cache_dir=tmp_path / "a")
    with monkeypatch.context() as patched:
        for module, name in (
            (gguf_conversion, "convert_gguf"),
            (cache_module, "_hash_named_files"),
            (cache_module, "_sha256_of"),
        ):
            patched.setattr(module, name, _refuse)
        assert resolve_model(str(gguf_path), cache_dir=tmp_path / "a") == first
    second = resolve_model(str(gguf_path), cache_dir=tmp_path / "b")
    assert second.content_hash == first.content_hash
    assert not list((tmp_path / "a" / "models").glob(".*.tmp-*"))


def test_unsupported_gguf_is_a_clear_error(tmp_path: Path):
    import gguf

    path = tmp_path / "odd.gguf"
    writer = gguf.GGUFWriter(str(path), "no-such-arch")
    writer.add_tensor("x.weight", np.zeros((4, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ModelResolutionError, match=r"cannot read GGUF file .*odd\.gguf"):
        resolve_model(str(path), cache_dir=tmp_path / "cache")
    assert [p for p in (tmp_path / "cache" / "models").iterdir() if p.is_dir()] == []
