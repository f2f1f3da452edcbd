"""Examples to token ids with an exact loss boundary: the prompt carries no loss.

Prompt and completion are rendered by the shared `PromptFormatter` (so the prompt tokens are the
ones inference feeds) and tokenized separately, so the boundary between them is exact.

``max_seq_len`` is applied here, and what it did is counted (`EncodingReport`): an example whose
prompt alone fills the window is dropped; a longer completion is cut at the end. A cut completion
that loses its end-of-sequence token is counted apart, because training on it teaches the model
never to stop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from vulntune.conversation import Example
from vulntune.models.prompt_format import PromptFormatter

IGNORE_INDEX = -100  # label of tokens that carry no loss (prompt and padding)
_IDS_LISTED = 20  # ids of dropped or cut examples named in a report (the counts are complete)


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

    @property
    def n_scored(self) -> int:
        """Positions that carry loss: the completion, except position 0 (never predicted)."""
        return self.length - max(self.n_prompt, 1)


@dataclass(frozen=True)
class EncodingReport:
    """What ``max_seq_len`` did to one set of examples (JSON-ready with `to_dict`)."""

    max_seq_len: int
    examples: int  # given
    kept: int
    dropped_prompt_too_long: int  # the prompt alone fills the window: nothing left to learn
    truncated: int  # kept, but the completion was cut at the end
    truncated_lost_eos: int  # of those, completions that lost their end-of-sequence token
    longest: int  # tokens of the longest example before cutting (prompt + completion)
    dropped_ids: list[str] = field(default_factory=list)  # the first few
    truncated_ids: list[str] = field(default_factory=list)  # the first few

    def to_dict(self) -> dict[str, object]:
        return {
            "max_seq_len": self.max_seq_len,
            "examples": self.examples,
            "kept": self.kept,
            "dropped_prompt_too_long": self.dropped_prompt_too_long,
            "truncated": self.truncated,
            "truncated_lost_eos": self.truncated_lost_eos,
            "longest": self.longest,
            "dropped_ids": list(self.dropped_ids),
            "truncated_ids": list(self.truncated_ids),
        }

    def describe(self) -> str:
        """One clause for the console: what was dropped or cut, or that nothing was."""
        if not (self.dropped_prompt_too_long or self.truncated):
            return f"all {self.examples} fit max_seq_len={self.max_seq_len}"
        parts = []
        if self.dropped_prompt_too_long:
            parts.append(f"{self.dropped_prompt_too_long} dropped (prompt >= max_seq_len)")
        if self.truncated:
            eos = (
                f", {self.truncated_lost_eos} of them lost their end-of-sequence token"
                if self.truncated_lost_eos
                else ""
            )
            parts.append(f"{self.truncated} completions cut{eos}")
        return (
            f"{self.kept} of {self.examples} kept; "
            + "; ".join(parts)
            + f" (max_seq_len={self.max_seq_len}, longest example {self.longest} tokens)"
        )


@dataclass(frozen=True)
class EncodedSet:
    """The examples that fit, in input order, and the report of what ``max_seq_len`` did."""

    kept: list[EncodedExample]
    report: EncodingReport


def encode_examples(
    formatter: PromptFormatter, examples: Sequence[Example], max_seq_len: int
) -> list[EncodedExample | None]:
    """Token ids per example; ``None`` for an example whose prompt alone does not fit.

    A completion that runs past ``max_seq_len`` is cut at the end.
    """
    return [encoded for encoded, _, _ in _encode(formatter, examples, max_seq_len)]


def encode_set(
    formatter: PromptFormatter, examples: Sequence[Example], max_seq_len: int
) -> EncodedSet:
    """Encode ``examples`` and count what ``max_seq_len`` dropped and cut."""
    kept: list[EncodedExample] = []
    dropped: list[str] = []
    truncated: list[str] = []
    lost_eos = longest = 0
    for (encoded, full_length, eos_lost), example in zip(
        _encode(formatter, examples, max_seq_len), examples, strict=True
    ):
        longest = max(longest, full_length)
        if encoded is None:
            dropped.append(example.id)
            continue
        kept.append(encoded)
        if encoded.length < full_length:
            truncated.append(example.id)
            lost_eos += eos_lost
    report = EncodingReport(
        max_seq_len=max_seq_len,
        examples=len(examples),
        kept=len(kept),
        dropped_prompt_too_long=len(dropped),
        truncated=len(truncated),
        truncated_lost_eos=lost_eos,
        longest=longest,
        dropped_ids=dropped[:_IDS_LISTED],
        truncated_ids=truncated[:_IDS_LISTED],
    )
    return EncodedSet(kept, report)


def _encode(
    formatter: PromptFormatter, examples: Sequence[Example], max_seq_len: int
) -> list[tuple[EncodedExample | None, int, bool]]:
    """Per example: the encoding (None when dropped), its uncut length, and whether cutting
    removed the completion's end-of-sequence token."""
    if not examples:
        return []  # tokenizers refuse an empty batch
    prompts = [formatter.prompt_text(e.prompt_messages) for e in examples]
    completions = [formatter.completion_text(e) for e in examples]
    tokenizer = formatter.tokenizer
    eos = tokenizer.eos_token_id
    p_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    c_ids = tokenizer(completions, add_special_tokens=False)["input_ids"]
    out: list[tuple[EncodedExample | None, int, bool]] = []
    for example, p, c in zip(examples, p_ids, c_ids, strict=True):
        full = len(p) + len(c)
        if len(p) >= max_seq_len:
            out.append((None, full, False))
            continue
        kept_c = c[: max_seq_len - len(p)]
        eos_lost = len(kept_c) < len(c) and eos in c and eos not in kept_c
        out.append((EncodedExample(example.id, p + kept_c, len(p)), full, eos_lost))
    return out
