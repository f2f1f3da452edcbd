"""Findings as observed in the source: the code at their own revision, redacted, with keys.

Ingest attaches code context from the working tree, which is right only for the revision
checked out then. With a git source root, each finding's code is read again at the commit
its report was made at (``origin.revision``), with the window ingest uses (5 lines before
and after the flagged region), and redacted by the build's :class:`SecretGuard` (which has
first learnt every secret finding's value from its own revision). Every example built from a
finding shows this code; fix sources compare it with other revisions and edit it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from vulntune.datasets.finding_keys import code_key, flagged_lines, group_key, normalise_code
from vulntune.datasets.secret_guard import SecretGuard
from vulntune.datasets.sources import SourceFiles
from vulntune.findings.context import ContextOptions, code_context
from vulntune.findings.record import Finding, FindingKind

_OPTIONS = ContextOptions()


@dataclass(frozen=True, slots=True)
class Observed:
    """A finding with its code as read at its revision (redacted) and its keys."""

    finding: Finding
    revision: str | None  # as the report gave it
    commit: str | None  # the commit it names in the source repository
    path: str | None  # the flagged file, relative to the source root
    raw_lines: tuple[str, ...] | None  # that file at ``commit`` (working tree when None), raw
    lines: tuple[str, ...] | None  # the same lines redacted
    code: str  # the normalised flagged code (redacted)
    key: str  # identity across revisions: tool, rule, file, code
    group: str  # the split group


def observe(
    findings: Sequence[Finding], sources: SourceFiles | None, guard: SecretGuard
) -> list[Observed]:
    """Every finding observed at its revision (see the module docstring)."""
    reads: list[tuple[Finding, str | None, str | None, list[str] | None]] = []
    for finding in findings:
        revision = finding.origin.revision
        commit = sources.commit(revision) if sources is not None else None
        path = _path(finding)
        raw: list[str] | None = None
        # A plain folder is read as it is; a repository at the finding's own revision.
        readable = sources is not None and (
            revision is None or commit is not None or not sources.is_git
        )
        if sources is not None and path is not None and readable:
            text = sources.text(path, commit)
            raw = text.split("\n") if text is not None else None
        if raw is not None:
            guard.learn(finding, raw, revision)
        reads.append((finding, commit, path, raw))
    observed = []
    redacted: dict[tuple[str, str | None, str | None], list[str]] = {}
    for finding, commit, path, raw in reads:
        revision = finding.origin.revision
        lines = None
        if raw is not None and path is not None:
            cache_key = (path, commit, revision)
            if cache_key not in redacted:
                redacted[cache_key] = guard.redact(path, raw, 1, revision)
            lines = redacted[cache_key]
        if lines is not None and path is not None:
            finding = _with_context(finding, path, lines)
        code = normalise_code(flagged_lines(finding, lines))
        observed.append(
            Observed(
                finding=finding,
                revision=revision,
                commit=commit,
                path=path,
                raw_lines=tuple(raw) if raw is not None else None,
                lines=tuple(lines) if lines is not None else None,
                code=code,
                key=code_key(finding, path, code),
                group=group_key(finding, code),
            )
        )
    return observed


def _path(finding: Finding) -> str | None:
    loc = finding.location
    if loc is None or not loc.path:
        return None
    return loc.path.replace("\\", "/").removeprefix("./")


def _with_context(finding: Finding, path: str, lines: list[str]) -> Finding:
    """``finding`` with the context read at its revision (code findings with a line only;
    dependency findings keep ingest's manifest line, which fix sources look up again)."""
    loc = finding.location
    if finding.kind is FindingKind.DEPENDENCY or loc is None or not loc.start_line:
        return finding
    if loc.start_line > len(lines):
        return finding
    context = code_context(path, lines, loc, _OPTIONS)
    return dataclasses.replace(finding, context=context)
