"""The records of a parsed unified diff, its errors, and how texts are split into lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vulntune.errors import VulntuneError

NO_NEWLINE = "\\ No newline at end of file"
LineKind = Literal[" ", "-", "+"]


class DiffParseError(VulntuneError):
    """Text that is not a unified diff; the message names the diff line and the problem."""


class PatchApplyError(VulntuneError):
    """A diff that does not apply; the message names the file, the hunk and the line."""


@dataclass(frozen=True, slots=True)
class HunkLine:
    """One body line: ``kind`` is " " (context), "-" (removed) or "+" (added); ``text``
    has no prefix and no newline; ``newline`` is False when the diff marks it as the last
    line of a file that does not end with a newline. ``diff_line``: 1-based, in the diff."""

    kind: LineKind
    text: str
    newline: bool = True
    diff_line: int = 0

    @property
    def content(self) -> str:
        """The line as it is in the file, newline included."""
        return self.text + "\n" if self.newline else self.text


@dataclass(frozen=True, slots=True)
class Hunk:
    """One ``@@ -old_start,old_count +new_start,new_count @@`` hunk and its body."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: tuple[HunkLine, ...]
    header_line: int = 0  # 1-based line of the "@@" header in the diff text

    @property
    def old_lines(self) -> list[str]:
        """The lines the hunk expects in the file (context and removed), newlines included."""
        return [line.content for line in self.lines if line.kind != "+"]

    @property
    def new_lines(self) -> list[str]:
        """The lines the hunk leaves in the file (context and added), newlines included."""
        return [line.content for line in self.lines if line.kind != "-"]

    @property
    def header(self) -> str:
        """The hunk's header line as the header counts give it (``@@ -a,b +c,d @@``)."""
        return f"@@ -{self.old_start},{self.old_count} +{self.new_start},{self.new_count} @@"

    def counts_match(self) -> bool:
        """True when the header counts agree with the body."""
        return (len(self.old_lines), len(self.new_lines)) == (self.old_count, self.new_count)


@dataclass(frozen=True, slots=True)
class FilePatch:
    """The hunks of one file. A path is None for ``/dev/null`` (a created or deleted file)."""

    old_path: str | None
    new_path: str | None
    hunks: tuple[Hunk, ...]

    @property
    def path(self) -> str:
        """The file's name: the new path, or the old one for a deletion."""
        path = self.new_path if self.new_path is not None else self.old_path
        assert path is not None  # parse_diff refuses /dev/null on both sides
        return path


@dataclass(frozen=True, slots=True)
class Patch:
    """A parsed diff: one FilePatch per ``---``/``+++`` pair, in order."""

    files: tuple[FilePatch, ...]


def split_lines(text: str) -> list[str]:
    """``text`` as lines that keep their ``"\\n"``; only the last may lack one."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines
