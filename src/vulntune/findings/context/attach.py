"""Code context for findings, read from the source root (``ingest --source-root DIR``).

Code, config and secret findings get the lines around their location plus the signature of
the enclosing function, class or block (:mod:`vulntune.findings.context.enclosing`, by
heuristics); dependency findings get the manifest line that declares the package
(:mod:`vulntune.findings.context.manifests`). Files are read through
:class:`~vulntune.findings.context.tree.SourceTree`, which refuses anything outside the root;
a refusal becomes a :class:`ContextProblem`. Absolute paths under the root are made relative.
Long lines (minified code) are cut around the finding's column, dropping any token cut in two
so that no fragment of a secret survives where redaction could not recognise it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Literal

from vulntune.findings.context.enclosing import enclosing_block
from vulntune.findings.context.manifests import is_manifest, section_of
from vulntune.findings.context.tree import (
    ContextOptions,
    PathRefused,
    RefusalKind,
    SourceTree,
    is_absolute,
)
from vulntune.findings.record import CodeContext, Finding, FindingKind, Location

# Why a finding got no context: its file was not read, or has no such line.
ProblemKind = RefusalKind | Literal["line-out-of-range"]


@dataclass(frozen=True)
class ContextProblem:
    """Why a finding got no context."""

    finding_id: str
    path: str
    kind: ProblemKind
    detail: str


def attach_context(finding: Finding, tree: SourceTree) -> tuple[Finding, ContextProblem | None]:
    """``finding`` with its location made relative to the root and its code context attached,
    and the problem that prevented context, if any. Web findings and findings without a path
    are returned unchanged."""
    if finding.kind is FindingKind.WEB:
        return finding, None
    finding = _relativise_paths(finding, tree)
    if finding.kind is FindingKind.DEPENDENCY and finding.package is not None:
        return _attach_manifest_line(finding, tree)
    loc = finding.location
    if loc is None or not loc.path:
        return finding, None
    try:
        relative = tree.relative(loc.path)
        lines = tree.lines(relative)
    except PathRefused as exc:
        return finding, ContextProblem(finding.id, loc.path, exc.kind, exc.detail)
    if loc.start_line is None or loc.start_line < 1:
        return finding, None
    if loc.start_line > len(lines):
        detail = f"{relative} has {len(lines)} lines, the finding is at line {loc.start_line}"
        return finding, ContextProblem(finding.id, loc.path, "line-out-of-range", detail)
    return dataclasses.replace(
        finding, context=code_context(relative, lines, loc, tree.options)
    ), None


def code_context(
    relative: str, lines: list[str], loc: Location, options: ContextOptions
) -> CodeContext:
    """The lines around ``loc`` (1-based, inclusive) and the enclosing block's signature."""
    start = loc.start_line or 1
    end = max(start, loc.end_line or start)
    end = min(end, start + options.max_region_lines - 1, len(lines))
    first = max(1, start - options.lines_before)
    last = min(len(lines), end + options.lines_after)
    window = []
    for number in range(first, last + 1):
        column = loc.start_column if number == start else None
        window.append(_shorten(lines[number - 1], column, options.max_line_chars))
    enclosing = enclosing_block(relative, lines, start)
    if enclosing is not None:
        enclosing = _shorten(enclosing, None, 200)
    return CodeContext(path=relative, start_line=first, lines=window, enclosing=enclosing)


_TOKEN_AT_END = re.compile(r"[^\s\"'`,;(){}\[\]<>]*\Z")
_TOKEN_AT_START = re.compile(r"[^\s\"'`,;(){}\[\]<>]*")


def _shorten(line: str, column: int | None, limit: int) -> str:
    """A line of at most about ``limit`` characters around ``column``. A token cut in two is
    dropped whole, so a long secret never survives as a fragment redaction cannot recognise."""
    if len(line) <= limit:
        return line
    lo = 0 if column is None else max(0, column - 1 - limit // 2)
    hi = min(len(line), lo + limit)
    piece = line[lo:hi]
    if hi < len(line):
        piece = piece[: _TOKEN_AT_END.search(piece).start()] + "…"
    if lo > 0:
        piece = "…" + piece[_TOKEN_AT_START.match(piece).end() :]
    return piece


def _relativise_paths(finding: Finding, tree: SourceTree) -> Finding:
    """Absolute paths under the root become relative; anything else is left as the tool
    wrote it (a refused path is reported when context is attached)."""

    def fix(loc: Location) -> Location:
        if loc.path and is_absolute(loc.path):
            try:
                return dataclasses.replace(loc, path=tree.relative(loc.path))
            except PathRefused:
                return loc
        return loc

    changes: dict[str, object] = {}
    if finding.location is not None and (new := fix(finding.location)) != finding.location:
        changes["location"] = new
    related = [fix(loc) for loc in finding.related_locations]
    if related != finding.related_locations:
        changes["related_locations"] = related
    flows = [[fix(loc) for loc in flow] for flow in finding.code_flows]
    if flows != finding.code_flows:
        changes["code_flows"] = flows
    return dataclasses.replace(finding, **changes) if changes else finding


def _attach_manifest_line(
    finding: Finding, tree: SourceTree
) -> tuple[Finding, ContextProblem | None]:
    """Dependency findings: the line of the manifest that declares the package. The finding's
    own path comes first when it is a manifest (Trivy reports lock files); otherwise the
    manifests of the package's ecosystem anywhere under the root, declaring files first."""
    assert finding.package is not None
    problem = None
    preferred: list[str] = []
    loc = finding.location
    if loc is not None and loc.path and is_manifest(loc.path):
        try:
            preferred.append(tree.relative(loc.path))
        except PathRefused as exc:
            problem = ContextProblem(finding.id, loc.path, exc.kind, exc.detail)
    found = tree.declaration(finding.package, preferred)
    if found is None:
        return finding, problem
    relative, number = found.path, found.line
    lines = tree.lines(relative)
    line = _shorten(lines[number - 1], None, tree.options.max_line_chars)
    section = section_of(relative, lines, number)
    context = CodeContext(path=relative, start_line=number, lines=[line], enclosing=section)
    return dataclasses.replace(finding, context=context), problem
