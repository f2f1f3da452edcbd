"""What the secret scanners of one ingest reported, and how a secret finding is recognised.

A secret finding (kind ``secret``, a secret scanner such as gitleaks, a rule tagged
``secret``, or a rule id naming a secret detector) carries its secret in the snippet:
:func:`secret_values` takes the values out of the scanner's match (assigned and quoted values,
random-looking tokens, the rest of a ``KEY=...`` line, or the bare match; Trivy's ``AKIA****``
masked values become patterns with one unknown character per ``*``). :class:`SecretIndex`
keeps the values and the flagged lines of *all* secret findings of an ingest, so that
:mod:`vulntune.findings.redact` removes a secret from every finding, not only its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from vulntune.findings.record import Finding, FindingKind, Location
from vulntune.findings.secrets.patterns import (
    ASSIGNMENT,
    MARKER_PREFIX,
    MASKED,
    is_placeholder,
    marker,
    word_coverage,
)

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
        or _has_secret_tag(tuple(finding.tags))
    )


# A report has few distinct rules and tag lists but many findings: remember the answers.
@lru_cache(maxsize=8192)
def _is_secret_rule(rule_id: str) -> bool:
    return bool(_SECRET_RULE.search(rule_id))


@lru_cache(maxsize=8192)
def _has_secret_tag(tags: tuple[str, ...]) -> bool:
    return any(_SECRET_TAG.search(tag) for tag in tags)


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
class FlaggedRegion:
    """A region a secret scanner flagged: its lines hold a secret even where the scanner's
    match was masked and cannot be found in them."""

    location: Location
    rule: str


@dataclass(frozen=True, slots=True)
class Replacement:
    """A text with the known secrets replaced, and whether there was any."""

    text: str
    found: bool


def _distinctive(value: str) -> bool:
    return len(value) >= 6 and not (value.isalpha() and len(value) < 10)


MIN_MASKED_VISIBLE = 4  # characters a masked value must show to be searched for elsewhere


def _searchable(value: str) -> bool:
    """Whether a value may be searched for in *other* findings' texts. A masked value
    (``"CK**********"``, Checkov's mask) is searched for only when its visible part is
    distinctive (Trivy's ``AKIA****************``): two visible characters and ten unknown
    ones match ordinary code (``#checkov:skip=CKV2_AWS_6``). The secret's own line is still
    covered by its flagged region."""
    if "***" not in value:
        return True
    visible = [part for part in re.split(r"\*{3,}", value.strip("\"'`")) if part]
    return any(len(part) >= MIN_MASKED_VISIBLE for part in visible)


class SecretIndex:
    """What the secret scanners of one ingest reported: the secret values and the flagged
    lines. Redacting with the index removes a secret from *every* finding, not only its own:
    a secret on line 3 also shows in the code context of a finding on line 5."""

    def __init__(self) -> None:
        self._rules: dict[str, str] = {}  # secret value -> rule that reported it
        self._flagged: dict[str, list[FlaggedRegion]] = {}  # path -> flagged regions
        self._pattern: re.Pattern[str] | None = None
        self._pattern_rules: list[str] = []

    def add(self, finding: Finding, weak_values: bool = False) -> bool:
        """Learn the secret of ``finding`` (ignored unless it is a secret finding); returns
        whether it is one. Short or plain-word values ("admin", "password") are kept only
        with ``weak_values`` (for the finding's own texts): anywhere else they would blank
        out ordinary words."""
        if not is_secret_finding(finding):
            return False
        for value in secret_values(finding.snippet or ""):
            if weak_values or (_distinctive(value) and _searchable(value)):
                self._rules.setdefault(value, finding.rule_id)
        self._pattern = None
        loc = finding.location
        if loc is not None and loc.path and loc.start_line is not None:
            self._flagged.setdefault(loc.path, []).append(FlaggedRegion(loc, finding.rule_id))
        return True

    def __bool__(self) -> bool:
        return bool(self._rules or self._flagged)

    def known(self, text: str, masked: bool = False) -> Replacement:
        """``text`` with every known secret value replaced (and with ``masked``, any
        asterisk-masked value too), and whether anything was replaced."""
        count = 0
        if self._rules:
            pattern = self._compiled()
            text, count = pattern.subn(self._replace, text)
        if masked and "***" in text:
            text, n = MASKED.subn(lambda m: marker("masked-secret", len(m.group(0))), text)
            count += n
        return Replacement(text, count > 0)

    def flagged(self, path: str, line: int) -> FlaggedRegion | None:
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
