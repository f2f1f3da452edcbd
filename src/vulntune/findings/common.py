"""Small helpers every scanner parser shares: severities, CWE and vulnerability ids, paths,
tool names, and how findings of one file that share an id are told apart (the same rule in the
SARIF and the native parsers). Trivy's own id rules are in
:mod:`vulntune.findings.native.trivy_ids`.

The names importable from here are a stable interface for all parser modules (SARIF and
native); identifiers, paths and tool families live in their own modules and are re-exported.
"""

from __future__ import annotations

import math
from typing import Any

from vulntune.findings.identifiers import (
    cwe_id,
    extract_cwe_ids,
    extract_vulnerability_ids,
    is_vulnerability_id,
    iter_strings,
    split_versions,
    string_list,
)
from vulntune.findings.paths import normalize_path, strip_ci_prefix, uri_to_path
from vulntune.findings.record import Finding, Location, Severity, fingerprint
from vulntune.findings.tools import canonical_tool, classify_kind, default_kind

__all__ = [
    "canonical_tool",
    "classify_kind",
    "cwe_id",
    "default_kind",
    "disambiguate_ids",
    "end_disambiguated_id",
    "end_key",
    "extract_cwe_ids",
    "extract_vulnerability_ids",
    "is_vulnerability_id",
    "iter_strings",
    "normalize_path",
    "normalize_severity",
    "severity_from_level",
    "severity_from_score",
    "severity_from_word",
    "split_versions",
    "string_list",
    "strip_ci_prefix",
    "text_of",
    "uri_to_path",
]


def text_of(value: Any) -> str | None:
    """A non-blank string with surrounding whitespace removed; None for anything else."""
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return None


# --------------------------------------------------------------------------------------------
# Severity
# --------------------------------------------------------------------------------------------

_SARIF_LEVELS: dict[str, Severity] = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "note": Severity.LOW,
    "none": Severity.INFO,
}

# Words tools use for severity, lowercased. SARIF levels are included so that one call handles
# any string a tool may put in a severity field.
_SEVERITY_WORDS: dict[str, Severity] = {
    "critical": Severity.CRITICAL,
    "blocker": Severity.CRITICAL,  # SonarQube
    "very high": Severity.CRITICAL,
    "high": Severity.HIGH,
    "important": Severity.HIGH,  # Red Hat
    "major": Severity.HIGH,
    "error": Severity.HIGH,  # Semgrep ERROR, SARIF error
    "err": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,  # npm audit, GitHub advisories
    "warning": Severity.MEDIUM,  # Semgrep WARNING, SARIF warning
    "warn": Severity.MEDIUM,
    "low": Severity.LOW,
    "minor": Severity.LOW,
    "note": Severity.LOW,  # SARIF note
    "info": Severity.INFO,  # Semgrep INFO; see severity_from_word docstring
    "informational": Severity.INFO,  # ZAP
    "information": Severity.INFO,
    "negligible": Severity.INFO,  # Grype, Debian
    "unimportant": Severity.INFO,  # Debian tracker
    "none": Severity.INFO,  # SARIF none, CVSS "None"
    "unknown": Severity.INFO,  # not scored yet: nothing to say about impact
    "unspecified": Severity.INFO,
    "bestpractice": Severity.LOW,  # DevSkim
    "best practice": Severity.LOW,
    "manualreview": Severity.INFO,  # DevSkim
    "manual review": Severity.INFO,
}


def severity_from_level(level: Any) -> Severity | None:
    """A SARIF ``level`` (error/warning/note/none) as a Severity; None when not a SARIF level."""
    if not isinstance(level, str):
        return None
    return _SARIF_LEVELS.get(level.strip().lower())


def severity_from_score(score: Any) -> Severity | None:
    """A CVSS-style 0-10 score (number or numeric string, e.g. SARIF ``security-severity``)
    as a Severity: critical >= 9.0, high >= 7.0, medium >= 4.0, low > 0, else info.

    Returns None for anything that is not a finite number in 0..10.
    """
    if isinstance(score, bool):
        return None
    if isinstance(score, str):
        try:
            value = float(score.strip())
        except ValueError:
            return None
    elif isinstance(score, (int, float)):
        value = float(score)
    else:
        return None
    if not math.isfinite(value) or value < 0 or value > 10:
        return None
    if value >= 9.0:
        return Severity.CRITICAL
    if value >= 7.0:
        return Severity.HIGH
    if value >= 4.0:
        return Severity.MEDIUM
    if value > 0:
        return Severity.LOW
    return Severity.INFO


def severity_from_word(word: Any) -> Severity | None:
    """A tool's severity word (case-insensitive) as a Severity; None when not recognised.

    Handles CRITICAL/HIGH/MEDIUM/LOW, ERROR/WARNING/INFO (Semgrep), moderate, negligible,
    unknown (-> info), informational, SARIF levels, and a few others. ``"INFO"`` maps to info;
    a parser whose tool means "low" by it should map that itself.
    """
    if not isinstance(word, str):
        return None
    return _SEVERITY_WORDS.get(" ".join(word.strip().lower().replace("_", " ").split()))


def normalize_severity(value: Any, default: Severity | None = None) -> Severity | None:
    """Any severity value a tool may write: a word, a SARIF level, or a 0-10 score (number or
    numeric string). Returns ``default`` when the value is missing or not recognised."""
    if value is None:
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return severity_from_score(value) or default
    if isinstance(value, str):
        return severity_from_word(value) or severity_from_score(value) or default
    return default


# --------------------------------------------------------------------------------------------
# Ids unique within one file
# --------------------------------------------------------------------------------------------


def disambiguate_ids(findings: list[Finding]) -> list[Finding]:
    """Give findings of one file that share an id distinct ids, the same way in every parser.

    Two results can share tool, rule, file and start position yet differ in where they end
    (Semgrep reports a 2-line and a 3-line match that start at the same column). When a group
    of findings with one id has more than one end, every member gets
    :func:`end_disambiguated_id`, so the outcome does not depend on the order of the findings,
    and the SARIF and native JSON of one scan still agree when both parsers follow this.
    Findings that share the end too are one finding reported twice: they keep their id, the
    one a single report of them gets, and de-duplication keeps one of them. Mutates and
    returns ``findings``.
    """
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.id, []).append(finding)
    for group in groups.values():
        if len(group) < 2 or len({end_key(f.location) for f in group}) < 2:
            continue
        for finding in group:
            finding.id = end_disambiguated_id(finding.tool, finding.id, finding.location)
    return findings


def end_key(location: Location | None) -> str:
    """Where a finding ends, as :func:`disambiguate_ids` compares it: ``"line:column"``."""
    if location is None:
        return ":"
    return f"{location.end_line or ''}:{location.end_column or ''}"


def end_disambiguated_id(tool: str, finding_id: str, location: Location | None) -> str:
    """The id of a finding whose id is shared, within its file, by findings ending elsewhere."""
    return fingerprint(tool, finding_id, extra=f"end={end_key(location)}")
