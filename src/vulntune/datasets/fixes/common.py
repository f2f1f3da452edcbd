"""What every fix source shares: the checked making of one code-fix example.

A fix source finds a reference change for a finding; :func:`codefix_example` turns it into
an example only when the diff, made with :func:`make_diff` over the (redacted) file the
prompt's code comes from, applies to that file (``apply_check``, git's rules) and changes
only lines the prompt's ``Code:`` block shows, and when prompt and completion pass the
secret check. Otherwise the finding is dropped with the reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from vulntune.datasets.analysis_examples import NoCwe, choose_cwe
from vulntune.datasets.completions import CodeFixCompletion
from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.datasets.finding_keys import digest
from vulntune.datasets.observed import Observed
from vulntune.datasets.records import (
    CodefixDrop,
    CweSource,
    DatasetExample,
    DroppedFinding,
    ExampleMeta,
    FixSource,
)
from vulntune.datasets.render import DEFAULT_MAX_CODE_LINES, code_excerpt, render_prompt
from vulntune.datasets.secret_guard import SecretGuard
from vulntune.datasets.sentences import clean_text
from vulntune.datasets.unified_diff import apply_check, make_diff, parse_diff
from vulntune.findings.record import Finding

MAX_SENTENCE_CHARS = 240


@dataclass(frozen=True, slots=True)
class FixAttempt:
    """What one fix source made of one observed finding: an example or a drop."""

    item: Observed
    source: FixSource
    example: DatasetExample | None = None
    dropped: DroppedFinding | None = None


def drop(item: Observed, source: FixSource, reason: CodefixDrop, detail: str = "") -> FixAttempt:
    """A :class:`FixAttempt` that gives no example."""
    f = item.finding
    return FixAttempt(item, source, dropped=DroppedFinding(f.id, f.tool, "codefix", reason, detail))


def fix_sentence(text: str | None, fallback: str) -> str:
    """The ``Fix:`` sentence: ``text`` cleaned to one line and its first sentence, else
    ``fallback``."""
    cleaned = clean_text(text)
    if cleaned:
        first = cleaned.split(". ")[0].rstrip(".")
        if 3 <= len(first) <= MAX_SENTENCE_CHARS:
            return first + "."
    return fallback


@dataclass(frozen=True, slots=True)
class ReferenceFix:
    """A change of one file, both texts redacted: ``old`` is what the prompt's code comes
    from, ``new`` the fixed file."""

    path: str
    old: str
    new: str
    sentence: str


def codefix_example(
    item: Observed,
    prompt_finding: Finding,
    fix: ReferenceFix,
    source: FixSource,
    guard: SecretGuard,
    catalogue: CweCatalogue,
    meta_extra: dict[str, str | None] | None = None,
    *,
    max_code_lines: int = DEFAULT_MAX_CODE_LINES,
) -> FixAttempt:
    """The checked example for ``fix`` (see the module docstring)."""
    diff = make_diff(fix.path, fix.old, fix.new)
    if not diff:
        return drop(item, source, "no-reference-fix", "the change is empty")
    check = apply_check(diff, {fix.path: fix.old})
    if not check.applies:
        return drop(item, source, "diff-does-not-apply", check.problem or "")
    excerpt = code_excerpt(prompt_finding, max_code_lines=max_code_lines)
    if excerpt is None or excerpt.first_line is None or excerpt.path != fix.path:
        return drop(item, source, "fix-outside-code-block", "the prompt shows no code of it")
    shown = fix.old.split("\n")[excerpt.first_line - 1 : excerpt.last_line]
    if tuple(shown) != excerpt.lines:
        return drop(item, source, "source-changed", "the prompt's code is not the file's")
    if not _inside(diff, excerpt.first_line, excerpt.last_line or 0):
        return drop(item, source, "fix-outside-code-block", "")
    prompt = render_prompt(
        prompt_finding, "codefix", max_code_lines=max_code_lines, catalogue=catalogue
    )
    completion = CodeFixCompletion(fix.sentence, diff).text()
    if not (guard.is_clean(prompt) and guard.is_clean(completion)):
        return drop(item, source, "secret-in-output")
    f = item.finding
    chosen = choose_cwe(f, catalogue)
    cwe: str | None = None
    others: tuple[str, ...] = ()
    cwe_source: CweSource | None = None
    if not isinstance(chosen, NoCwe):  # the Stage-1 CWE of the finding, when it has one
        cwe, others, cwe_source = f"CWE-{chosen.entry.id}", chosen.others, chosen.source
    meta = ExampleMeta(
        group=item.group,
        fix_source=source,
        finding_id=f.id,
        tool=f.tool,
        rule=f.rule_id,
        kind=f.kind.value,
        cwe=cwe,
        other_cwes=others,
        cwe_source=cwe_source,
        severity=f.severity.value,
        path=fix.path,
        revision=item.revision,
        commit=item.commit,
    )
    if meta_extra:
        meta = dataclasses.replace(meta, **meta_extra)
    example_id = f"cf-{source}-{f.tool}-{digest(f.id, item.revision or '', source)}"
    example = DatasetExample(example_id, "codefix", prompt, completion, "finding", meta)
    return FixAttempt(item, source, example=example)


def _inside(diff: str, first: int, last: int) -> bool:
    """True when every hunk's old lines (context included) lie in ``first..last``."""
    for file_patch in parse_diff(diff).files:
        for hunk in file_patch.hunks:
            start = hunk.old_start if hunk.old_count else hunk.old_start + 1
            end = hunk.old_start + hunk.old_count - 1
            if start < first or end > last:
                return False
    return True


def window_context(lines: Sequence[str], first: int, last: int) -> tuple[int, list[str]]:
    """The lines ``first-2 .. last+2`` of a file (clamped): the code a dependency or small
    fix prompt shows, with the two lines of context a hunk needs on each side. A window is
    widened past blank edge lines, which a prompt does not show."""
    lo = max(1, first - 2)
    hi = min(len(lines), last + 2)
    while lo > 1 and not lines[lo - 1].strip():
        lo -= 1
    while hi < len(lines) and not lines[hi - 1].strip():
        hi += 1
    return lo, list(lines[lo - 1 : hi])


def first_difference(old: Sequence[str], new: Sequence[str]) -> int:
    """The 1-based number of the first line where ``old`` and ``new`` differ (the line
    after the shorter one when one is a prefix of the other; 1 for two empty texts)."""
    for number, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        if a != b:
            return number
    return max(1, min(len(old), len(new)) + (len(old) != len(new)))
