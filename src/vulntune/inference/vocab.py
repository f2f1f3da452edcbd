"""A tokenizer's vocabulary as text: what each token id writes, searchable by prefix.

Structured decoding asks "which tokens keep the text a prefix of an allowed answer?". It
answers that from the tokens' decoded strings, not from the tokenizer's internal token names,
so that tokenizers that merge digits or spaces differently (byte-level BPE, SentencePiece with
its ``▁`` marker) are all handled by one rule: a token is allowed when the text it adds is.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

# A character greater than any a token string holds: ``prefix + _MAX_CHAR`` bounds the block
# of sorted strings that start with ``prefix``.
_MAX_CHAR = chr(0x10FFFF)
_PROBE_TEXT = " alpha beta\n gamma"


@dataclass(frozen=True)
class PrefixBlock:
    """The tokens whose text starts with one prefix (indices into the sorted order)."""

    start: int
    stop: int

    def __bool__(self) -> bool:
        return self.start < self.stop


class TokenVocab:
    """Every token id's decoded text, with prefix lookups over the sorted texts.

    Special tokens (end of sequence, chat markers, padding) have no text here (``None``):
    they never stand for part of an answer. Tokens that decode to nothing are left out too,
    because a token that adds no text would let constrained decoding loop forever.
    """

    def __init__(self, pieces: Sequence[str | None], eos_ids: Iterable[int]) -> None:
        self.pieces: tuple[str | None, ...] = tuple(pieces)
        self.eos_ids: frozenset[int] = frozenset(eos_ids)
        usable = sorted((p, i) for i, p in enumerate(self.pieces) if p)
        self.sorted_pieces: list[str] = [p for p, _ in usable]
        self.sorted_ids = np.array([i for _, i in usable], dtype=np.int64)
        # The last newline in each sorted piece (-1: none), to filter free text in bulk.
        self.sorted_last_newline = np.array([p.rfind("\n") for p in self.sorted_pieces])
        self.by_text: dict[str, list[int]] = {}
        for piece, token in usable:
            self.by_text.setdefault(piece, []).append(token)
        self.newline_id = min(self.by_text.get("\n", [-1]))

    def __len__(self) -> int:
        return len(self.pieces)

    @classmethod
    def from_tokenizer(
        cls, tokenizer: PreTrainedTokenizerBase, extra_eos_ids: Iterable[int] = ()
    ) -> TokenVocab:
        """Decode every token of ``tokenizer`` once (about a second for a 50k vocabulary)."""
        special = set(tokenizer.all_special_ids)
        added = getattr(tokenizer, "added_tokens_decoder", {}) or {}
        special |= {i for i, tok in added.items() if getattr(tok, "special", False)}
        size = len(tokenizer)
        if _decodes_alone(tokenizer):
            batches = [[i] for i in range(size)]
            texts = tokenizer.batch_decode(batches, clean_up_tokenization_spaces=False)
        else:
            # SentencePiece-style tokenizers drop a token's leading space when it is decoded
            # alone; decoding it after an anchor token and cutting the anchor keeps the space.
            anchor = tokenizer.encode("a", add_special_tokens=False)[-1]
            anchor_text = tokenizer.decode([anchor], clean_up_tokenization_spaces=False)
            batches = [[anchor, i] for i in range(size)]
            decoded = tokenizer.batch_decode(batches, clean_up_tokenization_spaces=False)
            texts = [t[len(anchor_text) :] for t in decoded]
        pieces = [None if i in special else text for i, text in enumerate(texts)]
        eos = {tokenizer.eos_token_id, *extra_eos_ids} - {None}
        return cls(pieces, eos)

    def block(self, prefix: str) -> PrefixBlock:
        """The tokens whose text starts with ``prefix``."""
        start = bisect.bisect_left(self.sorted_pieces, prefix)
        stop = bisect.bisect_left(self.sorted_pieces, prefix + _MAX_CHAR, lo=start)
        return PrefixBlock(start, stop)

    def has_prefix(self, prefix: str) -> bool:
        """True when some token's text starts with ``prefix``."""
        start = bisect.bisect_left(self.sorted_pieces, prefix)
        return start < len(self.sorted_pieces) and self.sorted_pieces[start].startswith(prefix)

    def text_of(self, token: int) -> str | None:
        """The text a token writes, or None for a special or empty token."""
        return self.pieces[token] or None

    def longest_match(self, text: str) -> list[int] | None:
        """``text`` as tokens, taking the longest matching token at each position; None when
        some character has no token."""
        tokens: list[int] = []
        at = 0
        while at < len(text):
            for end in range(len(text), at, -1):
                ids = self.by_text.get(text[at:end])
                if ids:
                    tokens.append(min(ids))
                    at = end
                    break
            else:
                return None
        return tokens

    def same_as(self, other: TokenVocab) -> bool:
        """True when both vocabularies write the same text for every token id."""
        return self.pieces == other.pieces and self.eos_ids == other.eos_ids


def _decodes_alone(tokenizer: PreTrainedTokenizerBase) -> bool:
    """True when decoding tokens one by one and joining the texts gives the whole text back
    (byte-level BPE); False for tokenizers that drop leading spaces of lone tokens."""
    ids = tokenizer.encode(_PROBE_TEXT, add_special_tokens=False)
    alone = "".join(tokenizer.decode([i], clean_up_tokenization_spaces=False) for i in ids)
    return alone == tokenizer.decode(ids, clean_up_tokenization_spaces=False)
