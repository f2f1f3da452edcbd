"""Structured decoding of code fixes: diffs whose old lines are the prompt's code, verbatim.

A code-fix answer is a sentence and a fenced unified diff (``datasets/builtin/README.md``).
A small model gets the layout right long before it copies code exactly: it drops the space
that marks a context line, retypes a line with one character changed, or invents lines the
file does not have, and then no tool can apply the patch. Inside each hunk of a ```` ```diff````
block this constraint lets a body line be only:

- a context (`` ``) or removed (``-``) line that is the *next line of the prompt's code*
  (at the start of a hunk: any of its lines), spelt exactly, newline included: a token is
  allowed when its text continues one of the lines still possible;
- an added (``+``) line, free text;
- the start of the next hunk (``@@``) or the closing fence, but only once the hunk has
  changed something and has the two lines of trailing context the layout asks for (fewer at
  the end of the code), since without trailing context ``git apply`` anchors a hunk at the
  end of the file.

Outside hunks the text is free, except that a token may hold a line break only at its end
(so that a line is always seen whole). After the closing fence the answer ends. The hunk
headers are written by the model, but their counts can only be right once the body is known,
so :meth:`DiffConstraint.finish` rewrites each header from its body (what ``git apply
--recount`` does on the fly); a start line of 1 for a hunk that does not begin at the first
line of the code becomes the line it begins at in the prompt's code, since git would
otherwise anchor it at the start of the file.

The model still chooses where the hunk starts, which lines go and what replaces them; this
only rules out diffs that cannot apply to the code it was shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import torch

from vulntune.evaluation.prompt_facts import prompt_facts
from vulntune.inference.vocab import TokenVocab

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

TRAILING_CONTEXT = 2  # context lines after a hunk's last change (the layout's rule)
MAX_ADDED_LINES = 30  # per hunk: the datasets' default cap on changed lines
_OPENING_FENCES = frozenset({"```diff", "```patch"})
_CLOSING_FENCE = "```"
_HEADER = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$")

Mode = Literal["free", "line_start", "copy", "added", "header", "closing", "done"]


@dataclass
class DiffRow:
    """One answer's progress through the diff layout."""

    code: list[str]  # the prompt's code lines, without their line breaks
    mode: Mode = "free"
    line: str = ""  # text of the current line so far (free, added and header modes)
    in_diff: bool = False
    # Where the hunk may be in the code: (index of its first old line, index of the line a
    # context or removed line must be next) for each place its old lines so far match; None
    # at the start of a hunk (any line). Repeated lines (blank ones) keep several open.
    places: list[tuple[int, int]] | None = None
    candidates: list[int] = field(default_factory=list)  # code lines still possible (copy)
    copied: str = ""  # text of the copied line so far, its marker included
    changed: bool = False  # the current hunk removed or added a line
    trailing: int = 0  # context lines since the hunk's last change
    hunk_open: bool = False
    added: list[str] = field(default_factory=list)  # the hunk's added lines (without "+")
    hunk_starts: list[int] = field(default_factory=list)  # first old line per hunk (-1: none)


