"""Loading a causal language model and its tokenizer from a local model directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vulntune.models.errors import ModelLoadError
from vulntune.models.output import quiet_library_output

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


@dataclass(frozen=True)
class LoadedModel:
    """A float32 causal LM and the tokenizer saved next to it (with a pad token set)."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase


def load_model_and_tokenizer(model_dir: Path) -> LoadedModel:
    """Load a float32 causal LM and its tokenizer from a local model directory."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_library_output()
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{model_dir}: cannot load model: {exc}") from None
    if tokenizer.pad_token_id is None:
        # Padding positions are masked out of attention and loss, so any id will do.
        tokenizer.pad_token = tokenizer.eos_token
    return LoadedModel(model, tokenizer)
