"""Fixtures of the model tests: tiny-random in a private cache, and a tiny llama GGUF file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vulntune.models.resolve import ResolvedModel, resolve_model

# The chat template written into the tiny GGUF; a converted tokenizer must carry it.
GGUF_CHAT_TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> ResolvedModel:
    return resolve_model("tiny-random", cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def gguf_chat_template() -> str:
    return GGUF_CHAT_TEMPLATE


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
    writer.add_chat_template(GGUF_CHAT_TEMPLATE)

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


@pytest.fixture(scope="session")
def tiny_gguf(tiny: ResolvedModel, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("gguf") / "tiny-llama.Q8_0.gguf"
    expected = _write_tiny_llama_gguf(path, tiny.path)
    return path, expected
