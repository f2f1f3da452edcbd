"""A tiny random Llama-architecture model with a SentencePiece tokenizer, built offline.

The GGUF round trip needs a model that llama.cpp's converter and transformers' GGUF loader
both support. The built-in ``tiny-random`` is an OLMo-2 with a byte-level BPE tokenizer
trained by vulntune: the converter recognises BPE tokenizers only by the hash of how they
split a fixed text, and refuses unknown ones. A Llama with a SentencePiece model
(``tokenizer.model``) is read by the converter without that check, and transformers loads
such GGUF files back, so the round trip is tested on this model instead (SmolLM2, the real
model, is a Llama with a known BPE tokenizer).
"""

from __future__ import annotations

from pathlib import Path

LICENSE = "mit"  # declared in its card, so the model card test can read it back


def build_tiny_llama(out_dir: Path, seed: int = 0) -> Path:
    """Save the model, its tokenizer and a README declaring its licence to ``out_dir``."""
    import io

    import sentencepiece as spm
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, LlamaTokenizer

    from vulntune.models.tiny_random import tiny_corpus

    out_dir.mkdir(parents=True, exist_ok=True)
    model_proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(tiny_corpus().splitlines()),
        model_writer=model_proto,
        vocab_size=512,
        model_type="bpe",
        byte_fallback=True,
        character_coverage=1.0,
        bos_id=1,
        eos_id=2,
        unk_id=0,
        pad_id=-1,
        minloglevel=2,
    )
    (out_dir / "tokenizer.model").write_bytes(model_proto.getvalue())
    # Read from a directory holding the SentencePiece model alone (transformers converts it).
    tokenizer = LlamaTokenizer.from_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=512,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=1,
        eos_token_id=2,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():  # larger weights than the default init: logits that differ visibly
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.2)
    model.save_pretrained(out_dir, safe_serialization=True)
    (out_dir / "README.md").write_text(
        f"---\nlicense: {LICENSE}\n---\n\nA tiny random Llama for tests.\n", encoding="utf-8"
    )
    return out_dir
