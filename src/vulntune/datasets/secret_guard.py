"""Keeping secrets out of datasets that read source files and git history again.

Ingest redacts every finding, but the fix sources read the source tree and the history
afresh, where a committed credential is still in clear. :class:`SecretGuard` learns each
secret finding's value from those raw lines (its flagged lines at its own revision) and then
redacts every text read from the sources the way ingest does
(:func:`vulntune.findings.redact.redact_lines`: the known values everywhere, the lines a
secret scanner flagged at that revision, the generic detectors on every line), so that a
prompt's code, a diff's lines and the code a prompt shows agree, marker for marker.

:meth:`SecretGuard.is_clean` is the last check every prompt and completion passes before it
is written: no known value in it, and nothing the generic detectors would redact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from vulntune.findings.record import Finding
from vulntune.findings.redact import (
    MARKER_RE,
    SecretIndex,
    is_secret_finding,
    redact_lines,
    redact_text,
    secret_values,
)

_MIN_VALUE_CHARS = 6  # shorter "values" (a bare word) would blank out ordinary code


class SecretGuard:
    """The secrets of one dataset build and the redaction of what is read from the sources."""

    def __init__(self) -> None:
        self._values_index = SecretIndex()  # values only: they are secrets at every revision
        self._flagged: dict[str | None, SecretIndex] = {}  # revision -> flagged lines there
        self._values: set[str] = set()
        self._by_finding: dict[str, set[str]] = {}

    def learn(self, finding: Finding, raw_lines: Sequence[str], revision: str | None) -> None:
        """Learn the secret of ``finding`` (a secret finding; others are ignored) from
        ``raw_lines``, its file as the scanner saw it (at ``revision``)."""
        if not is_secret_finding(finding):
            return
        loc = finding.location
        if loc is None or not loc.path or not loc.start_line or loc.start_line > len(raw_lines):
            return
        end = min(max(loc.start_line, loc.end_line or loc.start_line), len(raw_lines))
        region = "\n".join(raw_lines[loc.start_line - 1 : end])
        values = [v for v in secret_values(region) if len(v) >= _MIN_VALUE_CHARS]
        self._values.update(values)
        self._by_finding.setdefault(finding.id, set()).update(values)
        as_read = dataclasses.replace(finding, snippet=region)
        self._values_index.add(dataclasses.replace(as_read, location=None))
        self._flagged.setdefault(revision, SecretIndex()).add(as_read)

    @property
    def known_values(self) -> frozenset[str]:
        """The secret values learnt so far (for tests and checks; never written anywhere)."""
        return frozenset(self._values)

    def redact(
        self, path: str, lines: Sequence[str], first_line: int = 1, revision: str | None = None
    ) -> list[str]:
        """``lines`` of ``path`` (``lines[0]`` is line ``first_line`` of the file at
        ``revision``) with every secret replaced by a redaction marker."""
        indexes = [self._values_index]
        flagged = self._flagged.get(revision)
        if flagged is not None:
            indexes.append(flagged)
        return redact_lines(list(lines), first_line, path, indexes)

    def redact_text(self, text: str) -> str:
        """A free text (a commit subject, a rule's help) with known and generic secrets
        replaced by markers."""
        if not text:
            return text
        return redact_text(self._values_index.known(text).text)

    def still_present(self, text: str, finding_id: str | None = None) -> bool:
        """True when ``text`` (raw, unredacted source) still holds a known secret value
        (one of ``finding_id``'s, when given)."""
        values = self._values if finding_id is None else self._by_finding.get(finding_id, ())
        return any(value in text for value in values)

    def is_clean(self, text: str) -> bool:
        """True when ``text`` holds no known secret value and nothing the generic detectors
        would redact (redaction markers themselves are fine)."""
        if any(value in text for value in self._values):
            return False
        return redact_text(text) == text


def has_marker(text: str) -> bool:
    """True when ``text`` holds a redaction marker."""
    return MARKER_RE.search(text) is not None
