"""A model's code-fix answer checked against the code its prompt showed.

The code-fix prompt shows a block of the scanned file (``render.code_excerpt``) and asks for a
unified diff with the file's own line numbers. The diff is checked with ``git apply``
semantics (no fuzz, header counts must agree) against a stand-in for the file that has the
shown lines at their real line numbers: lines above the block are placeholders no diff line
can match, and one more placeholder follows the block, because the block is not known to end
the file (so a hunk that claims to end the file does not apply). When the diff applies, each
hunk becomes one SARIF replacement whose region is against the unmodified file.

A diff that changes a line in which a secret was redacted never counts as applying: the
prompt showed a marker where the real file has the secret, so the edit cannot be carried
over to the real file.
"""

from __future__ import annotations

from dataclasses import dataclass

from vulntune.datasets.completions import parse_codefix
from vulntune.datasets.render import CodeExcerpt, code_excerpt
from vulntune.datasets.unified_diff import (
    DiffParseError,
    PatchApplyError,
    Replacement,
    apply_check,
    hunk_replacements,
    parse_diff,
)
from vulntune.findings.record import Finding
from vulntune.findings.redact import MARKER_RE


@dataclass(frozen=True, slots=True)
class SuggestedFix:
    """A fix the model proposed: its sentence, its diff, and whether the diff applies to the
    scanned code. ``path`` is the file it patches; ``replacements`` (only when it applies) are
    its hunks as regions of the unmodified file; ``problem`` says why it does not apply."""

    sentence: str | None
    diff: str
    applies: bool
    path: str | None = None
    replacements: tuple[Replacement, ...] = ()
    problem: str | None = None


def check_fix(finding: Finding, completion: str) -> SuggestedFix | None:
    """The fix in a code-fix ``completion`` for ``finding``: None when the model wrote no
    diff; otherwise the diff, checked against the code the prompt showed."""
    parsed = parse_codefix(completion)
    if parsed.diff is None:
        return None
    excerpt = code_excerpt(finding)
    if excerpt is None or excerpt.first_line is None or not excerpt.path:
        return SuggestedFix(
            parsed.sentence, parsed.diff, False, problem="the prompt showed no numbered code"
        )

    def refused(problem: str) -> SuggestedFix:
        return SuggestedFix(parsed.sentence, parsed.diff, False, excerpt.path, problem=problem)

    shown = shown_file(excerpt)
    checked = apply_check(parsed.diff, {excerpt.path: shown})
    if not checked.applies:
        return refused(checked.problem or "the diff does not apply")
    patch = parse_diff(parsed.diff)  # parsed without error just above
    if len(patch.files) != 1 or patch.files[0].old_path != patch.files[0].new_path:
        return refused("the diff must change exactly the file the prompt showed")
    try:
        replacements = tuple(hunk_replacements(patch.files[0], shown))
    except (DiffParseError, PatchApplyError) as exc:
        return refused(str(exc))
    if not replacements:
        return refused("the diff changes nothing")
    for replacement in replacements:
        if MARKER_RE.search(replacement.deleted_text) or MARKER_RE.search(
            replacement.inserted_text
        ):
            return refused(
                "the diff changes a line whose secret was redacted in the prompt; "
                "it cannot be carried over to the real file"
            )
    return SuggestedFix(parsed.sentence, parsed.diff, True, excerpt.path, replacements)


def shown_file(excerpt: CodeExcerpt) -> str:
    """A stand-in for the file an excerpt comes from: its lines at their real line numbers,
    placeholders (which no diff line can match) before them and one after them."""
    assert excerpt.first_line is not None
    before = [_placeholder(n) for n in range(1, excerpt.first_line)]
    after = [_placeholder((excerpt.last_line or 0) + 1)]
    return "\n".join([*before, *excerpt.lines, *after]) + "\n"


def _placeholder(line: int) -> str:
    # A NUL byte never occurs in a line of source a model copies into a diff.
    return f"\x00 line {line} was not shown \x00"
