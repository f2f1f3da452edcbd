"""De-duplication: which findings are one finding, and the one record two of them become.

Two findings are merged only when they are the same weakness at the same place: the same id
(tool family, rule, file and start position, package, web target; see
:func:`~vulntune.findings.record.fingerprint`) and the same revision. A finding that has no
place at all (no file, no line, no package, no web target) says what it is about only in its
message, so :func:`placeless_id` adds the message to its id: nine results of one rule that
differ in their messages stay nine findings, the same result reported twice is still one.

:func:`merge_duplicates` keeps everything both records know, and a merged finding is
suppressed only when all of its reports are: a suppressed copy never hides an unsuppressed one.
"""

from __future__ import annotations

from dataclasses import fields

from vulntune.findings.record import Finding, fingerprint

MergeKey = tuple[str, str | None]  # (finding id, revision)


def placeless_id(finding: Finding) -> str:
    """The id ``finding`` is merged by: its own id, or, for a finding without any place, the
    id with its message (whitespace and case folded) hashed in."""
    location = finding.location
    placed = location is not None and (location.path or location.start_line is not None)
    if placed or finding.package is not None or finding.web is not None:
        return finding.id
    message = " ".join(finding.message.split()).casefold()
    return fingerprint(finding.tool, finding.id, extra=f"message={message}")


def merge_key(finding: Finding) -> MergeKey:
    """What two findings must share to be merged: id and revision."""
    return finding.id, finding.origin.revision


_UNION_FIELDS = ("cwe_ids", "vulnerability_ids", "tags")
_SUPPRESSION_FIELDS = ("suppressed", "suppression")


def merge_duplicates(first: Finding, second: Finding) -> Finding:
    """One record for two findings with the same id (the SARIF and native JSON of one scan):
    the richer record (more fields filled) is the base, the other fills its empty fields, id
    lists and tags are united. The first record's origin is kept on a tie.

    Suppression: the merged finding is suppressed only when both are, then with both
    descriptions; when either is unsuppressed, so is the merged finding (no description)."""
    base, other = (second, first) if _richness(second) > _richness(first) else (first, second)
    changes: dict[str, object] = {}
    for f in fields(Finding):
        if f.name in _SUPPRESSION_FIELDS:
            continue
        mine, theirs = getattr(base, f.name), getattr(other, f.name)
        if f.name in _UNION_FIELDS:
            united = list(dict.fromkeys([*mine, *theirs]))
            if united != mine:
                changes[f.name] = united
        elif _empty(mine) and not _empty(theirs):
            changes[f.name] = theirs
    suppressed = base.suppressed and other.suppressed
    suppression = _merged_suppression(base, other) if suppressed else None
    if suppressed != base.suppressed or suppression != base.suppression:
        changes["suppressed"], changes["suppression"] = suppressed, suppression
    if not changes:
        return base
    return Finding(**{f.name: changes.get(f.name, getattr(base, f.name)) for f in fields(Finding)})


def _merged_suppression(base: Finding, other: Finding) -> str | None:
    """Both findings' suppression descriptions, each once, joined like SARIF's."""
    parts: list[str] = []
    for description in (base.suppression, other.suppression):
        for part in (description or "").split("; "):
            if part and part not in parts:
                parts.append(part)
    return "; ".join(parts) or None


def _empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value is False


def _richness(finding: Finding) -> int:
    return sum(not _empty(getattr(finding, f.name)) for f in fields(Finding))
