"""Applying parsed diffs to texts with ``git apply`` semantics (see the package docstring)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vulntune.datasets.unified_diff.model import (
    DiffParseError,
    Hunk,
    Patch,
    PatchApplyError,
    split_lines,
)
from vulntune.datasets.unified_diff.parse import parse_diff


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """Whether a diff applies to the files, why not, and the patched files when it does."""

    applies: bool
    problem: str | None = None
    patched: dict[str, str] | None = None


def apply_patch(patch: Patch, files: Mapping[str, str], *, recount: bool = False) -> dict[str, str]:
    """``files`` (path -> text) with ``patch`` applied, as ``git apply`` would: every
    given file in the result, patched ones changed, created ones added, deleted ones gone.

    Raises PatchApplyError naming the file, hunk and line when a file is missing (or
    exists although the patch creates it), when a hunk's header counts disagree with its
    body (unless ``recount``) or when a hunk matches nowhere."""
    result = dict(files)
    for file_patch in patch.files:
        source = file_patch.old_path
        if source is None:
            if file_patch.new_path in result:
                raise PatchApplyError(f"{file_patch.new_path}: the patch creates it, but it exists")
            text = ""
        elif source in result:
            text = result[source]
        else:
            raise PatchApplyError(f"{source}: no such file among the files to patch")
        lines = split_lines(text)
        for number, hunk in enumerate(file_patch.hunks, start=1):
            at = locate_hunk(lines, hunk, recount=recount, file=file_patch.path, number=number)
            old = len(hunk.old_lines)
            lines[at : at + old] = hunk.new_lines
        if source is not None:
            del result[source]
        if file_patch.new_path is not None:
            result[file_patch.new_path] = "".join(lines)
        elif lines:
            raise PatchApplyError(f"{source}: the patch deletes it but leaves lines in it")
    return result


def apply_check(diff_text: str, files: Mapping[str, str], *, recount: bool = False) -> ApplyResult:
    """Parse and apply ``diff_text`` to ``files`` without raising: ``applies`` with the
    patched files, or the parse or apply problem as one line."""
    try:
        patched = apply_patch(parse_diff(diff_text), files, recount=recount)
    except (DiffParseError, PatchApplyError) as exc:
        return ApplyResult(applies=False, problem=str(exc))
    return ApplyResult(applies=True, patched=patched)


def locate_hunk(
    lines: Sequence[str], hunk: Hunk, *, recount: bool = False, file: str = "", number: int = 1
) -> int:
    """The 0-based index in ``lines`` (a text after the earlier hunks of its file were
    applied) where ``hunk`` applies, searched as git does; raises PatchApplyError."""
    where = f"{file}: hunk {number} ({hunk.header}, diff line {hunk.header_line})"
    if not recount and not hunk.counts_match():
        raise PatchApplyError(
            f"{where}: the header counts disagree with the body, which has "
            f"{len(hunk.old_lines)} old and {len(hunk.new_lines)} new lines "
            "(rerun with recount to ignore header counts)"
        )
    old = hunk.old_lines
    trailing = 0
    for line in reversed(hunk.lines):
        if line.kind != " ":
            break
        trailing += 1
    # git: a hunk at line 0 or 1 must match at the start, one without trailing context at
    # the end (that is how it tells "the first/last lines of the file" from "any lines").
    at_start = hunk.old_start <= 1
    at_end = trailing == 0
    if at_start or at_end:
        candidates = [0 if at_start else len(lines) - len(old)]
    else:
        stated = min(max(hunk.new_start - 1, 0), len(lines))
        candidates = _outward(stated, len(lines))
    for candidate in candidates:
        if candidate < 0 or (at_end and candidate + len(old) != len(lines)):
            continue
        if not old:
            return candidate  # a pure insertion matches wherever the rules allow
        # The cheap first-line test spares most slices on a long file.
        if (
            candidate < len(lines)
            and lines[candidate] == old[0]
            and list(lines[candidate : candidate + len(old)]) == old
        ):
            return candidate
    raise PatchApplyError(f"{where}: {_mismatch(lines, hunk, at_start, at_end)}")


def _outward(start: int, size: int) -> list[int]:
    """start, start+1, start-1, start+2, start-2, ... within 0..size (git's find_pos)."""
    order = [start]
    for step in range(1, max(start, size - start) + 1):
        if start + step <= size:
            order.append(start + step)
        if start - step >= 0:
            order.append(start - step)
    return order


def _mismatch(lines: Sequence[str], hunk: Hunk, at_start: bool, at_end: bool) -> str:
    """Why the hunk does not apply: at its stated line, the first line that differs, or the
    start/end rule it breaks."""
    stated = min(max(hunk.new_start - 1, 0), len(lines))
    old = hunk.old_lines
    found = [p for p in _outward(stated, len(lines)) if list(lines[p : p + len(old)]) == old]
    if found and at_start and found[0] != 0:
        return (
            f"it matches at line {found[0] + 1}, but a hunk that starts at line "
            f"{hunk.old_start} must match at the start of the file"
        )
    if found:
        return (
            f"it matches at line {found[0] + 1}, but a hunk without trailing context must "
            f"match at the end of the file ({len(lines)} lines)"
        )
    position = stated
    for line in hunk.lines:
        if line.kind == "+":
            continue
        if position >= len(lines):
            return (
                f"diff line {line.diff_line} expects {line.content!r} at file line "
                f"{position + 1}, past the end of the file ({len(lines)} lines), "
                "and no other place matches"
            )
        if lines[position] != line.content:
            what = "context" if line.kind == " " else "removed line"
            return (
                f"{what} at diff line {line.diff_line} does not match file line "
                f"{position + 1}: expected {line.content!r}, found {lines[position]!r}, "
                "and no other place matches"
            )
        position += 1
    return "it matches nowhere else in the file"  # only reachable through the rules above
