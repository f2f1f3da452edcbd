"""Hunks as SARIF ``replacements``: which region of the original file each hunk replaces.

SARIF (``fixes[].artifactChanges[].replacements[]``) describes an edit as a
``deletedRegion`` of the original file and its ``insertedContent``. Regions here are
1-based, and the end is exclusive, as SARIF's ``endColumn`` is: whole lines ``k..m``
(with their newline) are ``(k, 1)`` to ``(m + 1, 1)``; an insertion is an empty region
``(k, 1)`` to ``(k, 1)``. Columns count UTF-16 code units, SARIF's default ``columnKind``,
unless ``column_kind="unicodeCodePoints"``; they only matter for a last line without a
newline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from vulntune.datasets.unified_diff.apply import locate_hunk
from vulntune.datasets.unified_diff.model import FilePatch, Patch, PatchApplyError, split_lines

ColumnKind = Literal["utf16CodeUnits", "unicodeCodePoints"]


@dataclass(frozen=True, slots=True)
class Replacement:
    """Replace the original text from (start_line, start_column) up to, not including,
    (end_line, end_column) with ``inserted_text``. ``deleted_text`` is what the region
    holds in the original file (for checking and display)."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int
    inserted_text: str
    deleted_text: str


def hunk_replacements(
    patch: Patch | FilePatch,
    original: str,
    *,
    recount: bool = False,
    column_kind: ColumnKind = "utf16CodeUnits",
) -> list[Replacement]:
    """One replacement per hunk that changes something: the lines between its leading
    and trailing context, located in ``original`` as :func:`apply_patch` locates them
    (offsets included). ``patch`` must patch exactly one file. Raises PatchApplyError when
    a hunk does not apply, or when hunks overlap or apply out of order."""
    file_patch = _single_file(patch)
    current = split_lines(original)
    originals = list(current)
    found: list[Replacement] = []
    delta = 0  # lines added minus removed by the hunks applied so far
    floor = 0  # in the current text: the end of the previous hunk
    for number, hunk in enumerate(file_patch.hunks, start=1):
        at = locate_hunk(current, hunk, recount=recount, file=file_patch.path, number=number)
        if at < floor:
            raise PatchApplyError(
                f"{file_patch.path}: hunk {number} ({hunk.header}) applies before the end of "
                "the previous hunk; SARIF replacements cannot overlap"
            )
        old, new = hunk.old_lines, hunk.new_lines
        lead = _context_run(hunk.lines)
        trail = _context_run(reversed(hunk.lines))
        if lead < len(hunk.lines):  # a hunk of context only changes nothing
            start = at - delta + lead  # index in the original text
            deleted = originals[start : start + len(old) - lead - trail]
            inserted = new[lead : len(new) - trail]
            found.append(_replacement(originals, start, deleted, inserted, column_kind))
        current[at : at + len(old)] = new
        delta += len(new) - len(old)
        floor = at + len(new)
    return found


def apply_replacements(
    original: str,
    replacements: Sequence[Replacement],
    *,
    column_kind: ColumnKind = "utf16CodeUnits",
) -> str:
    """``original`` with each replacement's region replaced by its inserted text, as a SARIF
    viewer applies a fix. Raises PatchApplyError when regions overlap or lie outside it."""
    lines = split_lines(original)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    spans = sorted(
        (
            _offset(original, lines, starts, r.start_line, r.start_column, column_kind),
            _offset(original, lines, starts, r.end_line, r.end_column, column_kind),
            r.inserted_text,
        )
        for r in replacements
    )
    out: list[str] = []
    position = 0
    for begin, end, inserted in spans:
        if begin < position or end < begin:
            raise PatchApplyError("replacement regions overlap or end before they start")
        out += [original[position:begin], inserted]
        position = end
    out.append(original[position:])
    return "".join(out)


def _single_file(patch: Patch | FilePatch) -> FilePatch:
    if isinstance(patch, FilePatch):
        return patch
    if len(patch.files) != 1:
        names = ", ".join(f.path for f in patch.files)
        raise PatchApplyError(f"the patch changes {len(patch.files)} files ({names}), not one")
    return patch.files[0]


def _context_run(lines: object) -> int:
    count = 0
    for line in lines:  # type: ignore[attr-defined]
        if line.kind != " ":
            break
        count += 1
    return count


def _replacement(
    originals: list[str], start: int, deleted: list[str], inserted: list[str], kind: ColumnKind
) -> Replacement:
    if not deleted or deleted[-1].endswith("\n"):
        end_line, end_column = start + len(deleted) + 1, 1
    else:  # the file's last line, without a newline: the region ends after its last character
        end_line, end_column = start + len(deleted), _columns(deleted[-1], kind) + 1
    return Replacement(
        start_line=start + 1,
        start_column=1,
        end_line=end_line,
        end_column=end_column,
        inserted_text="".join(inserted),
        deleted_text="".join(deleted),
    )


def _columns(text: str, kind: ColumnKind) -> int:
    if kind == "unicodeCodePoints":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _offset(
    original: str, lines: list[str], starts: list[int], line: int, column: int, kind: ColumnKind
) -> int:
    if line < 1 or column < 1:
        raise PatchApplyError(f"replacement position {line}:{column} is not 1-based")
    if line > len(lines):
        if line == len(lines) + 1 and column == 1 and (original.endswith("\n") or not original):
            return len(original)
        raise PatchApplyError(f"replacement line {line} is past the end ({len(lines)} lines)")
    text = lines[line - 1]
    units = 0
    for index, char in enumerate(text):
        if units >= column - 1:
            return starts[line - 1] + index
        units += 1 if kind == "unicodeCodePoints" or ord(char) < 0x10000 else 2
    if units >= column - 1:
        return starts[line - 1] + len(text)
    raise PatchApplyError(f"replacement column {column} is past the end of line {line}")
