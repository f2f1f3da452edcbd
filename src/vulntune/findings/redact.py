"""Secret redaction of findings: nothing that looks like a credential leaves the ingester.

Markers and the generic detectors are in :mod:`vulntune.findings.secrets.patterns`, what
secret scanners report in :mod:`vulntune.findings.secrets.index`; this module applies both to
every text of a finding:

- Secret findings (kind ``secret``, a secret scanner such as gitleaks, a rule tagged
  ``secret``, or a rule id naming a secret detector): the whole snippet becomes one marker;
  the secret values in the scanner's match (assigned and quoted values, random-looking
  tokens, the rest of a ``KEY=...`` line, or the bare match; Trivy's ``AKIA****`` masked
  values become patterns with one unknown character per ``*``) are replaced wherever they
  appear: message, rule text (Trivy repeats the match there), code context, fix, locations.
- :class:`SecretIndex` carries those values and the flagged lines of *all* secret findings of
  an ingest, so a secret also disappears from the code context of the finding on the next
  line. A flagged source line where no known value is found (the scanner masked it) has its
  flagged column span, or without columns its whole content, replaced.
- Every finding: the generic detectors run on snippet, message, code context and enclosing
  signature, fix text, web evidence/attack/URL, location messages, suppression
  justification and help URL. Rule text of
  non-secret findings is static tool documentation and is left alone. The finding's
  ``location`` fields are never changed.

All functions are pure: a finding with nothing to redact is returned as is, otherwise a new
finding (with ``redacted=True``) whose changed parts are new objects.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

from vulntune.findings.record import (
    CodeContext,
    Finding,
    Fix,
    Location,
    WebInstance,
    WebTarget,
)
from vulntune.findings.secrets.index import (
    SECRET_SCANNERS,
    SecretIndex,
    is_secret_finding,
    secret_values,
)
from vulntune.findings.secrets.patterns import (
    MARKER_RE,
    length_class,
    looks_random,
    marker,
    redact_text,
)

__all__ = [  # the text-level API is re-exported: callers need one import for redaction
    "MARKER_RE",
    "SECRET_SCANNERS",
    "SecretIndex",
    "is_secret_finding",
    "length_class",
    "looks_random",
    "marker",
    "redact_finding",
    "redact_lines",
    "redact_text",
    "secret_values",
]

# --------------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------------


def redact_finding(
    finding: Finding, index: SecretIndex | None = None, secret: bool | None = None
) -> Finding:
    """``finding`` with every secret replaced by a marker; the same object when nothing was
    found, otherwise a new Finding with ``redacted=True``. ``index`` holds the secrets of all
    findings of the ingest (see :class:`SecretIndex`); without it, only this finding's own.
    ``secret``: whether it is a secret finding, where the caller knows it already (default:
    :func:`is_secret_finding`)."""
    if secret is None:
        secret = is_secret_finding(finding)
    indexes: list[SecretIndex] = []
    if secret:  # its own values, weak ones included, come first
        own = SecretIndex()
        own.add(finding, weak_values=True)
        indexes.append(own)
    if index:
        indexes.append(index)

    if indexes:

        def text(value: str | None) -> str | None:
            if value is None:
                return None
            for known in indexes:
                value = known.known(value, masked=secret).text
            return redact_text(value)

    else:
        text = _generic_only
    present_text = text if indexes else redact_text  # for values known not to be None

    # New values of the fields that may change (each part below comes back as the same object
    # when nothing in it changed); the finding is replaced only if one of them differs.
    changes: dict[str, object] = {}
    snippet = finding.snippet
    if secret and snippet and snippet.strip():
        changes["snippet"] = marker(finding.rule_id, len(snippet))
    elif snippet is not None:
        changes["snippet"] = present_text(snippet)
    # suppression: justifications are free text; help_uri: a URL can carry credentials;
    # rule text of secret findings: Trivy repeats the match there.
    for name in _SECRET_TEXT_FIELDS if secret else _TEXT_FIELDS:
        value = getattr(finding, name)
        if value is not None:
            changes[name] = present_text(value)
    if finding.location is not None and finding.location.message is not None:
        changes["location"] = _redact_location(finding.location, text)
    if finding.related_locations:
        changes["related_locations"] = _redact_locations(finding.related_locations, text)
    if finding.code_flows:
        changes["code_flows"] = _redact_flows(finding.code_flows, text)
    if finding.context is not None:
        changes["context"] = _redact_context(finding.context, indexes, text)
    if finding.fix is not None:
        changes["fix"] = _redact_fix(finding.fix, text)
    if finding.web is not None:
        changes["web"] = _redact_web(finding.web, text)

    changed = {
        k: v for k, v in changes.items() if v is not (old := getattr(finding, k)) and v != old
    }
    if not changed:
        return finding
    return dataclasses.replace(finding, redacted=True, **changed)


_TEXT_FIELDS = ("message", "suppression", "help_uri")
_SECRET_TEXT_FIELDS = (*_TEXT_FIELDS, "rule_description", "rule_help")
_TextFn = Callable[[str | None], str | None]


def _generic_only(value: str | None) -> str | None:
    return None if value is None else redact_text(value)


def _redact_location(loc: Location | None, text: _TextFn) -> Location | None:
    if loc is None or loc.message is None:
        return loc
    message = text(loc.message)
    return loc if message == loc.message else dataclasses.replace(loc, message=message)


def _redact_locations(locs: list[Location], text: _TextFn) -> list[Location]:
    """``locs`` itself when no location changed, else a new list (code flows have many steps:
    the loop is _redact_location inlined)."""
    new: list[Location] | None = None
    for position, loc in enumerate(locs):
        if loc.message is not None:
            message = text(loc.message)
            if message != loc.message:
                new = new or list(locs)
                new[position] = dataclasses.replace(loc, message=message)
    return locs if new is None else new


def _redact_flows(flows: list[list[Location]], text: _TextFn) -> list[list[Location]]:
    new = [_redact_locations(flow, text) for flow in flows]
    return flows if all(a is b for a, b in zip(new, flows, strict=True)) else new


def _redact_fix(fix: Fix | None, text: _TextFn) -> Fix | None:
    if fix is None:
        return None
    changes = [
        c
        if (t := text(c.inserted_text)) == c.inserted_text
        else dataclasses.replace(c, inserted_text=t)
        for c in fix.changes
    ]
    description = text(fix.description)
    if description == fix.description and changes == fix.changes:
        return fix
    return Fix(description=description, changes=changes)


def _redact_web(web: WebTarget | None, text: _TextFn) -> WebTarget | None:
    if web is None:
        return None
    instances = [
        WebInstance(
            url=text(i.url),
            method=i.method,
            parameter=i.parameter,
            evidence=text(i.evidence),
            attack=text(i.attack),
        )
        for i in web.instances
    ]
    new = WebTarget(
        url=text(web.url),
        method=web.method,
        parameter=web.parameter,
        evidence=text(web.evidence),
        instances=instances,
    )
    return web if new == web else new


def _redact_context(
    context: CodeContext | None, indexes: list[SecretIndex], text: _TextFn
) -> CodeContext | None:
    if context is None:
        return None
    lines = redact_lines(context.lines, context.start_line, context.path, indexes)
    enclosing = text(context.enclosing)
    if lines == context.lines and enclosing == context.enclosing:
        return context
    return dataclasses.replace(context, lines=lines, enclosing=enclosing)


def redact_lines(
    lines: list[str],
    first_line: int,
    path: str | None = None,
    indexes: Sequence[SecretIndex] = (),
) -> list[str]:
    """Redact source lines of ``path`` (``lines[0]`` is line ``first_line``). Known secret
    values of the indexes go first; a line a secret scanner flagged loses its secret even when
    the scanner's match was masked: its flagged column span, or its whole content, is
    replaced. A private key block spread over several lines is replaced line by line."""
    out: list[str] = []
    in_key = False
    for offset, line in enumerate(lines):
        number = first_line + offset
        if in_key:
            if re.search(r"-----END[A-Z0-9 ]*PRIVATE KEY", line):
                in_key = False
            indent = len(line) - len(line.lstrip())
            out.append(
                line[:indent] + marker("private-key", len(line) - indent) if line.strip() else line
            )
            continue
        if "PRIVATE KEY-----" in line and "-----BEGIN" in line and "-----END" not in line:
            in_key = True
        found = False
        region = None
        for index in indexes:
            replaced = index.known(line)
            line = replaced.text
            found = found or replaced.found
            if region is None and path is not None:
                region = index.flagged(path, number)
        if region is not None and not found:
            line = _replace_flagged_span(line, number, region.location, region.rule)
        out.append(redact_text(line))
    return out


def _replace_flagged_span(line: str, number: int, loc: Location, rule: str) -> str:
    indent = len(line) - len(line.lstrip())
    lo, hi = indent, len(line.rstrip())
    if loc.start_column is not None and number == loc.start_line:
        lo = max(lo, loc.start_column - 1)
    if loc.end_column is not None and number == (loc.end_line or loc.start_line):
        hi = min(hi, loc.end_column - 1)
    if hi <= lo:  # columns that do not fit the line: replace the whole content
        lo, hi = indent, len(line.rstrip())
    if hi <= lo:
        return line
    return line[:lo] + marker(rule, hi - lo) + line[hi:]
