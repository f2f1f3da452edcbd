"""A completion layout as a character automaton: fixed text, closed choices and free lines.

The analysis layout of ``datasets/builtin/README.md`` is five lines: three whose values come
from closed sets (a catalogued CWE with its name, a severity, a category) and two free ones.
:class:`Layout` describes such a text as a sequence of segments and decides, character by
character, whether a text can still become a complete answer. It knows nothing of tokens;
``structured.py`` lifts it to tokens.

A state is ``(segment, position, has_content)``: the segment being written, the offset into
a literal or the node of a choice's character trie, and, in a free line, whether it holds
anything but spaces yet. States are normalised: a finished literal or choice is never a state,
the next segment's start is.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import NamedTuple


@dataclass(frozen=True)
class Literal:
    """Text written exactly as given."""

    text: str


@dataclass(frozen=True)
class FreeLine:
    """Free text up to a newline (which ends it and belongs to it) or, in the last line, up to
    the end of the sequence. It needs a non-space character before it may end."""

    max_tokens: int  # the most tokens the line may take before its end is forced


class Choice:
    """One of a closed set of strings, as a character trie (no string a prefix of another,
    so the end of a string is never in doubt)."""

    def __init__(self, strings: Sequence[str]) -> None:
        if not strings or any(not s for s in strings):
            raise ValueError("a choice needs at least one string, and no empty string")
        ordered = sorted(set(strings))
        for shorter, longer in pairwise(ordered):
            if longer.startswith(shorter):
                raise ValueError(f"choice strings {shorter!r} and {longer!r}: one is a prefix")
        self.children: list[dict[str, int]] = [{}]
        for text in ordered:
            node = 0
            for char in text:
                nxt = self.children[node].get(char)
                if nxt is None:
                    nxt = len(self.children)
                    self.children[node][char] = nxt
                    self.children.append({})
                node = nxt
        self.size = len(ordered)

    def is_leaf(self, node: int) -> bool:
        return not self.children[node]


Segment = Literal | Choice | FreeLine


class State(NamedTuple):
    """Where a partial answer stands; ``segment == len(segments)`` is the end."""

    segment: int
    position: int = 0
    has_content: bool = False


class Layout:
    """A sequence of segments, stepped through one character at a time."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        if not segments or not isinstance(segments[-1], FreeLine):
            raise ValueError("a layout ends with a free line, which the end of sequence ends")
        self.segments = tuple(segments)
        self.start = State(0)

    def is_end(self, state: State) -> bool:
        """True when only the end of the sequence may follow."""
        return state.segment == len(self.segments)

    def is_last_line(self, state: State) -> bool:
        return state.segment == len(self.segments) - 1

    def free_line(self, state: State) -> FreeLine | None:
        """The free line ``state`` is in, or None."""
        if self.is_end(state):
            return None
        segment = self.segments[state.segment]
        return segment if isinstance(segment, FreeLine) else None

    def may_end(self, state: State) -> bool:
        """True when the end of sequence is allowed here."""
        return self.is_end(state) or (self.is_last_line(state) and state.has_content)

    def step(self, state: State, char: str) -> State | None:
        """The state after ``char``, or None when no answer continues this way."""
        if self.is_end(state):
            return None
        segment = self.segments[state.segment]
        if isinstance(segment, Literal):
            if segment.text[state.position] != char:
                return None
            if state.position + 1 < len(segment.text):
                return State(state.segment, state.position + 1)
            return self._enter(state.segment + 1)
        if isinstance(segment, Choice):
            node = segment.children[state.position].get(char)
            if node is None:
                return None
            if segment.is_leaf(node):
                return self._enter(state.segment + 1)
            return State(state.segment, node)
        if char == "\n":
            if not state.has_content:
                return None
            return (
                State(len(self.segments))
                if self.is_last_line(state)
                else self._enter(state.segment + 1)
            )
        return State(state.segment, 0, state.has_content or not char.isspace())

    def walk(self, state: State | None, text: str) -> State | None:
        """The state after ``text``, or None."""
        for char in text:
            if state is None:
                return None
            state = self.step(state, char)
        return state

    def transitions(self, state: State) -> Iterator[tuple[str, State]]:
        """The characters a literal or choice state accepts, each with the state after it.
        (Free lines accept almost anything; callers handle them in bulk.)"""
        if self.is_end(state):
            return
        segment = self.segments[state.segment]
        if isinstance(segment, Literal):
            char = segment.text[state.position]
            after = self.step(state, char)
            assert after is not None
            yield char, after
        elif isinstance(segment, Choice):
            for char in segment.children[state.position]:
                after = self.step(state, char)
                assert after is not None
                yield char, after

    def determined_text(self, state: State) -> str:
        """The text that must follow ``state`` whatever is chosen, up to the next choice
        between several characters or the next free line."""
        out: list[str] = []
        while not self.is_end(state):
            segment = self.segments[state.segment]
            if isinstance(segment, FreeLine):
                break
            if isinstance(segment, Choice) and len(segment.children[state.position]) != 1:
                break
            ((char, after),) = list(self.transitions(state))
            out.append(char)
            state = after
        return "".join(out)

    def _enter(self, segment: int) -> State:
        return State(segment)
