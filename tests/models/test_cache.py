"""The model cache: where it lives, entries built once (also under concurrency), memoised hashes."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest

from vulntune.models import cache as cache_module
from vulntune.models.cache import build_once, default_cache_dir, file_sha256, model_content_hash


def test_default_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("VULNTUNE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "vulntune"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "vulntune"
    monkeypatch.setenv("VULNTUNE_CACHE", str(tmp_path / "explicit"))
    assert default_cache_dir() == tmp_path / "explicit"


def test_build_once_builds_once_under_concurrency(tmp_path: Path):
    calls: list[int] = []

    def build(out: Path) -> None:
        calls.append(1)
        time.sleep(0.2)
        (out / "done.txt").write_text("ok")

    target = tmp_path / "models" / "entry"
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(build_once(target, build)))]
    threads.append(threading.Thread(target=lambda: results.append(build_once(target, build))))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1]
    assert results == [target, target]
    assert (target / "done.txt").read_text() == "ok"


def test_build_once_leaves_nothing_behind_on_failure(tmp_path: Path):
    target = tmp_path / "models" / "entry"
    stale = tmp_path / "models" / ".entry.tmp-99999"
    stale.mkdir(parents=True)  # left by a crashed build

    def failing(out: Path) -> None:
        (out / "half.bin").write_bytes(b"x")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        build_once(target, failing)
    assert not target.exists()
    assert not list((tmp_path / "models").glob(".entry.tmp-*"))
    build_once(target, lambda out: (out / "done.txt").write_text("ok"))
    assert (target / "done.txt").read_text() == "ok"


def _model_dir(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "config.json").write_text('{"model_type": "llama"}')
    (root / "model.safetensors").write_bytes(b"weights")
    (root / "tokenizer.json").write_text("{}")
    (root / "README.md").write_text("not part of the model")
    return root


def _refuse(*_args: object) -> str:
    raise AssertionError("the memoised value must be used")


def test_model_content_hash_covers_the_model_files_only(tmp_path: Path):
    model = _model_dir(tmp_path / "model")
    names = [p.name for p in cache_module.model_files(model)]
    assert names == ["config.json", "model.safetensors", "tokenizer.json"]
    first = model_content_hash(model, tmp_path / "cache")
    assert first.startswith("sha256:") and len(first) == 7 + 64
    (model / "README.md").write_text("edited")
    assert model_content_hash(model, tmp_path / "other-cache") == first


def test_model_content_hash_is_memoised_until_a_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    model = _model_dir(tmp_path / "model")
    cache = tmp_path / "cache"
    first = model_content_hash(model, cache)
    assert len(list((cache / "hashes").glob("*.json"))) == 1
    with monkeypatch.context() as patched:
        patched.setattr(cache_module, "_hash_named_files", _refuse)
        assert model_content_hash(model, cache) == first
    (model / "model.safetensors").write_bytes(b"other weights")
    assert model_content_hash(model, cache) != first


def test_file_sha256_is_the_plain_digest_and_memoised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "weights.gguf"
    path.write_bytes(b"gguf bytes")
    cache = tmp_path / "cache"
    assert file_sha256(path, cache) == hashlib.sha256(b"gguf bytes").hexdigest()
    monkeypatch.setattr(cache_module, "_sha256_of", _refuse)
    assert file_sha256(path, cache) == hashlib.sha256(b"gguf bytes").hexdigest()


def test_an_unreadable_memo_is_recomputed(tmp_path: Path):
    model = _model_dir(tmp_path / "model")
    cache = tmp_path / "cache"
    first = model_content_hash(model, cache)
    (memo,) = (cache / "hashes").glob("*.json")
    memo.write_text("{truncated")
    assert model_content_hash(model, cache) == first
    assert '"sha256"' in memo.read_text()
