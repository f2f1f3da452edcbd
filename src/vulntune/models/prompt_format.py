"""Prompt formatting shared by training and inference.

A conversation is rendered with the tokenizer's chat template when it has one, otherwise with
vulntune's documented fallback template (``fallback-v1``). Training and inference call the
same functions, so the model is always asked in the form it was trained on.

``fallback-v1`` renders, for each turn: system text followed by a blank line; user turns as
``### Instruction:\\n<text>\\n\\n``; assistant turns as ``### Response:\\n<text><eos>\\n\\n``.
The generation prompt is ``### Response:\\n``.

Turning the rendered text into token ids with a loss boundary is training's job
(``training/encoding.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from vulntune.conversation import Example, Message
from vulntune.errors import VulntuneError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

PromptFormat = Literal["chat_template", "fallback-v1"]
CHAT_TEMPLATE: PromptFormat = "chat_template"
FALLBACK_V1: PromptFormat = "fallback-v1"
PROMPT_FORMATS: tuple[PromptFormat, ...] = get_args(PromptFormat)


class FormattingError(VulntuneError):
    """The tokenizer cannot format conversations the way the run requires."""


def prompt_format_for(model_dir: Path) -> PromptFormat:
    """Which prompt format a model directory's tokenizer implies, read from its files."""
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


class PromptFormatter:
    """Renders conversations to text for one tokenizer and prompt format."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, prompt_format: str) -> None:
        if prompt_format == CHAT_TEMPLATE and not getattr(tokenizer, "chat_template", None):
            raise FormattingError(
                "the run was created for a tokenizer with a chat template, "
                "but the loaded tokenizer has none"
            )
        if prompt_format not in PROMPT_FORMATS:
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
