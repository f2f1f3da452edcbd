"""GGUF conversion: a GGUF file becomes a plain float32 Hugging Face model directory.

The directory holds safetensors weights, the config and the tokenizer, and lives in the model
cache (`models/cache.py`) under a key made of `GGUF_CONVERSION_RECIPE` and the file's sha256.

transformers reads GGUF files directly, but a model loaded that way carries a GGUF quantization
config: it cannot be trained with LoRA, saved, or reloaded without the GGUF file. So the weights are
dequantized once and handed to a freshly built model of the same architecture, which is saved as
an ordinary model directory. float32 keeps the dequantized values exact (bf16 would round them
again).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from vulntune.models.errors import ModelResolutionError
from vulntune.models.output import quiet_library_output, report_progress

# Part of the cache key of converted models: change it whenever the conversion output changes.
GGUF_CONVERSION_RECIPE = "gguf-v1"
# transformers' marker for "no limit known"; a real context length is more useful to callers.
_UNLIMITED_MODEL_MAX_LENGTH = 10**29


def convert_gguf(gguf_path: Path, out_dir: Path) -> None:
    """Dequantize `gguf_path` and save it as a float32 safetensors model into `out_dir`."""
    started = time.monotonic()
    report_progress(f"converting {gguf_path.name} to a float32 model (one time)...")
    with tempfile.TemporaryDirectory(prefix="vulntune-gguf-") as staging:
        # A directory holding only the GGUF: transformers would otherwise prefer a tokenizer.json
        # or config.json that happens to sit next to the file over the GGUF's own metadata.
        staged = Path(staging) / gguf_path.name
        _link_or_copy(gguf_path, staged)
        tokenizer, loaded = _load_gguf(staged, gguf_path)
        # Still inside the staging scope: some tensors may be views of the memory-mapped file.
        model = _plain_copy(loaded, gguf_path)
        del loaded
    max_positions = getattr(model.config, "max_position_embeddings", None)
    if tokenizer.model_max_length >= _UNLIMITED_MODEL_MAX_LENGTH and isinstance(max_positions, int):
        tokenizer.model_max_length = max_positions
    report_progress(f"saving the converted model to {out_dir.parent}...")
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    report_progress(f"converted {gguf_path.name} in {time.monotonic() - started:.0f} s")


def _load_gguf(staged: Path, original: Path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_library_output()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(staged.parent), gguf_file=staged.name)
        loaded = AutoModelForCausalLM.from_pretrained(
            str(staged.parent),
            gguf_file=staged.name,
            dtype=torch.float32,
            **_dequantize_kwargs(),
        )
    except (ValueError, KeyError, OSError, NotImplementedError) as err:
        reason = str(err).rstrip(".")
        raise ModelResolutionError(
            f"cannot read GGUF file {str(original)!r} as a causal language model: {reason}. "
            "vulntune converts GGUF files whose architecture transformers supports "
            "(llama, mistral, qwen2, gemma, ...); otherwise pass a Hugging Face model "
            "directory with safetensors weights."
        ) from err
    return tokenizer, loaded


def _plain_copy(loaded, gguf_path: Path):
    """The same architecture and weights, built from a config without the GGUF quantization."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config_dict = loaded.config.to_dict()
    # Provenance of the load, not properties of the model: a plain model must not carry them.
    for key in (
        "quantization_config",
        "_name_or_path",
        "_model_name_or_path",  # the GGUF's general.name
        "transformers_version",
        "dtype",
    ):
        config_dict.pop(key, None)
    config = AutoConfig.for_model(**config_dict)
    config.dtype = torch.float32
    with torch.random.fork_rng(devices=[]):  # the init is overwritten; keep the caller's RNG intact
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(_dense_state_dict(loaded, gguf_path), strict=True)
    model.tie_weights()
    model.generation_config = loaded.generation_config
    return model


def _dequantize_kwargs() -> dict[str, object]:
    """Ask for a fully dequantized model explicitly where transformers lets us.

    Newer transformers can keep GGUF blocks packed when a matmul kernel is installed; the weights
    would then not be plain tensors. Releases without `GgufConfig` always dequantize.
    """
    import transformers

    gguf_config = getattr(transformers, "GgufConfig", None)
    return {} if gguf_config is None else {"quantization_config": gguf_config(dequantize=True)}


def _dense_state_dict(model, gguf_path: Path) -> dict:
    import torch

    state = model.state_dict()
    # GGUF blocks that stayed packed show up as raw byte tensors.
    packed = [name for name, tensor in state.items() if tensor.dtype in (torch.uint8, torch.int8)]
    if packed:
        raise ModelResolutionError(
            f"GGUF file {str(gguf_path)!r}: transformers kept {len(packed)} tensors quantized "
            f"(e.g. {packed[0]!r}) instead of dequantizing them; cannot build a float model."
        )
    return state


def _link_or_copy(source: Path, destination: Path) -> None:
    try:
        os.symlink(source.resolve(), destination)
    except OSError:  # no symlink permission (e.g. Windows without developer mode): copy instead
        shutil.copyfile(source, destination)
