"""Tool names -> canonical tool families, and what kind of finding a tool's rule reports.

Part of the parser helper interface re-exported by :mod:`vulntune.findings.common`.
"""

from __future__ import annotations

import re
from typing import Any

from vulntune.findings.identifiers import is_vulnerability_id
from vulntune.findings.record import FindingKind

# Substring (lowercased) -> canonical tool family. First match wins, so longer names first.
_TOOL_FAMILIES: list[tuple[str, str]] = [
    ("semgrep", "semgrep"),
    ("codeql", "codeql"),
    ("trivy", "trivy"),
    ("checkov", "checkov"),
    ("gitleaks", "gitleaks"),
    ("bandit", "bandit"),
    ("devskim", "devskim"),
    ("osv-scanner", "osv-scanner"),
    ("osv scanner", "osv-scanner"),
    ("osv_scanner", "osv-scanner"),
    ("owasp zap", "zap"),
    ("zed attack proxy", "zap"),
    ("zap", "zap"),
    ("pip-audit", "pip-audit"),
    ("pip audit", "pip-audit"),
    ("npm audit", "npm-audit"),
    ("npm-audit", "npm-audit"),
    ("dependency-check", "dependency-check"),
    ("grype", "grype"),
    ("snyk", "snyk"),
    ("tfsec", "tfsec"),
    ("kics", "kics"),
    ("hadolint", "hadolint"),
    ("gosec", "gosec"),
    ("brakeman", "brakeman"),
    ("trufflehog", "trufflehog"),
    ("detect-secrets", "detect-secrets"),
    ("eslint", "eslint"),
    ("sonar", "sonarqube"),
    ("psalm", "psalm"),
    ("spotbugs", "spotbugs"),
]

# What a tool family's findings are about when nothing more specific is known.
_TOOL_KINDS: dict[str, FindingKind] = {
    "trivy": FindingKind.DEPENDENCY,
    "grype": FindingKind.DEPENDENCY,
    "osv-scanner": FindingKind.DEPENDENCY,
    "pip-audit": FindingKind.DEPENDENCY,
    "npm-audit": FindingKind.DEPENDENCY,
    "dependency-check": FindingKind.DEPENDENCY,
    "snyk": FindingKind.DEPENDENCY,
    "checkov": FindingKind.CONFIG,
    "tfsec": FindingKind.CONFIG,
    "kics": FindingKind.CONFIG,
    "hadolint": FindingKind.CONFIG,
    "gitleaks": FindingKind.SECRET,
    "trufflehog": FindingKind.SECRET,
    "detect-secrets": FindingKind.SECRET,
    "zap": FindingKind.WEB,
}


def canonical_tool(name: Any) -> str:
    """The lowercase tool family for a tool's self-given name: ``"Semgrep OSS"`` -> ``"semgrep"``,
    ``"CodeQL"`` -> ``"codeql"``, ``"Trivy"`` -> ``"trivy"``. Unknown names are lowercased with
    runs of other characters turned into ``-``; a missing name gives ``"unknown"``."""
    if not isinstance(name, str) or not name.strip():
        return "unknown"
    lowered = name.strip().lower()
    for needle, family in _TOOL_FAMILIES:
        if needle in lowered:
            return family
    return re.sub(r"[^a-z0-9.+]+", "-", lowered).strip("-") or "unknown"


def default_kind(tool: str) -> FindingKind:
    """The usual FindingKind of a canonical tool family (code for SAST tools and unknowns)."""
    return _TOOL_KINDS.get(tool, FindingKind.CODE)


# Code analyzers whose rules may be named after an advisory without being about a package.
_CODE_ANALYZERS = frozenset(
    {"codeql", "bandit", "devskim", "gosec", "eslint", "brakeman", "psalm", "spotbugs"}
)
_TRIVY_RULE_NAME_KINDS = {
    "ospackagevulnerability": FindingKind.DEPENDENCY,
    "languagespecificpackagevulnerability": FindingKind.DEPENDENCY,
    "license": FindingKind.DEPENDENCY,
    "misconfiguration": FindingKind.CONFIG,
    "secret": FindingKind.SECRET,
}
# Semgrep registry rule ids start with the language/target; these targets are configuration.
_SEMGREP_CONFIG_PREFIXES = (
    "dockerfile.",
    "terraform.",
    "hcl.",
    "yaml.",
    "json.",
    "generic.nginx.",
    "generic.dockerfile.",
)


def classify_kind(
    tool: str,
    rule_id: str,
    rule_name: str | None = None,
    has_package: bool = False,
) -> FindingKind:
    """What a finding is about, from the canonical tool family and the rule.

    Shared by the SARIF and native parsers so that one scan's findings get the same kind in
    both formats. Trivy: by rule class (SARIF rule name) or id; Checkov: secrets and CVEs
    apart from configuration checks; Semgrep: secrets rules, supply-chain findings, and
    configuration targets (Dockerfile, Terraform, YAML, ...) apart from code.
    """
    rule_lower = rule_id.lower()
    if tool == "trivy":
        by_name = _TRIVY_RULE_NAME_KINDS.get((rule_name or "").lower())
        if by_name is not None:
            return by_name
        if has_package or is_vulnerability_id(rule_id):
            return FindingKind.DEPENDENCY
        if re.fullmatch(r"(?:AVD-)?[A-Z]+-?\d+", rule_id):  # DS002, KSV001, AVD-AWS-0086
            return FindingKind.CONFIG
        if re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)+", rule_id):  # aws-access-key-id
            return FindingKind.SECRET
        return FindingKind.DEPENDENCY
    if tool == "checkov":
        if rule_lower.startswith("ckv_secret"):
            return FindingKind.SECRET
        if has_package or is_vulnerability_id(rule_id):
            return FindingKind.DEPENDENCY
        return FindingKind.CONFIG
    if tool == "semgrep":
        if ".secrets." in rule_lower or rule_lower.startswith("secrets."):
            return FindingKind.SECRET
        if has_package or rule_lower.startswith("ssc-"):
            return FindingKind.DEPENDENCY
        if rule_lower.startswith(_SEMGREP_CONFIG_PREFIXES):
            return FindingKind.CONFIG
        return FindingKind.CODE
    if has_package:
        return FindingKind.DEPENDENCY
    kind = default_kind(tool)
    if kind is FindingKind.CODE and tool not in _CODE_ANALYZERS and is_vulnerability_id(rule_id):
        return FindingKind.DEPENDENCY  # an unknown tool reporting an advisory by its id
    return kind
