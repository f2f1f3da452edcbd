"""Tool-provided fixes: SARIF ``fixes[]`` and Semgrep ``fix``, applied to the source.

Each replacement deletes a region (1-based lines and columns, the end column exclusive as in
SARIF; a region without columns covers whole lines, without their final newline) and inserts
the tool's text. A fix is used only when all its replacements are in the flagged file, lie
inside it and do not overlap; it is applied to the file at the finding's revision and the
diff is made against the redacted file. The ``Fix:`` sentence is the tool's description of
its fix, else the tool's own advice from the message or rule help, else a plain statement
that the tool's replacement is applied.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.datasets.fixes.common import FixAttempt, ReferenceFix, codefix_example, drop
from vulntune.datasets.observed import Observed
from vulntune.datasets.secret_guard import SecretGuard
from vulntune.datasets.sentences import sentences
from vulntune.findings.record import Finding, FixChange

_GENERIC_DESCRIPTION = re.compile(r"^(?:semgrep )?auto-?fix\.?$|^fix\.?$", re.I)


def tool_fixes(
    observed: Sequence[Observed], guard: SecretGuard, catalogue: CweCatalogue
) -> list[FixAttempt]:
    """One attempt per finding of ``observed`` whose tool proposed a fix with changes."""
    attempts = []
    for item in observed:
        fix = item.finding.fix
        if fix is None or not fix.changes:
            continue
        if item.raw_lines is None or item.lines is None or item.path is None:
            attempts.append(drop(item, "tool", "source-unreadable", item.path or ""))
            continue
        new_raw = apply_changes(list(item.raw_lines), fix.changes, item.path)
        if new_raw is None:
            attempts.append(drop(item, "tool", "tool-fix-unusable"))
            continue
        new_lines = guard.redact(item.path, new_raw, 1, None)
        reference = ReferenceFix(
            item.path, "\n".join(item.lines), "\n".join(new_lines), _sentence(item.finding)
        )
        attempts.append(codefix_example(item, item.finding, reference, "tool", guard, catalogue))
    return attempts


def apply_changes(lines: list[str], changes: Sequence[FixChange], path: str) -> list[str] | None:
    """``lines`` (a file split on newlines) with every change applied; None when a change
    names another file, lies outside the file or overlaps another."""
    spans: list[tuple[tuple[int, int], tuple[int, int], str]] = []
    for change in changes:
        if change.path is not None and change.path.removeprefix("./") != path:
            return None
        if change.start_line is None or change.start_line > len(lines):
            return None
        end_line = max(change.start_line, change.end_line or change.start_line)
        if end_line > len(lines):
            return None
        if change.start_column is None:
            start = (change.start_line, 0)
            end = (end_line, len(lines[end_line - 1]))
        else:
            start = (change.start_line, change.start_column - 1)
            end_col = change.end_column - 1 if change.end_column else len(lines[end_line - 1])
            end = (end_line, end_col)
        if start[1] > len(lines[start[0] - 1]) or end[1] > len(lines[end[0] - 1]) or end < start:
            return None
        spans.append((start, end, change.inserted_text))
    spans.sort()
    for (_, end_a, _), (start_b, _, _) in itertools.pairwise(spans):
        if start_b < end_a:
            return None
    text_lines = list(lines)
    for start, end, inserted in reversed(spans):
        head = text_lines[start[0] - 1][: start[1]]
        tail = text_lines[end[0] - 1][end[1] :]
        text_lines[start[0] - 1 : end[0]] = (head + inserted + tail).split("\n")
    return text_lines


def _sentence(finding: Finding) -> str:
    fix = finding.fix
    description = fix.description if fix is not None else None
    if description and not _GENERIC_DESCRIPTION.match(description.strip()):
        picked = sentences(description)
        if picked:
            return picked[0]
    for text in (finding.message, finding.rule_help, finding.rule_description):
        advice = [s for s in sentences(text) if s not in sentences(text, advice=False)]
        if advice:
            return advice[0]
    return f"Apply the replacement that {finding.tool} proposes for {finding.rule_id}."
