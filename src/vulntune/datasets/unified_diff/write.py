"""Writing unified diffs: make one from two texts, or rewrite one in canonical form."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from vulntune.datasets.unified_diff.model import NO_NEWLINE, split_lines
from vulntune.datasets.unified_diff.parse import parse_diff


def make_diff(path: str, old: str, new: str, context: int = 2) -> str:
    """The unified diff from ``old`` to ``new`` for file ``path``, with exactly ``context``
    lines before and after each change (fewer only at the start or end of the file), both
    counts in every hunk header, ``--- a/<path>`` and ``+++ b/<path>`` headers and
    ``\\ No newline at end of file`` markers. Changes separated by at most ``2 * context``
    unchanged lines share a hunk (as GNU diff and git do). Identical texts give ""."""
    if context < 0:
        raise ValueError(f"context must be 0 or more, not {context}")
    a, b = split_lines(old), split_lines(new)
    out: list[str] = []
    for group in _grouped(_opcodes(a, b), context):
        if not out:
            out += [f"--- a/{path}\n", f"+++ b/{path}\n"]
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@\n")
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                out += _body(" ", a[a1:a2])
                continue
            out += _body("-", a[a1:a2])
            out += _body("+", b[b1:b2])
    return "".join(out)


Opcode = tuple[str, int, int, int, int]


def _opcodes(a: list[str], b: list[str]) -> list[Opcode]:
    """difflib's opcodes for ``a`` -> ``b``, computed on the lines between the common
    prefix and suffix only: a fix changes a few lines of a long file, and this keeps
    SequenceMatcher's quadratic part small."""
    prefix = 0
    limit = min(len(a), len(b))
    while prefix < limit and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    middle = difflib.SequenceMatcher(
        None, a[prefix : len(a) - suffix], b[prefix : len(b) - suffix], autojunk=False
    )
    codes: list[Opcode] = [("equal", 0, prefix, 0, prefix)]
    for tag, i1, i2, j1, j2 in middle.get_opcodes():
        codes.append((tag, i1 + prefix, i2 + prefix, j1 + prefix, j2 + prefix))
    codes.append(("equal", len(a) - suffix, len(a), len(b) - suffix, len(b)))
    merged: list[Opcode] = []
    for code in codes:
        if code[2] == code[1] and code[4] == code[3]:
            continue  # empty
        if merged and merged[-1][0] == code[0] == "equal":
            last = merged.pop()
            code = ("equal", last[1], code[2], last[3], code[4])
        merged.append(code)
    return merged


def _grouped(codes: list[Opcode], n: int) -> list[list[Opcode]]:
    """The changes with ``n`` lines of context, in hunks (difflib's get_grouped_opcodes:
    changes at most ``2 * n`` equal lines apart share one)."""
    if not any(tag != "equal" for tag, *_ in codes):
        return []
    codes = list(codes)
    if codes[0][0] == "equal":
        _, i1, i2, j1, j2 = codes[0]
        codes[0] = ("equal", max(i1, i2 - n), i2, max(j1, j2 - n), j2)
    if codes[-1][0] == "equal":
        _, i1, i2, j1, j2 = codes[-1]
        codes[-1] = ("equal", i1, min(i2, i1 + n), j1, min(j2, j1 + n))
    groups: list[list[Opcode]] = []
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * n:
            group.append((tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - n), max(j1, j2 - n)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _range(start: int, stop: int) -> str:
    # An empty side is written as the line before it ("-0,0" at the top of a file).
    count = stop - start
    return f"{start + 1 if count else start},{count}"


def _body(prefix: str, lines: Sequence[str]) -> list[str]:
    out = []
    for line in lines:
        if line.endswith("\n"):
            out.append(prefix + line)
        else:
            out += [prefix + line + "\n", NO_NEWLINE + "\n"]
    return out


def normalise_diff(text: str) -> str:
    """A canonical form of a diff for exact-match comparison of two diffs.

    Parsed, then written back with: ``--- a/<path>``/``+++ b/<path>`` headers (or
    ``/dev/null``) without timestamps or ``diff --git``/``index`` lines; each hunk header
    recomputed, keeping the old start but counting both sides from the body and deriving the
    new start from the old start and the earlier hunks of the file (as :func:`make_diff`
    writes them); no text after ``@@``; every body line with its trailing whitespace
    (spaces, tabs, ``\\r``) removed and empty context lines written as a single space; no
    ``\\ No newline at end of file`` markers; a final newline. Raises DiffParseError."""
    out: list[str] = []
    for file_patch in parse_diff(text).files:
        out.append(f"--- {_canonical(file_patch.old_path, 'a')}\n")
        out.append(f"+++ {_canonical(file_patch.new_path, 'b')}\n")
        delta = 0
        for hunk in file_patch.hunks:
            old_count, new_count = len(hunk.old_lines), len(hunk.new_lines)
            # Same convention as make_diff: an empty side names the line before it.
            first = hunk.old_start - (1 if old_count else 0)
            new_start = first + delta + (1 if new_count else 0)
            out.append(f"@@ -{hunk.old_start},{old_count} +{max(new_start, 0)},{new_count} @@\n")
            out += [f"{line.kind}{line.text.rstrip()}\n" for line in hunk.lines]
            delta += new_count - old_count
    return "".join(out)


def _canonical(path: str | None, prefix: str) -> str:
    return "/dev/null" if path is None else f"{prefix}/{path}"
