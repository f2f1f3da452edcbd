"""SARIF runs for findings read from native JSON reports: one run per tool.

A native report (Semgrep, Trivy, OSV-Scanner, ZAP JSON, ...) has no SARIF to keep, so its
findings are written as SARIF from the normalised (and redacted) records: the tool as the
driver, one rule per rule id (name, description, help, CWE tags, a ``security-severity``
that code scanning sorts by), and one result per finding with its location, snippet, related
locations, code flows and a ``vulntune/v1`` partial fingerprint (the finding id, stable across
scans). :mod:`vulntune.inference.sarif_result` then enriches each result like an original one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from vulntune.findings.record import Finding, Location, Severity

# SARIF levels and GitHub's security-severity scores (CVSS-like, 0-10) per severity.
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
FINGERPRINT_KEY = "vulntune/v1"


def native_run(tool: str, findings: Sequence[Finding]) -> dict[str, Any]:
    """A SARIF run of one result per finding (in order) for the findings of one tool."""
    first = findings[0]
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for finding in findings:
        if finding.rule_id not in rules:
            rules[finding.rule_id] = _rule(finding)
        result = _result(finding)
        result["ruleIndex"] = list(rules).index(finding.rule_id)  # few rules per run
        results.append(result)
    driver: dict[str, Any] = {"name": first.tool_full_name or tool, "rules": list(rules.values())}
    if first.tool_version:
        driver["version"] = first.tool_version
    return {"tool": {"driver": driver}, "results": results}


def _rule(finding: Finding) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": finding.rule_id}
    if finding.rule_name:
        rule["name"] = finding.rule_name
        rule["shortDescription"] = {"text": finding.rule_name}
    if finding.rule_description:
        rule["fullDescription"] = {"text": finding.rule_description}
    if finding.rule_help:
        rule["help"] = {"text": finding.rule_help}
    if finding.help_uri:
        rule["helpUri"] = finding.help_uri
    rule["defaultConfiguration"] = {"level": _LEVEL[finding.severity]}
    tags = ["security", *finding.cwe_ids, *(t for t in finding.tags if t not in finding.cwe_ids)]
    rule["properties"] = {
        "tags": list(dict.fromkeys(tags)),
        "security-severity": _SECURITY_SEVERITY[finding.severity],
    }
    return rule


def _result(finding: Finding) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "partialFingerprints": {FINGERPRINT_KEY: finding.id},
    }
    location = _location(finding.location, finding.snippet)
    if location is not None:
        result["locations"] = [location]
    related = [
        loc
        for index, raw in enumerate(finding.related_locations)
        if (loc := _location(raw, None, index + 1)) is not None
    ]
    if related:
        result["relatedLocations"] = related
    flows = []
    for flow in finding.code_flows:
        steps = [{"location": loc} for raw in flow if (loc := _location(raw, None)) is not None]
        if steps:
            flows.append({"threadFlows": [{"locations": steps}]})
    if flows:
        result["codeFlows"] = flows
    if finding.suppressed:
        result["suppressions"] = [{"kind": "external", "justification": finding.suppression or ""}]
    properties: dict[str, Any] = {"severity": finding.severity.value}
    if finding.original_severity:
        properties["originalSeverity"] = finding.original_severity
    if finding.vulnerability_ids:
        properties["vulnerabilityIds"] = list(finding.vulnerability_ids)
    if finding.package is not None:
        package = finding.package
        properties["package"] = {
            key: value
            for key, value in (
                ("ecosystem", package.ecosystem),
                ("name", package.name),
                ("installedVersion", package.installed_version),
                ("fixedVersions", list(package.fixed_versions)),
            )
            if value
        }
    if finding.web is not None:
        properties["url"] = finding.web.url
        if finding.web.method:
            properties["method"] = finding.web.method
    result["properties"] = properties
    return result


def _location(loc: Location | None, snippet: str | None, id_: int | None = None) -> Any:
    """A SARIF location, or None when ``loc`` names neither a file nor a message."""
    if loc is None or (loc.path is None and loc.message is None):
        return None
    out: dict[str, Any] = {}
    if id_ is not None:
        out["id"] = id_
    if loc.path is not None:
        physical: dict[str, Any] = {"artifactLocation": {"uri": quote(loc.path)}}
        region: dict[str, Any] = {}
        for key, value in (
            ("startLine", loc.start_line),
            ("startColumn", loc.start_column),
            ("endLine", loc.end_line),
            ("endColumn", loc.end_column),
        ):
            if value is not None:
                region[key] = value
        if region and snippet:
            region["snippet"] = {"text": snippet}
        if region:
            physical["region"] = region
        out["physicalLocation"] = physical
    if loc.message is not None:
        out["message"] = {"text": loc.message}
    return out
