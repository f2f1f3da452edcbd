"""Examples to token ids with an exact loss boundary: the prompt carries no loss.

Prompt and completion are rendered by the shared `PromptFormatter` (so the prompt tokens are the
ones inference feeds) and tokenized separately, so the boundary between them is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vulntune.conversation import Example
from vulntune.models.prompt_format import PromptFormatter

IGNORE_INDEX = -100  # label of tokens that carry no loss (prompt and padding)


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


def encode_examples(
    formatter: PromptFormatter, examples: Sequence[Example], max_seq_len: int
) -> list[EncodedExample | None]:
    """Token ids per example; ``None`` for an example whose prompt alone does not fit.

    A completion that runs past ``max_seq_len`` is cut at the end.
    """
    if not examples:
        return []  # tokenizers refuse an empty batch
    prompts = [formatter.prompt_text(e.prompt_messages) for e in examples]
    completions = [formatter.completion_text(e) for e in examples]
    tokenizer = formatter.tokenizer
    p_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    c_ids = tokenizer(completions, add_special_tokens=False)["input_ids"]
    encoded: list[EncodedExample | None] = []
    for example, p, c in zip(examples, p_ids, c_ids, strict=True):
        if len(p) >= max_seq_len:
            encoded.append(None)
            continue
        ids = (p + c)[:max_seq_len]
        encoded.append(EncodedExample(example.id, ids, len(p)))
    return encoded
