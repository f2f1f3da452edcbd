"""Greedy generation from a trained model directory, prompted exactly as in training."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from vulntune.conversation import Message
from vulntune.models.loading import load_model_and_tokenizer
from vulntune.models.prompt_format import PromptFormatter


class Generator:
    """A loaded model that answers prompts the way it was trained to see them."""

    def __init__(self, model_dir: Path, prompt_format: str) -> None:
        loaded = load_model_and_tokenizer(model_dir)
        self.model, self.tokenizer = loaded.model, loaded.tokenizer
        self.model.eval()
        self.formatter = PromptFormatter(self.tokenizer, prompt_format)

    def complete(self, prompt: str, max_new_tokens: int = 200, system: str | None = None) -> str:
        """The model's answer to one user prompt (greedy, deterministic)."""
        messages: Sequence[Message] = [Message("user", prompt)]
        if system:
            messages = [Message("system", system), *messages]
        text = self.formatter.prompt_text(messages)
        enc = self.tokenizer(text, add_special_tokens=False, return_tensors="pt")
        with torch.no_grad():
            out = self.model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=self.tokenizer.eos_token_id,
            )
        new_tokens = out[0, enc["input_ids"].shape[1] :]
        return self.tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
