"""Parsing unified diffs (plain, ``diff --git``, with or without ``a/``/``b/`` prefixes)."""

from __future__ import annotations

import re
from typing import cast

from vulntune.datasets.unified_diff.model import (
    DiffParseError,
    FilePatch,
    Hunk,
    HunkLine,
    LineKind,
    Patch,
)

_HUNK_HEADER = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(?: .*)?")
_BODY_PREFIXES = (" ", "-", "+", "\\")
_UNSUPPORTED = ("GIT binary patch", "Binary files ")


def parse_diff(text: str) -> Patch:
    """Parse a unified diff: ``diff --git`` and other lines before a file's ``---`` line
    are skipped; ``a/``/``b/`` prefixes are removed when both names have them (or the other
    is ``/dev/null``); ``\\t``-separated timestamps are dropped; an empty body line is an
    empty context line (as git reads it). Raises DiffParseError naming the line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    files: list[FilePatch] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(_UNSUPPORTED):
            raise DiffParseError(f"diff line {i + 1}: binary patches are not supported")
        if line.startswith("@@ "):
            raise DiffParseError(
                f"diff line {i + 1}: hunk header {line!r} does not follow a "
                "'---'/'+++' file header or another hunk"
            )
        if not (line.startswith("--- ") and i + 1 < len(lines)):
            i += 1  # preamble, commit message, "diff --git", "index ..." and the like
            continue
        if not lines[i + 1].startswith("+++ "):
            raise DiffParseError(f"diff line {i + 2}: expected '+++ <path>' after {line!r}")
        old, new = _paths(line[4:], lines[i + 1][4:], i + 1)
        i += 2
        hunks: list[Hunk] = []
        while i < len(lines) and lines[i].startswith("@@"):
            hunk, i = _hunk(lines, i)
            hunks.append(hunk)
        if not hunks:
            raise DiffParseError(f"diff line {i + 1}: no hunk follows the header of {new or old}")
        files.append(FilePatch(old, new, tuple(hunks)))
    if not files:
        raise DiffParseError("not a unified diff: no '--- <path>' / '+++ <path>' header")
    return Patch(tuple(files))


def _paths(old_raw: str, new_raw: str, lineno: int) -> tuple[str | None, str | None]:
    old, new = _path(old_raw), _path(new_raw)
    if old is None and new is None:
        raise DiffParseError(f"diff line {lineno}: both file names are /dev/null")
    if (old is None or old.startswith("a/")) and (new is None or new.startswith("b/")):
        old = old[2:] if old is not None else None
        new = new[2:] if new is not None else None
    if old == "" or new == "":
        raise DiffParseError(f"diff line {lineno}: empty file name")
    return old, new


def _path(raw: str) -> str | None:
    name = raw.split("\t", 1)[0].rstrip()
    if len(name) > 1 and name.startswith('"') and name.endswith('"'):
        name = _unquote(name[1:-1])
    return None if name == "/dev/null" else name


_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _unquote(quoted: str) -> str:
    """A name git quoted C-style ("a/caf\\303\\251.txt"): octal bytes and escapes, UTF-8."""
    out = bytearray()
    i = 0
    while i < len(quoted):
        if quoted[i] == "\\" and re.fullmatch(r"[0-7]{3}", quoted[i + 1 : i + 4]):
            out.append(int(quoted[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        elif quoted[i] == "\\" and quoted[i + 1 : i + 2] in _C_ESCAPES:
            out.append(_C_ESCAPES[quoted[i + 1]])
            i += 2
        else:
            out += quoted[i].encode("utf-8")
            i += 1
    return out.decode("utf-8", "replace")


def _hunk(lines: list[str], i: int) -> tuple[Hunk, int]:
    header = _HUNK_HEADER.fullmatch(lines[i])
    if header is None:
        raise DiffParseError(f"diff line {i + 1}: malformed hunk header {lines[i]!r}")
    old_start, new_start = int(header.group(1)), int(header.group(3))
    old_count = int(header.group(2)) if header.group(2) is not None else 1
    new_count = int(header.group(4)) if header.group(4) is not None else 1
    header_line = i + 1
    body: list[HunkLine] = []
    old_seen = new_seen = 0
    i += 1
    while i < len(lines):
        line = lines[i]
        counted = old_seen >= old_count and new_seen >= new_count
        if line.startswith("@@") or (counted and _file_header_at(lines, i)):
            break  # the next hunk or file
        signature_next = i + 1 == len(lines) or not lines[i + 1].startswith(_BODY_PREFIXES)
        if counted and line == "-- " and signature_next:
            break  # the signature that ends a "git format-patch" mail
        if line.startswith("\\"):
            if not body:
                raise DiffParseError(f"diff line {i + 1}: {line!r} before any hunk line")
            last = body[-1]
            body[-1] = HunkLine(last.kind, last.text, False, last.diff_line)
            i += 1
            continue
        if line and not line.startswith(_BODY_PREFIXES):
            break  # text after the hunk
        if not line and counted and _blank_lines_end_hunk(lines, i):
            break  # blank lines after a complete hunk are not part of it
        kind = cast(LineKind, line[0] if line else " ")
        body.append(HunkLine(kind, line[1:], True, i + 1))
        old_seen += kind != "+"
        new_seen += kind != "-"
        i += 1
    if not body:
        raise DiffParseError(f"diff line {header_line}: hunk {lines[header_line - 1]!r} is empty")
    hunk = Hunk(old_start, old_count, new_start, new_count, tuple(body), header_line)
    return hunk, i


def _file_header_at(lines: list[str], i: int) -> bool:
    return lines[i].startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")


def _blank_lines_end_hunk(lines: list[str], i: int) -> bool:
    """True when the blank lines from ``i`` on are followed by the end of the diff or by
    something that is not a hunk line (so they are not empty context lines)."""
    while i < len(lines) and not lines[i]:
        i += 1
    return (
        i == len(lines)
        or not lines[i].startswith(_BODY_PREFIXES)
        or lines[i].startswith("@@")
        or _file_header_at(lines, i)
    )
