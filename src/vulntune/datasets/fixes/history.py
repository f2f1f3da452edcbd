"""Fixes mined from git history: a finding present at revision A and gone at B.

For each tool, the revisions it reported at are ordered by the repository's history. A
finding is followed across them by its key (tool, rule, file, normalised flagged code; see
:mod:`~vulntune.datasets.finding_keys`), never by line numbers, so a block that only moved
stays "present". A finding last seen at A and absent from the tool's next revision B is
"fixed" there when its file changed (``git diff -M --name-status A B``: a renamed file is
followed, and a finding found again under the new name is not fixed). The reference is the
part of the change from A to B that touches or borders the flagged lines, rebuilt over the
file at A with :func:`make_diff` so that it applies to the code the prompt shows; the prompt
shows the code at A, widened to hold the change.

Dropped, with the reason: still reported at the tool's last revision (``still-open``), no
later scan, an unknown revision, the file unchanged or deleted, a change elsewhere in the
file, a change that only deletes the flagged code together with its whole function, one
that changes more than ``max_changed_lines`` lines or does not fit in the prompt's code
block, a secret still in the file after the change.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Sequence

from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.datasets.finding_keys import code_key
from vulntune.datasets.fixes.common import (
    FixAttempt,
    ReferenceFix,
    codefix_example,
    drop,
    fix_sentence,
)
from vulntune.datasets.observed import Observed
from vulntune.datasets.render import DEFAULT_MAX_CODE_LINES
from vulntune.datasets.secret_guard import SecretGuard
from vulntune.datasets.sources import SourceFiles
from vulntune.findings.context.enclosing import enclosing_block
from vulntune.findings.record import CodeContext, FindingKind
from vulntune.findings.redact import is_secret_finding

DEFAULT_MAX_CHANGED_LINES = 30
_CONTEXT_AROUND = 5  # lines the prompt shows around the flagged region, as ingest does


def history_fixes(
    observed: Sequence[Observed],
    sources: SourceFiles | None,
    guard: SecretGuard,
    catalogue: CweCatalogue,
    *,
    max_changed_lines: int = DEFAULT_MAX_CHANGED_LINES,
    max_code_lines: int = DEFAULT_MAX_CODE_LINES,
) -> list[FixAttempt]:
    """One attempt per distinct code finding of ``observed`` (see the module docstring)."""
    if sources is None or not sources.is_git:
        return []
    attempts: list[FixAttempt] = []
    by_tool: dict[str, list[Observed]] = defaultdict(list)
    for item in observed:
        f = item.finding
        if f.kind is FindingKind.DEPENDENCY or f.location is None or not f.location.start_line:
            continue
        if item.commit is None:
            attempts.append(drop(item, "history", "revision-unknown", item.revision or "none"))
            continue
        by_tool[f.tool].append(item)
    for items in by_tool.values():
        attempts += _mine_tool(items, sources, guard, catalogue, max_changed_lines, max_code_lines)
    return attempts


def _mine_tool(
    items: list[Observed],
    sources: SourceFiles,
    guard: SecretGuard,
    catalogue: CweCatalogue,
    max_changed_lines: int,
    max_code_lines: int,
) -> list[FixAttempt]:
    commits = sources.order_commits({i.commit for i in items if i.commit})
    position = {c: n for n, c in enumerate(commits)}
    keys_at: dict[str, set[str]] = defaultdict(set)
    places_at: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    last: dict[str, Observed] = {}
    for item in items:
        assert item.commit is not None
        if item.key not in keys_at[item.commit]:
            places_at[item.commit][(item.finding.rule_id, item.path or "")] += 1
        keys_at[item.commit].add(item.key)
        seen = last.get(item.key)
        if seen is None or position[item.commit] > position[seen.commit or ""]:
            last[item.key] = item
    attempts = []
    for item in last.values():
        assert item.commit is not None
        at = position[item.commit]
        if at + 1 >= len(commits):
            reason = "still-open" if len(commits) > 1 else "no-later-scan"
            attempts.append(drop(item, "history", reason))
            continue
        later = commits[at + 1]
        attempts.append(
            _mine_one(
                item,
                later,
                keys_at[later],
                places_at,
                sources,
                guard,
                catalogue,
                max_changed_lines,
                max_code_lines,
            )
        )
    return attempts


def _mine_one(
    item: Observed,
    later: str,
    keys_later: set[str],
    places_at: dict[str, Counter[tuple[str, str]]],
    sources: SourceFiles,
    guard: SecretGuard,
    catalogue: CweCatalogue,
    max_changed_lines: int,
    max_code_lines: int,
) -> FixAttempt:
    a = item.commit
    path = item.path
    assert a is not None and path is not None
    change = sources.changes(a, later).get(path)
    if change is None:
        return drop(item, "history", "file-unchanged", f"{path} at {later[:12]}")
    if change.new_path is None:
        return drop(item, "history", "file-deleted", path)
    if change.new_path != path and code_key(item.finding, change.new_path, item.code) in keys_later:
        return drop(item, "history", "file-unchanged", f"moved to {change.new_path}")
    rule = item.finding.rule_id
    if places_at[later][(rule, change.new_path)] >= places_at[a][(rule, path)]:
        # As many reports of the rule in the file as before: its flagged code was edited
        # (a resource's first line), the weakness is still there.
        return drop(item, "history", "still-open", f"{rule} still reported in {path}")
    if item.raw_lines is None or item.lines is None:
        return drop(item, "history", "source-unreadable", path)
    new_text = sources.text(change.new_path, later)
    if new_text is None:
        return drop(item, "history", "source-unreadable", f"{change.new_path} at {later[:12]}")
    loc = item.finding.location
    assert loc is not None and loc.start_line is not None
    flag_lo = loc.start_line
    flag_hi = max(flag_lo, loc.end_line or flag_lo)
    old_raw = list(item.raw_lines)
    new_raw = new_text.split("\n")
    picked = [
        ("change", *hunk)
        for hunk in sources.diff_hunks(a, later, path, change.new_path)
        if _touches(hunk[0], hunk[1], flag_lo, flag_hi)
    ]
    if not picked:
        return drop(item, "history", "change-elsewhere", path)
    removed = sum(i2 - i1 for _, i1, i2, _, _ in picked)
    added = [line for _, _, _, j1, j2 in picked for line in new_raw[j1:j2]]
    if removed + len(added) > max_changed_lines:
        return drop(item, "history", "too-many-lines", f"{removed + len(added)} lines")
    if not any(line.strip() for line in added) and _deletes_function(
        path, old_raw, flag_lo, picked
    ):
        return drop(item, "history", "deletes-whole-function", path)
    fixed_raw: list[str] = []
    fixed_redacted: list[str] = []
    cursor = 0
    for _, i1, i2, j1, j2 in picked:
        fixed_raw += old_raw[cursor:i1] + new_raw[j1:j2]
        fixed_redacted += list(item.lines[cursor:i1])
        fixed_redacted += guard.redact(path, new_raw[j1:j2], j1 + 1, None)
        cursor = i2
    fixed_raw += old_raw[cursor:]
    fixed_redacted += list(item.lines[cursor:])
    if _is_secret(item) and _secret_kept(item, fixed_raw, a, later, sources, guard):
        return drop(item, "history", "secret-still-present", path)
    lo = min(flag_lo - _CONTEXT_AROUND, min(op[1] + 1 for op in picked) - 2)
    hi = max(flag_hi + _CONTEXT_AROUND, max(op[2] for op in picked) + 2)
    lo, hi = max(1, lo), min(len(item.lines), hi)
    if hi - lo + 1 > max_code_lines:
        return drop(item, "history", "fix-outside-code-block", f"{hi - lo + 1} lines")
    context = CodeContext(path=path, start_line=lo, lines=list(item.lines[lo - 1 : hi]))
    prompt_finding = dataclasses.replace(item.finding, context=context)
    commit, subject = sources.last_commit_touching(a, later, change.new_path)
    sentence = fix_sentence(guard.redact_text(subject), f"Apply the change of {commit[:12]}.")
    fix = ReferenceFix(path, "\n".join(item.lines), "\n".join(fixed_redacted), sentence)
    extra = {"fixed_revision": later, "fixed_commit": commit}
    return codefix_example(
        item, prompt_finding, fix, "history", guard, catalogue, extra,
        max_code_lines=max_code_lines,
    )  # fmt: skip


def _touches(i1: int, i2: int, flag_lo: int, flag_hi: int) -> bool:
    """True when the old lines ``i1..i2`` (0-based, half open; an insertion when empty)
    overlap the flagged lines or border them (the line before or after)."""
    first, last = i1 + 1, max(i1 + 1, i2)  # 1-based; an insertion sits before line i1 + 1
    if i1 == i2:
        return flag_lo <= first <= flag_hi + 1
    return first <= flag_hi + 1 and last >= flag_lo - 1


def _deletes_function(
    path: str, old_raw: list[str], flag_lo: int, picked: list[tuple[str, int, int, int, int]]
) -> bool:
    """True when the deleted lines hold the signature of the function around the flag."""
    signature = enclosing_block(path, old_raw, flag_lo)
    if signature is None:
        return False
    wanted = signature.strip().rstrip("…")
    deleted = [line.strip() for _, i1, i2, _, _ in picked for line in old_raw[i1:i2]]
    return any(line and (line.startswith(wanted) or wanted.startswith(line)) for line in deleted)


def _secret_kept(
    item: Observed,
    fixed_raw: list[str],
    a: str,
    later: str,
    sources: SourceFiles,
    guard: SecretGuard,
) -> bool:
    """True when the secret is still in the fixed file, or was moved into another file the
    same change wrote (a secret moved to a new file is not removed)."""
    own = item.finding.id
    if guard.still_present("\n".join(fixed_raw), own):
        return True
    for path in sources.written_at(a, later):
        text = sources.text(path, later)
        if path != item.path and text is not None and guard.still_present(text, own):
            return True
    return False


def _is_secret(item: Observed) -> bool:
    return item.finding.kind is FindingKind.SECRET or is_secret_finding(item.finding)
