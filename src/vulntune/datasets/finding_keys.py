"""What makes two findings "the same": the keys that match, de-duplicate and group them.

A finding is identified across revisions by its tool, rule, file and the *normalised
flagged code* (its flagged lines with all whitespace removed), never by line numbers: a
block that moves down by twenty lines is the same weakness. The split group of an example
is coarser (item 5 of issue 9): the same rule on the same code anywhere, the same package
version, the same pair; near-duplicates share a group and so never straddle splits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from vulntune.findings.record import Finding, FindingKind

_SPACE = re.compile(r"\s+")


def digest(*parts: str) -> str:
    """A short stable hash of ``parts``."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def normalise_code(lines: Sequence[str]) -> str:
    """``lines`` joined without any whitespace (indentation and reflowing do not count)."""
    return _SPACE.sub("", "".join(lines))


def flagged_lines(finding: Finding, file_lines: Sequence[str] | None = None) -> list[str]:
    """The lines the finding flags: from ``file_lines`` (the whole file) when given, else
    from its code context, else its snippet; [] when none of them covers the location."""
    loc = finding.location
    if loc is None or not loc.start_line:
        return finding.snippet.split("\n") if finding.snippet else []
    start = loc.start_line
    end = max(start, loc.end_line or start)
    if file_lines is not None:
        return list(file_lines[start - 1 : min(end, start + 29)])
    ctx = finding.context
    if ctx is not None and ctx.lines and ctx.path == loc.path:
        lo = start - ctx.start_line
        if 0 <= lo < len(ctx.lines):
            return list(ctx.lines[lo : lo + min(end - start + 1, 30)])
    return finding.snippet.split("\n") if finding.snippet else []


def code_key(finding: Finding, path: str | None, code: str) -> str:
    """The identity of a finding across revisions: tool, rule, file and flagged code."""
    return digest(finding.tool, finding.rule_id, path or "", code)


def group_key(finding: Finding, code: str) -> str:
    """The split group: same package and version, or same rule and normalised code (the
    rule and file when there is no code)."""
    pkg = finding.package
    if finding.kind is FindingKind.DEPENDENCY and pkg is not None:
        eco = (pkg.ecosystem or "").lower()
        return "pkg-" + digest(eco, pkg.name.lower(), pkg.installed_version or "")
    if code:
        return "code-" + digest(finding.tool, finding.rule_id, code)
    loc = finding.location
    where = loc.path if loc is not None and loc.path else finding.message
    return "rule-" + digest(finding.tool, finding.rule_id, where or "")
