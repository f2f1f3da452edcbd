"""How individual tools bend SARIF 2.1.0, and the rules that read around it.

- Trivy writes package name, installed and fixed version only into the message text
  (``"Package: ...\\nInstalled Version: ...\\nVulnerability CVE-...\\nSeverity: ...\\n..."``),
  and its severity word is more faithful to its native JSON than ``security-severity``.
- Bandit keeps its own severity in ``properties.issue_severity``, DevSkim in
  ``properties.DevSkimSeverity``; their SARIF ``level`` loses a step of precision.
- Semgrep writes no result ``level``: the rule's ``defaultConfiguration.level`` applies.
- DevSkim's fix replacements name only a character offset; the result's region has the lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from vulntune.findings.common import (
    severity_from_level,
    severity_from_score,
    severity_from_word,
    split_versions,
)
from vulntune.findings.record import Package, Severity
from vulntune.findings.sarif.model import Result
from vulntune.findings.sarif.run import SarifRule, SarifRun, mapping

SarifLevel = Literal["error", "warning", "note", "none"]
_LEVELS: tuple[SarifLevel, ...] = ("error", "warning", "note", "none")
_NO_PROPERTIES: Mapping[str, Any] = {}
# SARIF result kinds that are not a failure: their level defaults to "none" (SARIF 3.27.10).
_NON_FAILURE_KINDS = ("pass", "notApplicable", "informational", "open", "review")
# Per tool, result/rule property names that hold the tool's own severity word.
_SEVERITY_PROPERTIES: dict[str, tuple[str, ...]] = {
    "bandit": ("issue_severity",),
    "devskim": ("DevSkimSeverity",),
}
_GENERIC_SEVERITY_PROPERTIES = ("severity", "Severity")
_WORD_KEYS = {
    tool: keys + _GENERIC_SEVERITY_PROPERTIES for tool, keys in _SEVERITY_PROPERTIES.items()
}

# "Label: value" lines of Trivy's message text; "Vulnerability", "Secret" and "License" are
# followed by a space instead of a colon.
_TRIVY_LINE_RE = re.compile(
    r"^[ \t]*(?:(Package|Installed Version|Fixed Version|Severity|Artifact|Type|Message|Match"
    r"|PkgName|Link):|(Vulnerability|Secret|License) )[ \t]*(.*?)[ \t\r]*$",
    re.MULTILINE,
)


def parse_trivy_message(text: str) -> dict[str, str]:
    """The labelled lines of a Trivy SARIF message as ``{label: value}`` (values stripped;
    an empty ``Fixed Version:`` gives ``""``; the first line of a label counts)."""
    fields: dict[str, str] = {}
    for match in _TRIVY_LINE_RE.finditer(text):
        fields.setdefault(match.group(1) or match.group(2), match.group(3))
    return fields


def trivy_package(fields: Mapping[str, str]) -> Package | None:
    """The vulnerable package named in a parsed Trivy message; None for non-package results."""
    name = fields.get("Package")
    if not name:
        return None
    return Package(
        name=name,
        installed_version=fields.get("Installed Version") or None,
        fixed_versions=split_versions(fields.get("Fixed Version", "")),
    )


@dataclass(slots=True)
class SeverityChoice:
    """The normalised severity and the tool's own value it came from."""

    severity: Severity
    original: str | None


def sarif_level(level: Any, kind: Any, rule_default_level: Any) -> SarifLevel:
    """The effective SARIF level of a result with ``level`` and ``kind``: its own, else (for
    failures) the rule's default, else ``"warning"``; results of a non-failure ``kind``
    default to ``"none"``."""
    for known in _LEVELS:  # the level as its Literal (a str compared, not trusted)
        if level == known:
            return known
    if kind in _NON_FAILURE_KINDS:
        return "none"
    for known in _LEVELS:
        if rule_default_level == known:
            return known
    return "warning"


def choose_severity(
    result: Result[Any],
    rule: SarifRule | None,
    run: SarifRun,
    trivy_fields: Mapping[str, str] | None,
) -> SeverityChoice:
    """Severity of one SARIF result of ``run`` (its ``level`` and ``kind``, and of ``rule``
    its properties and default level), most specific source first: the tool's own severity
    word (Trivy message as ``trivy_fields``, Bandit/DevSkim properties, a ``severity``
    property; result, then rule), then ``security-severity`` (result, then rule), then the
    effective level.

    The part decided by the rule and the result's level, which is the same for most results
    of a rule, is remembered in the run (:attr:`SarifRun.severity_memo`).
    """
    if trivy_fields:
        word = trivy_fields.get("Severity")
        found = severity_from_word(word)
        if found is not None:
            return SeverityChoice(found, word)
    word_keys = _WORD_KEYS.get(run.tool, _GENERIC_SEVERITY_PROPERTIES)
    result_props = mapping(result.properties)
    if result_props:
        for key in word_keys:
            value = result_props.get(key)
            found = severity_from_word(value) if value is not None else None
            if found is not None:
                return SeverityChoice(found, value)
    rule_props = rule.properties if rule is not None else _NO_PROPERTIES
    default_level = rule.default_level if rule is not None else None
    if "security-severity" in result_props:
        return _rule_level_severity(result, result_props, rule_props, default_level, word_keys)
    level, kind = result.level, result.kind
    memo_key = (
        id(rule_props),  # the rule's properties live as long as the run's memo
        default_level,
        level if type(level) is str else None,
        kind if type(kind) is str else None,
    )
    choice = run.severity_memo.get(memo_key)
    if choice is None:
        choice = _rule_level_severity(result, result_props, rule_props, default_level, word_keys)
        run.severity_memo[memo_key] = choice
    return choice


def _rule_level_severity(
    result: Result[Any],
    result_props: Mapping[str, Any],
    rule_props: Mapping[str, Any],
    rule_default_level: str | None,
    word_keys: tuple[str, ...],
) -> SeverityChoice:
    """What the rule's severity word, a ``security-severity`` score or the effective level
    say (:func:`choose_severity` after the tool's own words)."""
    for key in word_keys:
        value = rule_props.get(key)
        found = severity_from_word(value)
        if found is not None:
            return SeverityChoice(found, value)
    for props in (result_props, rule_props):
        score = props.get("security-severity")
        found = severity_from_score(score)
        if found is not None:
            return SeverityChoice(found, str(score).strip())
    effective = sarif_level(result.level, result.kind, rule_default_level)
    return SeverityChoice(severity_from_level(effective) or Severity.MEDIUM, effective)
