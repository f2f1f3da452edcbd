"""Stage-2 reference fixes from facts: dependency upgrades, tool fixes, git history, pairs.

:func:`codefix_examples` runs the fix sources over the observed findings and keeps one
example per finding (the same finding seen at several revisions counts once), preferring a
fix from git history (what the developers really did), then the tool's own fix, then a
dependency upgrade. A finding with no example is counted once, with the reason of the
source that came closest (``no-reference-fix`` when none applied to it).
"""

from __future__ import annotations

from collections.abc import Sequence

from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.datasets.fixes.dependency import dependency_fixes
from vulntune.datasets.fixes.history import DEFAULT_MAX_CHANGED_LINES, history_fixes
from vulntune.datasets.fixes.tool import tool_fixes
from vulntune.datasets.observed import Observed
from vulntune.datasets.records import DroppedFinding, ExampleSet, FixSource
from vulntune.datasets.render import DEFAULT_MAX_CODE_LINES
from vulntune.datasets.secret_guard import SecretGuard
from vulntune.datasets.sources import SourceFiles

PREFERENCE: tuple[FixSource, ...] = ("history", "tool", "dependency")


def codefix_examples(
    observed: Sequence[Observed],
    sources: SourceFiles | None,
    guard: SecretGuard,
    catalogue: CweCatalogue,
    *,
    max_changed_lines: int = DEFAULT_MAX_CHANGED_LINES,
    max_code_lines: int = DEFAULT_MAX_CODE_LINES,
) -> ExampleSet:
    """The code-fix examples and drops of ``observed`` (see the module docstring)."""
    history = history_fixes(
        observed, sources, guard, catalogue,
        max_changed_lines=max_changed_lines, max_code_lines=max_code_lines,
    )  # fmt: skip
    attempts = [
        *history,
        *tool_fixes(observed, guard, catalogue),
        *dependency_fixes(observed, sources, guard, catalogue),
    ]
    rank = {source: i for i, source in enumerate(PREFERENCE)}
    attempts.sort(key=lambda a: rank[a.source])  # stable: input order within a source
    out = ExampleSet()
    done: set[str] = set()
    drops: dict[str, DroppedFinding] = {}
    for attempt in attempts:
        key = attempt.item.key
        if attempt.example is not None and key not in done:
            done.add(key)
            out.examples.append(attempt.example)
        elif attempt.dropped is not None and key not in drops:
            drops[key] = attempt.dropped
    counted: set[str] = set()
    for item in observed:
        f = item.finding
        if item.key in counted or item.key in done:
            continue  # one count per finding, not per revision it was seen at
        counted.add(item.key)
        if f.suppressed:
            out.dropped.append(DroppedFinding(f.id, f.tool, "codefix", "suppressed"))
        elif item.key in drops:
            out.dropped.append(drops[item.key])
        else:
            out.dropped.append(DroppedFinding(f.id, f.tool, "codefix", "no-reference-fix"))
    return out