class DiffConstraint:
    """Masks for code-fix answers, for one tokenizer's vocabulary (see the module doc)."""

    def __init__(
        self,
        vocab: TokenVocab,
        stop_ids: Iterable[int],
        encode: Callable[[str], list[int]] | None = None,
    ) -> None:
        self.vocab = vocab
        self.stop_ids = frozenset(stop_ids) | vocab.eos_ids
        self.end_id = min(self.stop_ids)
        self.encode = encode
        size = len(vocab)
        # Tokens with no line break, or one only at their end: free text, one line at a time.
        self._line_tokens = torch.zeros(size, dtype=torch.bool)
        self._added = torch.zeros(size, dtype=torch.bool)  # "+..." within one line
        self._next_hunk = torch.zeros(size, dtype=torch.bool)  # "@", "@@", "@@ -1,2 ..."
        self._fence = torch.zeros(size, dtype=torch.bool)  # "`", "``", "```"
        for token, piece in enumerate(vocab.pieces):
            if not piece or "\n" in piece[:-1] or "\r" in piece:
                continue
            self._line_tokens[token] = True
            if piece.startswith("+"):
                self._added[token] = True
            elif "@@".startswith(piece) or (piece.startswith("@@") and piece[-1] != "\n"):
                self._next_hunk[token] = True
            elif _CLOSING_FENCE.startswith(piece):
                self._fence[token] = True
        self._free = self._line_tokens.clone()
        self._free[list(self.stop_ids)] = True

    @classmethod
    def for_tokenizer(
        cls, tokenizer: PreTrainedTokenizerBase, stop_ids: Iterable[int] = ()
    ) -> DiffConstraint:
        stop = frozenset(stop_ids)
        vocab = TokenVocab.from_tokenizer(tokenizer, extra_eos_ids=stop)
        return cls(vocab, stop, lambda text: tokenizer.encode(text, add_special_tokens=False))

    # -- per row --------------------------------------------------------------------------

    def start(self, prompt: str) -> DiffRow:
        """A row for the answer to ``prompt`` (its ``Code:`` block is what hunks copy)."""
        code = prompt_facts(prompt).code
        return DiffRow(code.split("\n")[:-1] if code else [])

    def choose(self, row: DiffRow, logits: torch.Tensor) -> int:
        """The greedy token for ``row`` under the constraint."""
        if row.mode == "done":
            return self.end_id
        mask = self.mask(row)
        if not bool(mask.any()):
            return self.end_id  # cannot happen with a byte-level vocabulary; never loop
        return int(logits.masked_fill(~mask, float("-inf")).argmax())

    def choose_rows(self, rows: Sequence[DiffRow], logits: torch.Tensor) -> list[int]:
        """:meth:`choose` for every row at once (``logits[j]`` scores row ``j``), with one
        masked argmax over the rows that are not done."""
        chosen = [self.end_id] * len(rows)
        live = [j for j, row in enumerate(rows) if row.mode != "done"]
        if not live:
            return chosen
        masks = torch.stack([self.mask(rows[j]) for j in live])
        scores = logits if len(live) == len(rows) else logits[live]
        picked = scores.masked_fill(~masks, float("-inf")).argmax(dim=-1).tolist()
        for j, token, allowed in zip(live, picked, masks.any(dim=-1).tolist(), strict=True):
            chosen[j] = token if allowed else self.end_id
        return chosen

    def mask(self, row: DiffRow) -> torch.Tensor:
        """The tokens allowed next for ``row``."""
        if row.mode == "added":
            return self._added_line(row)
        if row.mode in ("free", "header"):
            return self._free if row.mode == "free" else self._line_tokens
        if row.mode == "closing":
            return self._tokens_spelling([_CLOSING_FENCE[len(row.line) :]])
        if row.mode == "copy":
            return self._tokens_spelling(
                [self._line_text(row, i)[len(row.copied) :] for i in row.candidates]
            )
        # line_start: a context or removed line, an added line, or (once allowed) a closer
        lines = self._next_lines(row)
        mask = self._tokens_spelling([m + row.code[i] + "\n" for i in lines for m in " -"])
        if len(row.added) < MAX_ADDED_LINES:
            mask |= self._added
        if self._may_close(row):
            mask |= self._next_hunk | self._fence
        return mask

    def advance(self, row: DiffRow, token: int) -> None:
        """Move ``row`` past ``token`` (which :meth:`choose` allowed)."""
        if token in self.stop_ids:
            row.mode = "done"
            return
        text = self.vocab.text_of(token) or ""
        if row.mode == "copy":
            self._copy(row, text)
        elif row.mode == "line_start":
            if text[0] in " -":
                row.candidates = list(self._next_lines(row))
                row.copied = ""
                self._copy(row, text)
            elif text[0] == "+":
                row.mode, row.line = "added", ""
                self._free_text(row, text)
            elif text[0] == "@":
                row.mode, row.line = "header", ""
                self._free_text(row, text)
            else:
                row.mode, row.line = "closing", ""
                self._closing(row, text)
        elif row.mode == "closing":
            self._closing(row, text)
        else:
            self._free_text(row, text)

    def finish(self, row: DiffRow, text: str) -> str:
        """``text`` (the decoded answer) with each hunk header rewritten from its body."""
        self._end_hunk(row)  # an answer cut off by the token limit ends in a hunk
        return rewrite_hunk_headers(text, row.hunk_starts)

    # -- transitions ------------------------------------------------------------------------

    def _copy(self, row: DiffRow, text: str) -> None:
        row.copied += text
        row.candidates = [
            i for i in row.candidates if self._line_text(row, i).startswith(row.copied)
        ]
        if not any(self._line_text(row, i) == row.copied for i in row.candidates):
            row.mode = "copy"
            return
        content = row.copied[1:-1]
        if row.places is None:
            row.places = [(i, i + 1) for i, line in enumerate(row.code) if line == content]
        else:
            row.places = [
                (start, at + 1)
                for start, at in row.places
                if at < len(row.code) and row.code[at] == content
            ]
        if row.copied[0] == "-":
            row.changed, row.trailing = True, 0
        else:
            row.trailing += 1
        row.mode, row.copied, row.candidates = "line_start", "", []

    def _new_hunk(self, row: DiffRow) -> None:
        self._end_hunk(row)
        row.places, row.changed, row.trailing, row.added = None, False, 0, []
        row.mode, row.hunk_open = "line_start", True

    def _end_hunk(self, row: DiffRow) -> None:
        if row.hunk_open:
            row.hunk_starts.append(row.places[0][0] if row.places else -1)
            row.hunk_open = False

    def _free_text(self, row: DiffRow, text: str) -> None:
        """Text in free, added or header mode; a line break ends the line."""
        row.line += text
        if not row.line.endswith("\n"):
            return
        line, row.line = row.line[:-1], ""
        if row.mode == "added":
            row.changed, row.trailing = True, 0
            row.added.append(line[1:])
            row.mode = "line_start"
        elif row.mode == "header":
            self._new_hunk(row)
        elif line.strip() in _OPENING_FENCES:
            row.in_diff = True
        elif row.in_diff and line.startswith("@@"):
            self._new_hunk(row)

    def _closing(self, row: DiffRow, text: str) -> None:
        row.line += text
        if row.line == _CLOSING_FENCE:
            self._end_hunk(row)
            row.mode, row.in_diff = "done", False  # the answer ends with its diff

    # -- helpers ----------------------------------------------------------------------------

    def _added_line(self, row: DiffRow) -> torch.Tensor:
        """Free text on an added line, except that it may not end as a copy of a line the
        hunk added already (blank ones aside): a small model otherwise repeats one line
        until the token limit, and a fix that adds a line twice in a row is rare."""
        typed = row.line[1:]
        banned = [
            seen[len(typed) :] + "\n"
            for seen in set(row.added)
            if seen.strip() and seen.startswith(typed)
        ]
        if not banned:
            return self._line_tokens
        mask = self._line_tokens.clone()
        for text in banned:
            mask[self.vocab.by_text.get(text, [])] = False
        return mask

    def _line_text(self, row: DiffRow, index: int) -> str:
        return row.copied[:1] + row.code[index] + "\n"

    def _next_lines(self, row: DiffRow) -> list[int]:
        if row.places is None:
            return list(range(len(row.code)))
        return sorted({at for _, at in row.places if at < len(row.code)})

    def _may_close(self, row: DiffRow) -> bool:
        if not row.changed:
            return False
        if row.places is None:  # only added lines so far: fine where there is no code
            return not row.code
        return any(
            row.trailing >= min(TRAILING_CONTEXT, len(row.code) - at) for _, at in row.places
        )

    def _tokens_spelling(self, texts: Iterable[str]) -> torch.Tensor:
        """The tokens whose text is a non-empty prefix of one of ``texts``."""
        mask = torch.zeros(len(self.vocab), dtype=torch.bool)
        allowed: set[int] = set()
        for text in set(texts):
            for end in range(1, len(text) + 1):
                allowed.update(self.vocab.by_text.get(text[:end], ()))
        if allowed:
            mask[list(allowed)] = True
        return mask


