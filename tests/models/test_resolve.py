"""Base model resolution: specs, local directories, cached builds, hub ids, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from vulntune.errors import VulntuneError
from vulntune.models import cache as cache_module
from vulntune.models import tiny_random
from vulntune.models.cache import default_cache_dir
from vulntune.models.errors import ModelResolutionError
from vulntune.models.resolve import BUILTIN_MODELS, ResolvedModel, resolve_model


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("a cached resolution must not build or hash anything again")


def test_cached_resolution_builds_and_hashes_nothing_again(
    tiny: ResolvedModel, monkeypatch: pytest.MonkeyPatch
):
    cache = tiny.path.parent.parent
    monkeypatch.setattr(tiny_random, "build_tiny_random", _refuse)
    monkeypatch.setattr(cache_module, "_hash_named_files", _refuse)
    assert resolve_model("tiny-random", cache_dir=cache) == tiny


def test_cache_dir_from_environment(tiny: ResolvedModel, monkeypatch: pytest.MonkeyPatch):
    cache = tiny.path.parent.parent
    monkeypatch.setenv("VULNTUNE_CACHE", str(cache))
    assert default_cache_dir() == cache
    assert resolve_model("tiny-random") == tiny


# --- local directories -------------------------------------------------------------------------


def _copy_model(tiny: ResolvedModel, destination: Path) -> Path:
    shutil.copytree(tiny.path, destination)
    return destination


def test_local_dir_is_used_in_place(tiny: ResolvedModel, tmp_path: Path):
    local = _copy_model(tiny, tmp_path / "my-model")
    (local / "README.md").write_text("not part of the hash")
    resolved = resolve_model(str(local), cache_dir=tmp_path / "cache")
    assert resolved.kind == "local"
    assert resolved.path == local.resolve()
    assert resolved.revision is None
    # Same file names and bytes as the built-in model, so the same hash.
    assert resolved.content_hash == tiny.content_hash


def test_local_dir_hash_follows_changes(tiny: ResolvedModel, tmp_path: Path):
    local = _copy_model(tiny, tmp_path / "my-model")
    cache = tmp_path / "cache"
    before = resolve_model(str(local), cache_dir=cache).content_hash
    config = json.loads((local / "config.json").read_text())
    config["rms_norm_eps"] = 1e-6
    (local / "config.json").write_text(json.dumps(config))
    after = resolve_model(str(local), cache_dir=cache).content_hash
    assert after != before


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "config.json").unlink(), "no config.json"),
        (lambda d: (d / "config.json").write_text("{not json"), "not a valid JSON config"),
        (lambda d: (d / "model.safetensors").unlink(), "no model weights"),
        (lambda d: (d / "tokenizer.json").unlink(), "no tokenizer files"),
        (
            lambda d: (d / "model.safetensors").write_bytes(b"\xff" * 64),
            "not a readable safetensors",
        ),
        (
            lambda d: (d / "model.safetensors").rename(d / "pytorch_model.bin"),
            "only has pickle-based PyTorch weights",
        ),
        (
            lambda d: (d / "model.safetensors.index.json").write_text(
                json.dumps({"weight_map": {"a": "model-00001-of-00002.safetensors"}})
            ),
            "'model-00001-of-00002.safetensors' listed in",
        ),
    ],
)
def test_bad_local_dir_errors(tiny: ResolvedModel, tmp_path: Path, damage, message: str):
    local = _copy_model(tiny, tmp_path / "broken")
    damage(local)
    with pytest.raises(ModelResolutionError, match=message) as caught:
        resolve_model(str(local), cache_dir=tmp_path / "cache")
    assert str(local) in str(caught.value)
    assert isinstance(caught.value, VulntuneError)


def test_damaged_cache_entry_says_how_to_recover(tiny: ResolvedModel, tmp_path: Path):
    cache = tmp_path / "cache"
    resolved = resolve_model("tiny-random", cache_dir=cache)
    (resolved.path / "tokenizer.json").unlink()
    with pytest.raises(ModelResolutionError, match="delete that directory and retry"):
        resolve_model("tiny-random", cache_dir=cache)


# --- specs that resolve to nothing -------------------------------------------------------------


def test_missing_path_error(tmp_path: Path):
    with pytest.raises(ModelResolutionError) as caught:
        resolve_model("./nope", cache_dir=tmp_path)
    message = str(caught.value)
    assert "'./nope'" in message
    assert "no built-in model, file or directory" in message
    for name in BUILTIN_MODELS:
        assert name in message


def test_missing_gguf_file_error(tmp_path: Path):
    with pytest.raises(ModelResolutionError, match=r"GGUF file .*missing\.gguf' not found"):
        resolve_model(str(tmp_path / "missing.gguf"), cache_dir=tmp_path)


def test_plain_file_and_empty_spec_errors(tmp_path: Path):
    stray = tmp_path / "weights.txt"
    stray.write_text("x")
    with pytest.raises(ModelResolutionError, match=r"neither a \.gguf file nor a model directory"):
        resolve_model(str(stray), cache_dir=tmp_path)
    with pytest.raises(ModelResolutionError, match="spec is empty"):
        resolve_model("  ", cache_dir=tmp_path)


@pytest.mark.parametrize("spec", ["vulntune-test/does-not-exist", "vulntune-test/nope@v1.0"])
def test_hub_id_offline_error(spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelResolutionError) as caught:
        resolve_model(spec, cache_dir=tmp_path)
    message = str(caught.value)
    assert repr(spec) in message
    assert "hub could not be reached (HF_HUB_OFFLINE is set)" in message
    assert "local Hugging Face model directory" in message
    assert ".gguf file" in message
    assert "tiny-random" in message and "smollm2-135m" in message


def test_unusable_cache_dir_is_a_clear_error(tmp_path: Path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(ModelResolutionError, match="set VULNTUNE_CACHE to use another one"):
        resolve_model("tiny-random", cache_dir=blocker / "cache")
