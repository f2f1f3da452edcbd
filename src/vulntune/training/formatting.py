"""Prompt formatting shared by training and inference.

A conversation is rendered with the tokenizer's chat template when it has one, otherwise with
vulntune's documented fallback template (``fallback-v1``). Training and inference call the
same functions, so the model is always asked in the form it was trained on.

``fallback-v1`` renders, for each turn: system text followed by a blank line; user turns as
``### Instruction:\\n<text>\\n\\n``; assistant turns as ``### Response:\\n<text><eos>\\n\\n``.
The generation prompt is ``### Response:\\n``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vulntune.datasets.examples import Example, Message
from vulntune.errors import VulntuneError

CHAT_TEMPLATE = "chat_template"
FALLBACK_V1 = "fallback-v1"
IGNORE_INDEX = -100  # label of tokens that carry no loss (prompt and padding)


class FormattingError(VulntuneError):
    """The tokenizer cannot format conversations the way the run requires."""


def prompt_format_for(model_dir: Path) -> str:
    """Which prompt format a checkpoint's tokenizer implies, read from its files."""
    if (model_dir / "chat_template.jinja").is_file() or (
        model_dir / "chat_template.json"
    ).is_file():
        return CHAT_TEMPLATE
    config = model_dir / "tokenizer_config.json"
    if config.is_file():
        try:
            if json.loads(config.read_text(encoding="utf-8")).get("chat_template"):
                return CHAT_TEMPLATE
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            raise FormattingError(f"{config}: unreadable tokenizer configuration") from None
    return FALLBACK_V1


@dataclass(frozen=True, slots=True)
class EncodedExample:
    """Token ids of one example; the first ``n_prompt`` tokens carry no loss."""

    id: str
    input_ids: list[int]
    n_prompt: int

    @property
    def length(self) -> int:
        return len(self.input_ids)

    @property
    def n_completion(self) -> int:
        return len(self.input_ids) - self.n_prompt


class PromptFormatter:
    """Renders conversations to text and token ids for one tokenizer and prompt format."""

    def __init__(self, tokenizer: Any, prompt_format: str) -> None:
        if prompt_format == CHAT_TEMPLATE and not getattr(tokenizer, "chat_template", None):
            raise FormattingError(
                "the run was created for a tokenizer with a chat template, "
                "but the loaded tokenizer has none"
            )
        if prompt_format not in (CHAT_TEMPLATE, FALLBACK_V1):
            raise FormattingError(f"unknown prompt format {prompt_format!r}")
        if tokenizer.eos_token is None:
            raise FormattingError("the tokenizer has no end-of-sequence token")
        self.tokenizer = tokenizer
        self.prompt_format = prompt_format

    def _fallback(self, messages: Sequence[Message], generation_prompt: bool) -> str:
        eos = self.tokenizer.eos_token
        parts = []
        for m in messages:
            if m.role == "system":
                parts.append(f"{m.content}\n\n")
            elif m.role == "user":
                parts.append(f"### Instruction:\n{m.content}\n\n")
            else:
                parts.append(f"### Response:\n{m.content}{eos}\n\n")
        if generation_prompt:
            parts.append("### Response:\n")
        return "".join(parts)

    def prompt_text(self, messages: Sequence[Message]) -> str:
        """The text a model is given to write the next assistant turn."""
        if self.prompt_format == FALLBACK_V1:
            return self._fallback(messages, generation_prompt=True)
        return self.tokenizer.apply_chat_template(
            [{"role": m.role, "content": m.content} for m in messages],
            tokenize=False,
            add_generation_prompt=True,
        )

    def completion_text(self, example: Example) -> str:
        """The text the model learns to produce: the final assistant turn, end marker included."""
        if self.prompt_format == FALLBACK_V1:
            return f"{example.completion}{self.tokenizer.eos_token}"
        prompt = self.prompt_text(example.prompt_messages)
        full = self.tokenizer.apply_chat_template(
            [{"role": m.role, "content": m.content} for m in example.messages], tokenize=False
        )
        if not full.startswith(prompt):
            raise FormattingError(
                f"example {example.id!r}: the chat template renders the conversation with a "
                "different prefix than the generation prompt, so prompt and completion cannot "
                "be separated; use a model whose template is prefix-consistent"
            )
        return full[len(prompt) :]

    def encode(self, examples: Sequence[Example], max_seq_len: int) -> list[EncodedExample | None]:
        """Token ids per example; ``None`` for an example whose prompt alone does not fit.

        Prompt and completion are tokenized separately so the loss boundary is exact and the
        prompt tokens are the same ones inference will feed. A completion that runs past
        ``max_seq_len`` is cut at the end.
        """
        if not examples:
            return []  # tokenizers refuse an empty batch
        prompts = [self.prompt_text(e.prompt_messages) for e in examples]
        completions = [self.completion_text(e) for e in examples]
        tok = self.tokenizer
        p_ids = tok(prompts, add_special_tokens=False)["input_ids"]
        c_ids = tok(completions, add_special_tokens=False)["input_ids"]
        encoded: list[EncodedExample | None] = []
        for example, p, c in zip(examples, p_ids, c_ids, strict=True):
            if len(p) >= max_seq_len:
                encoded.append(None)
                continue
            ids = (p + c)[:max_seq_len]
            encoded.append(EncodedExample(example.id, ids, len(p)))
        return encoded
