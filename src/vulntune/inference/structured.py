"""Structured decoding of the analysis layout: a per-row state machine that masks logits.

The layout (``layout.py``) says, character by character, which texts can still become a
complete answer: ``Classification: CWE-`` then one catalogued weakness id, a space, its
official name and a newline; ``Severity:`` and ``Category:`` each followed by one allowed
value; ``Root cause:`` and ``Impact:`` free lines. This module lifts that to tokens:

- at each step a row may only pick tokens whose decoded text keeps the answer inside the
  layout (a token-level trie, found by walking the layout's character trie against the sorted
  decoded token strings, so tokenizers that merge digits, spaces or a CWE id with the space
  after it are handled alike); the end of sequence only where the answer may end;
- where the layout leaves exactly one way on (literal keys, the rest of a CWE name once its
  id is chosen), the text is forced: written as tokens without asking the model, so names
  come from the catalogue, never from the model;
- a free line may take at most ``max_tokens`` tokens; then its end is forced.

Which ids: the catalogue's weakness entries that MITRE has not deprecated or made obsolete.
Category and view entries are left out: MITRE's mapping guidance prohibits or discourages
them for classifying a vulnerability (they group weaknesses, they are not one), and the
datasets never use them as targets (``datasets/taxonomy.py``).

Masks depend only on the row's layout state, so they are computed once per state and cached.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.datasets.taxonomy import ANALYSIS_CATEGORIES, ANALYSIS_SEVERITIES
from vulntune.inference.layout import Choice, FreeLine, Layout, Literal, State
from vulntune.inference.vocab import TokenVocab

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

FREE_LINE_MAX_TOKENS = 72


def allowed_cwe_ids(catalogue: CweCatalogue) -> list[int]:
    """The ids structured decoding may write: live weakness entries (see the module doc)."""
    return [i for i in catalogue.ids("weakness") if not catalogue.deprecated(i)]


# What str.splitlines() ends a line at, besides "\n".
_OTHER_LINE_BREAKS = frozenset("\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def analysis_layout(
    catalogue: CweCatalogue, free_line_max_tokens: int = FREE_LINE_MAX_TOKENS
) -> Layout:
    """The analysis completion of ``datasets/builtin/README.md`` as a layout."""
    names = {i: catalogue.name(i) for i in allowed_cwe_ids(catalogue)}
    return Layout(
        [
            Literal("Classification: CWE-"),
            Choice([f"{i} {name}\n" for i, name in names.items() if name]),
            Literal("Severity:"),
            Choice([f" {s}\n" for s in ANALYSIS_SEVERITIES]),
            Literal("Category:"),
            Choice([f" {c}\n" for c in ANALYSIS_CATEGORIES]),
            Literal("Root cause:"),
            FreeLine(free_line_max_tokens),
            Literal("Impact:"),
            FreeLine(free_line_max_tokens),
        ]
    )


@dataclass
class RowState:
    """Where one row's answer stands: its layout state (None once it has ended), tokens
    queued to be forced, and how many tokens its current free line holds."""

    state: State | None
    forced: deque[int] = field(default_factory=deque)
    line_tokens: int = 0


class AnalysisConstraint:
    """Masks and forced tokens for the analysis layout, for one tokenizer's vocabulary."""

    def __init__(
        self,
        vocab: TokenVocab,
        layout: Layout,
        stop_ids: Iterable[int],
        encode: Callable[[str], list[int]] | None = None,
    ) -> None:
        self.vocab, self.layout = vocab, layout
        # Forced text must be the tokens the tokenizer itself makes of it (" C" + "WE", not
        # " CW" + "E"): the model was trained on those, and other splits of the same text
        # throw it off (SmolLM2 then wrote CWE-200 for every finding).
        self.encode = encode
        self.stop_ids = frozenset(stop_ids) | vocab.eos_ids
        self.end_id = min(self.stop_ids)
        size = len(vocab)
        self._no_newline = torch.zeros(size, dtype=torch.bool)
        self._with_newline: list[tuple[int, str]] = []
        for token, piece in enumerate(vocab.pieces):
            # A line break other than "\n" (\r, \x1c, U+2028, ...) would split a free line
            # where the parser splits lines (str.splitlines): such tokens are never allowed.
            if not piece or any(ch in _OTHER_LINE_BREAKS for ch in piece):
                continue
            if "\n" in piece:
                self._with_newline.append((token, piece))
            else:
                self._no_newline[token] = True
        self._masks: dict[State, torch.Tensor] = {}
        self._forced: dict[State, list[int] | None] = {}

    @classmethod
    def for_tokenizer(
        cls,
        tokenizer: PreTrainedTokenizerBase,
        stop_ids: Iterable[int] = (),
        catalogue: CweCatalogue | None = None,
    ) -> AnalysisConstraint:
        stop = frozenset(stop_ids)
        vocab = TokenVocab.from_tokenizer(tokenizer, extra_eos_ids=stop)
        layout = analysis_layout(catalogue or CweCatalogue.load())
        return cls(
            vocab, layout, stop, lambda text: tokenizer.encode(text, add_special_tokens=False)
        )

    # -- per row --------------------------------------------------------------------------

    def start(self, prompt: str = "") -> RowState:
        """A row at the start of the layout (the prompt does not change the layout)."""
        return RowState(self.layout.start)

    def finish(self, row: RowState, text: str) -> str:
        """The decoded answer as it stands: the layout needs no rewriting afterwards."""
        return text

    def choose(self, row: RowState, logits: torch.Tensor) -> int:
        """The greedy token for ``row`` under the constraint (forced text first)."""
        return self.choose_rows([row], logits[None, :])[0]

    def choose_rows(self, rows: Sequence[RowState], logits: torch.Tensor) -> list[int]:
        """The greedy token of each row, ``logits[j]`` scoring row ``j``'s next token: what
        :meth:`choose` picks row by row, with one masked argmax over the rows whose token the
        model chooses (rows with forced text do not look at their logits)."""
        chosen: list[int] = []
        free: list[int] = []
        masks: list[torch.Tensor] = []
        for j, row in enumerate(rows):
            token = self._without_model(row)
            if token is None:
                assert row.state is not None  # a row without a state has its end forced
                free.append(j)
                masks.append(self.mask(row.state))
                token = -1  # filled in below
            chosen.append(token)
        if free:
            scores = logits if len(free) == len(rows) else logits[free]
            blocked = ~torch.stack(masks)
            picked = scores.masked_fill(blocked, float("-inf")).argmax(dim=-1).tolist()
            for j, token in zip(free, picked, strict=True):
                chosen[j] = token
        return chosen

    def _without_model(self, row: RowState) -> int | None:
        """The token the layout forces on ``row`` (queued forced text, the end, the end of a
        full free line), or None when the model chooses."""
        if row.forced:
            return row.forced[0]
        state = row.state
        if state is None or self.layout.is_end(state):
            return self.end_id
        forced = self._forced_tokens(state)
        if forced:
            row.forced.extend(forced)
            return forced[0]
        line = self.layout.free_line(state)
        if line is not None and row.line_tokens >= line.max_tokens and state.has_content:
            return self._end_line(state)
        return None

    def advance(self, row: RowState, token: int) -> None:
        """Move ``row`` past ``token`` (which :meth:`choose` allowed)."""
        if row.forced and row.forced[0] == token:
            row.forced.popleft()
        if token in self.stop_ids or row.state is None:
            row.state = None
            return
        before = row.state
        text = self.vocab.text_of(token) or ""
        row.state = self.layout.walk(before, text)
        if row.state is not None and self.layout.free_line(row.state) is not None:
            same_line = row.state.segment == before.segment
            row.line_tokens = row.line_tokens + 1 if same_line else 1
        else:
            row.line_tokens = 0

    # -- masks ----------------------------------------------------------------------------

    def mask(self, state: State) -> torch.Tensor:
        """The tokens allowed in ``state`` (cached per state)."""
        cached = self._masks.get(state)
        if cached is None:
            cached = self._compute_mask(state)
            self._masks[state] = cached
        return cached

    def _compute_mask(self, state: State) -> torch.Tensor:
        mask = torch.zeros(len(self.vocab), dtype=torch.bool)
        if self.layout.may_end(state):
            mask[list(self.stop_ids)] = True
        if self.layout.free_line(state) is not None:
            mask |= self._no_newline
            for token, piece in self._with_newline:
                if self.layout.walk(state, piece) is not None:
                    mask[token] = True
            return mask
        allowed: list[int] = []
        stack: list[tuple[str, State]] = [("", state)]
        while stack:
            prefix, current = stack.pop()
            if prefix:
                allowed += self.vocab.by_text.get(prefix, [])
                if not self.vocab.has_prefix(prefix):
                    continue
            if self.layout.is_end(current):
                continue
            if self.layout.free_line(current) is not None:
                # Tokens that start with the prefix and go on into the free line.
                block = self.vocab.block(prefix)
                for i in range(block.start, block.stop):
                    rest = self.vocab.sorted_pieces[i][len(prefix) :]
                    if rest and self.layout.walk(current, rest) is not None:
                        allowed.append(int(self.vocab.sorted_ids[i]))
                continue
            for char, after in self.layout.transitions(current):
                stack.append((prefix + char, after))
        if allowed:
            mask[allowed] = True
        return mask

    def _forced_tokens(self, state: State) -> list[int] | None:
        if state not in self._forced:
            # Trailing spaces are left to the model: the value after "Severity:" is best
            # written as the token " high", the way the model saw it in training.
            text = self.layout.determined_text(state).rstrip(" ")
            self._forced[state] = self._tokens_of(text) if text else None
        return self._forced[state]

    def _tokens_of(self, text: str) -> list[int] | None:
        """The tokenizer's own tokens for ``text`` when they spell it exactly, else the
        vocabulary's longest-match split."""
        if self.encode is not None:
            tokens = list(self.encode(text))
            if tokens and "".join(self.vocab.text_of(t) or "" for t in tokens) == text:
                return tokens
        return self.vocab.longest_match(text)

    def _end_line(self, state: State) -> int:
        if self.layout.is_last_line(state) or self.vocab.newline_id < 0:
            return self.end_id
        return self.vocab.newline_id
