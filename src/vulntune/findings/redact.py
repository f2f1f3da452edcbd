"""Secret redaction of findings: nothing that looks like a credential leaves the ingester.

Markers and the generic detectors are in :mod:`vulntune.findings.secret_patterns`; this
module applies them to every text of a finding and adds what secret scanners know:

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
from dataclasses import dataclass
from functools import lru_cache

from vulntune.findings.record import (
    CodeContext,
    Finding,
    FindingKind,
    Fix,
    Location,
    WebInstance,
    WebTarget,
)
from vulntune.findings.secret_patterns import (
    ASSIGNMENT,
    MARKER_PREFIX,
    MARKER_RE,
    MASKED,
    is_placeholder,
    length_class,
    looks_random,
    marker,
    redact_text,
    word_coverage,
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

SECRET_SCANNERS = frozenset({"gitleaks", "trufflehog", "detect-secrets", "ggshield", "talisman"})


# --------------------------------------------------------------------------------------------
# Secret findings: the scanner told us what the secret is.
# --------------------------------------------------------------------------------------------

_SECRET_TAG = re.compile(r"(?i)(?<![a-z])secrets?(?![a-z])")
_SECRET_RULE = re.compile(
    r"(?i)(?<![a-z])secrets?(?![a-z])|hard-?coded-(?:password|credential|key|token)"
    r"|private-key|api-key|access-key"
)
_ANYASSIGNMENT = re.compile(r"\s*[\"']?[\w.-]+[\"']?\s*(?::=|=>|=|:)\s*(?P<rest>.+)")
_QUOTED = re.compile(r"\"([^\"\n]{4,})\"|'([^'\n]{4,})'")
_TOKEN = re.compile(r"[^\s\"'`=:,;(){}\[\]<>]{8,}")


def is_secret_finding(finding: Finding) -> bool:
    """True for findings whose snippet *is* a secret: kind ``secret``, a secret scanner, a rule
    tagged ``secret``/``secrets``, or a rule id naming a secret/credential detector."""
    return (
        finding.kind is FindingKind.SECRET
        or finding.tool in SECRET_SCANNERS
        or _is_secret_rule(finding.rule_id)
        or any(_is_secret_tag(tag) for tag in finding.tags)
    )


# A report has few distinct rules and tags but many findings: remember the answers.
@lru_cache(maxsize=8192)
def _is_secret_rule(rule_id: str) -> bool:
    return bool(_SECRET_RULE.search(rule_id))


@lru_cache(maxsize=8192)
def _is_secret_tag(tag: str) -> bool:
    return bool(_SECRET_TAG.search(tag))


def secret_values(snippet: str) -> list[str]:
    """The strings of a secret-scanner match that must never be stored, longest first:
    assigned and quoted values and random-looking tokens, or a whole line of the match where
    it holds none of those (a bare secret). Masked values (``AKIA****``) are kept as they are;
    see _value_regex."""
    inner: set[str] = set()
    for m in ASSIGNMENT.finditer(snippet):
        value = next(v for v in m.group("dq", "sq", "bq", "bare") if v is not None)
        if len(value) >= 4:
            inner.add(value)
    for m in _QUOTED.finditer(snippet):
        inner.add(m.group(1) or m.group(2))
    inner.update(token for token in _TOKEN.findall(snippet) if word_coverage(token) < 0.5)
    for line in snippet.splitlines():
        # Any key: KEY=value, "Authorization: Bearer ...": the rest of the line is the secret.
        if m := _ANYASSIGNMENT.match(line):
            rest = m.group("rest").strip().rstrip(";,").strip()
            if rest[:1] in ("'", '"', "`") and rest[0] in rest[1:]:
                rest = rest[1 : rest.index(rest[0], 1)]
            if len(rest) >= 4:
                inner.add(rest)
    inner = {v for v in inner if MARKER_PREFIX not in v and not is_placeholder(v)}
    values = set(inner)
    for line in snippet.splitlines():
        line = line.strip()
        if len(line) >= 4 and not any(v in line for v in inner) and not is_placeholder(line):
            values.add(line)
    return sorted(values, key=lambda v: (-len(v), v))


def _value_regex(value: str) -> str:
    """A regex for one secret value; in a masked value each ``*`` stands for one unknown
    character, so the real secret in the source file is found too."""
    if "***" in value:
        return "".join(r"[^\s\"'`]" if c == "*" else re.escape(c) for c in value)
    return re.escape(value)


@dataclass(frozen=True)
class _Flagged:
    """A region a secret scanner flagged: its lines hold a secret even where the scanner's
    match was masked and cannot be found in them."""

    location: Location
    rule: str


def _distinctive(value: str) -> bool:
    return len(value) >= 6 and not (value.isalpha() and len(value) < 10)


class SecretIndex:
    """What the secret scanners of one ingest reported: the secret values and the flagged
    lines. Redacting with the index removes a secret from *every* finding, not only its own:
    a secret on line 3 also shows in the code context of a finding on line 5."""

    def __init__(self) -> None:
        self._rules: dict[str, str] = {}  # secret value -> rule that reported it
        self._flagged: dict[str, list[_Flagged]] = {}  # path -> flagged regions
        self._pattern: re.Pattern[str] | None = None
        self._pattern_rules: list[str] = []

    def add(self, finding: Finding, weak_values: bool = False) -> None:
        """Learn the secret of ``finding`` (ignored unless it is a secret finding). Short or
        plain-word values ("admin", "password") are kept only with ``weak_values`` (for the
        finding's own texts): anywhere else they would blank out ordinary words."""
        if not is_secret_finding(finding):
            return
        for value in secret_values(finding.snippet or ""):
            if weak_values or _distinctive(value):
                self._rules.setdefault(value, finding.rule_id)
        self._pattern = None
        loc = finding.location
        if loc is not None and loc.path and loc.start_line is not None:
            self._flagged.setdefault(loc.path, []).append(_Flagged(loc, finding.rule_id))

    def __bool__(self) -> bool:
        return bool(self._rules or self._flagged)

    def known(self, text: str, masked: bool = False) -> tuple[str, bool]:
        """``text`` with every known secret value replaced (and with ``masked``, any
        asterisk-masked value too); and whether anything was replaced."""
        count = 0
        if self._rules:
            pattern = self._compiled()
            text, count = pattern.subn(self._replace, text)
        if masked and "***" in text:
            text, n = MASKED.subn(lambda m: marker("masked-secret", len(m.group(0))), text)
            count += n
        return text, count > 0

    def flagged(self, path: str, line: int) -> _Flagged | None:
        """The flagged region of ``path`` that covers ``line``, if any."""
        for region in self._flagged.get(path, ()):
            start = region.location.start_line or 0
            if start <= line <= (region.location.end_line or start):
                return region
        return None

    def _compiled(self) -> re.Pattern[str]:
        if self._pattern is None:
            # Longest first, so that where two values start at one place the longer wins.
            values = sorted(self._rules, key=lambda v: (-len(v), v))
            self._pattern = re.compile("|".join(f"({_value_regex(v)})" for v in values))
            self._pattern_rules = [self._rules[v] for v in values]
        return self._pattern

    def _replace(self, m: re.Match[str]) -> str:
        return marker(self._pattern_rules[(m.lastindex or 1) - 1], len(m.group(0)))


# --------------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------------


def redact_finding(finding: Finding, index: SecretIndex | None = None) -> Finding:
    """``finding`` with every secret replaced by a marker; the same object when nothing was
    found, otherwise a new Finding with ``redacted=True``. ``index`` holds the secrets of all
    findings of the ingest (see :class:`SecretIndex`); without it, only this finding's own."""
    secret = is_secret_finding(finding)
    indexes: list[SecretIndex] = []
    if secret:  # its own values, weak ones included, come first
        own = SecretIndex()
        own.add(finding, weak_values=True)
        indexes.append(own)
    if index:
        indexes.append(index)

    def text(value: str | None) -> str | None:
        if value is None:
            return None
        for known in indexes:
            value = known.known(value, masked=secret)[0]
        return redact_text(value)

    changes: dict[str, object] = {}
    if secret and finding.snippet and finding.snippet.strip():
        changes["snippet"] = marker(finding.rule_id, len(finding.snippet))
    else:
        changes["snippet"] = text(finding.snippet)
    changes["message"] = text(finding.message)
    changes["suppression"] = text(finding.suppression)  # justifications are free text
    changes["help_uri"] = text(finding.help_uri)  # a URL can carry credentials
    if secret:  # Trivy repeats the match in the rule text of secret rules
        changes["rule_description"] = text(finding.rule_description)
        changes["rule_help"] = text(finding.rule_help)
    changes["location"] = _redact_location(finding.location, text)
    changes["related_locations"] = _redact_locations(finding.related_locations, text)
    changes["code_flows"] = [_redact_locations(flow, text) for flow in finding.code_flows]
    changes["context"] = _redact_context(finding.context, indexes, text)
    changes["fix"] = _redact_fix(finding.fix, text)
    changes["web"] = _redact_web(finding.web, text)

    changed = {
        k: v for k, v in changes.items() if v is not (old := getattr(finding, k)) and v != old
    }
    if not changed:
        return finding
    return dataclasses.replace(finding, redacted=True, **changed)


_TextFn = Callable[[str | None], str | None]


def _redact_location(loc: Location | None, text: _TextFn) -> Location | None:
    if loc is None or loc.message is None:
        return loc
    message = text(loc.message)
    return loc if message == loc.message else dataclasses.replace(loc, message=message)


def _redact_locations(locs: list[Location], text: _TextFn) -> list[Location]:
    new = [_redact_location(loc, text) for loc in locs]
    return locs if new == locs else new


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
            line, hit = index.known(line)
            found = found or hit
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
