"""The `tiny-random` built-in model: a ~1M-parameter random-init OLMo-2 for fast tests.

It learns mechanics, not the task. Everything about it is fixed by this module: the tokenizer is a
byte-level BPE trained on the packaged `tiny_corpus.txt`, the weights come from a fixed seed, and
the files are written without timestamps, so two builds give byte-identical model directories.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from vulntune.models.output import quiet_library_output

# Part of the cache key: change it whenever anything below changes what gets built.
TINY_RANDOM_RECIPE = "tiny-random-v1"

SEED = 0
VOCAB_SIZE = 1024  # the packaged corpus supports up to ~1500 BPE tokens
HIDDEN_SIZE = 128
INTERMEDIATE_SIZE = 768
NUM_LAYERS = 2
NUM_HEADS = 4
MAX_POSITIONS = 2048
EOS_TOKEN = "<|endoftext|>"
# A pad token distinct from EOS, so that masking padding can never mask a real end of sequence.
PAD_TOKEN = "<|pad|>"


def tiny_corpus() -> str:
    """The packaged text the tokenizer is trained on."""
    return resources.files("vulntune.models").joinpath("tiny_corpus.txt").read_text("utf-8")


def build_tiny_random(out_dir: Path) -> None:
    """Write the tiny-random model (config, safetensors weights, tokenizer) into `out_dir`."""
    import torch
    from transformers import Olmo2Config, Olmo2ForCausalLM, PreTrainedTokenizerFast

    backend = _train_tokenizer()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        model_max_length=MAX_POSITIONS,
    )
    config = Olmo2Config(
        vocab_size=backend.get_vocab_size(),
        hidden_size=HIDDEN_SIZE,
        intermediate_size=INTERMEDIATE_SIZE,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=NUM_HEADS,
        num_key_value_heads=NUM_HEADS,
        max_position_embeddings=MAX_POSITIONS,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=False,
    )
    # A private RNG scope: seeding must not disturb the caller's global torch RNG state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        model = Olmo2ForCausalLM(config)
    quiet_library_output()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def _train_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=1,
        special_tokens=[EOS_TOKEN, PAD_TOKEN],
        # Every byte gets a token, so any text (code, other scripts) encodes and round-trips.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(tiny_corpus().splitlines(keepends=True), trainer=trainer)
    return backend