def rewrite_hunk_headers(text: str, hunk_starts: list[int] | None = None) -> str:
    """``text`` with every hunk header of its diff block counted from the hunk's body.

    ``hunk_starts`` gives, per hunk, the 0-based index in the prompt's code of its first old
    line (from decoding); a stated old start of 1 or less is replaced by it when the hunk
    does not begin at the code's first line. New starts follow the old ones, shifted by the
    lines earlier hunks added or removed. Text outside hunks is kept as it is."""
    lines = text.split("\n")
    out: list[str] = []
    hunk = 0
    shift = 0
    i = 0
    while i < len(lines):
        match = _HEADER.match(lines[i])
        if match is None:
            out.append(lines[i])
            i += 1
            continue
        body_end = i + 1
        while body_end < len(lines) and lines[body_end][:1] in (" ", "-", "+"):
            body_end += 1
        body = lines[i + 1 : body_end]
        old = sum(1 for b in body if b[:1] in " -")
        new = sum(1 for b in body if b[:1] in " +")
        old_start = int(match.group(1))
        known = hunk_starts[hunk] if hunk_starts and hunk < len(hunk_starts) else None
        if old_start <= 1 and known is not None and known > 0:  # -1: no old lines
            old_start = known + 1
        out.append(f"@@ -{old_start},{old} +{old_start + shift},{new} @@{match.group(3)}")
        out.extend(body)
        shift += new - old
        hunk += 1
        i = body_end
    return "\n".join(out)
