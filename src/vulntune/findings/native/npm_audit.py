"""npm audit's native JSON output (``npm audit --json``).

- v1 (npm 6, also pnpm): ``{"actions": [...], "advisories": {"<id>": {"id", "module_name",
  "title", "severity", "cwe", "cves", "github_advisory_id", "vulnerable_versions",
  "patched_versions", "overview", "recommendation", "url", "findings": [{"version",
  "paths"}]}}, "muted", "metadata"}``. One finding per advisory and installed version;
  ``actions`` that resolve the advisory become the fix.
- v2 (npm 7+): ``{"auditReportVersion": 2, "vulnerabilities": {"<package>": {"name",
  "severity", "isDirect", "via", "effects", "range", "nodes", "fixAvailable"}}, "metadata"}``.
  ``via`` mixes advisory objects (``source``, ``title``, ``url``, ``severity``, ``cwe``,
  ``cvss``, ``range``) with names of other vulnerable packages; one finding per advisory
  object. A package that is vulnerable only through another package is that package's
  finding, not a new one. v2 does not report the installed version.
- An error report, ``{"error": {"code", "summary", "detail"}}`` (no lockfile, no network),
  means the audit did not run: it raises FindingsInputError instead of passing as clean.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from vulntune.findings.common import (
    disambiguate_ids,
    extract_cwe_ids,
    is_vulnerability_id,
    normalize_severity,
    string_list,
)
from vulntune.findings.formats import FindingsInputError, SimpleFormat
from vulntune.findings.native._fields import (
    integer,
    items,
    mapping,
    require_object,
    text,
    unique,
)
from vulntune.findings.record import (
    Finding,
    FindingKind,
    Fix,
    FormatName,
    Origin,
    Package,
    Severity,
    fingerprint,
)

NAME: FormatName = "npm-audit-json"

_GHSA_RE = re.compile(r"GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}", re.IGNORECASE)
_LOWER_BOUND_RE = re.compile(r">=\s*v?([0-9][^\s<>=|]*)")
_UPPER_BOUND_RE = re.compile(r"(?<![<>=])<\s*v?([0-9][^\s<>=|]*)")


def matches(doc: Any) -> bool:
    """A v1 report (``advisories`` with ``actions``/``muted``/``metadata``), a v2 report
    (``auditReportVersion`` or ``vulnerabilities`` with ``metadata.vulnerabilities``), or
    npm's ``{"error": {"code", "summary"}}`` report."""
    if not isinstance(doc, Mapping):
        return False
    if _is_error(doc):
        return True
    if isinstance(doc.get("advisories"), Mapping):
        return any(key in doc for key in ("actions", "muted", "metadata"))
    if "auditReportVersion" in doc:
        return True
    return isinstance(doc.get("vulnerabilities"), Mapping) and isinstance(
        mapping(doc.get("metadata")).get("vulnerabilities"), Mapping
    )


def _is_error(doc: Mapping[str, Any]) -> bool:
    error = doc.get("error")
    return (
        set(doc) == {"error"}
        and isinstance(error, Mapping)
        and ("code" in error or "summary" in error)
    )


def parse(doc: Any, file: str) -> Iterator[Finding]:
    """Yield one finding per advisory and affected package."""
    if _is_error(doc):
        error = doc["error"]
        code = text(error.get("code")) or "no error code"
        summary = text(error.get("summary")) or text(error.get("detail")) or "no summary"
        raise FindingsInputError(
            file, f"npm audit failed and reported no results ({code}): {summary}"
        )
    if isinstance(doc.get("advisories"), Mapping):
        findings = list(_parse_v1(doc, file))
    else:
        version = integer(doc.get("auditReportVersion"))
        if version is not None and version != 2:
            raise FindingsInputError(
                file, f"npm audit report version {version} is not supported (1 and 2 are)"
            )
        findings = list(_parse_v2(doc, file))
    yield from disambiguate_ids(findings)


def _parse_v1(doc: Mapping[str, Any], file: str) -> Iterator[Finding]:
    fixes = _v1_fixes(items(doc.get("actions")))
    index = 0
    for key, advisory in doc["advisories"].items():
        advisory = require_object(advisory, file, f"advisories[{key!r}]")
        name = text(advisory.get("module_name"))
        if name is None:
            raise FindingsInputError(file, f"advisories[{key!r}] has no module_name")
        number = integer(advisory.get("id")) or integer(key)
        rule_id = _rule_id(number, text(advisory.get("github_advisory_id")), advisory.get("url"))
        original = text(advisory.get("severity"))
        patched = text(advisory.get("patched_versions"))
        recommendation = text(advisory.get("recommendation"))
        help_text = "\n".join(
            part
            for part in (recommendation, f"Patched versions: {patched}" if patched else None)
            if part
        )
        versions = unique(
            [
                v
                for v in (text(mapping(f).get("version")) for f in items(advisory.get("findings")))
                if v
            ]
        ) or [None]
        for installed in versions:
            package = Package(
                name=name,
                ecosystem="npm",
                installed_version=installed,
                fixed_versions=_lower_bounds(patched),
            )
            affected = _Advisory(
                rule_id=rule_id,
                package=package,
                title=text(advisory.get("title")),
                vulnerable=text(advisory.get("vulnerable_versions")),
                original_severity=original,
                description=text(advisory.get("overview")),
                help_text=help_text or None,
                url=text(advisory.get("url")),
                cwe_ids=extract_cwe_ids(advisory.get("cwe")),
                ids=[rule_id, *string_list(advisory.get("cves"))],
                fix=fixes.get(number) if number is not None else None,
                tags=[],
            )
            yield _finding(affected, file, index)
            index += 1


def _v1_fixes(actions: list[Any]) -> dict[int, Fix]:
    """The npm commands of v1 ``actions``, keyed by the advisory ids they resolve."""
    commands: dict[int, list[str]] = {}
    for raw in actions:
        action = mapping(raw)
        module, target = text(action.get("module")), text(action.get("target"))
        kind = text(action.get("action"))
        if module is None or kind not in ("install", "update"):
            continue  # "review" actions have no command: a human must look
        if kind == "install" and target:
            command = f"npm install {module}@{target}"
            if action.get("isMajor") is True:
                command += " (a semver-major upgrade)"
        else:
            depth = integer(action.get("depth"))
            command = f"npm update {module}" + (f" --depth {depth}" if depth else "")
        for resolved in items(action.get("resolves")):
            number = integer(mapping(resolved).get("id"))
            if number is not None:
                commands.setdefault(number, [])
                if command not in commands[number]:
                    commands[number].append(command)
    return {number: Fix(description="; ".join(cmds)) for number, cmds in commands.items()}


def _parse_v2(doc: Mapping[str, Any], file: str) -> Iterator[Finding]:
    index = 0
    for key, entry in mapping(doc.get("vulnerabilities")).items():
        entry = require_object(entry, file, f"vulnerabilities[{key!r}]")
        name = text(entry.get("name")) or key
        fix, fix_version = _v2_fix(entry.get("fixAvailable"), name)
        tags = ["direct"] if entry.get("isDirect") is True else []
        tags += [f"effects:{effect}" for effect in string_list(entry.get("effects"))]
        for via in items(entry.get("via")):
            if not isinstance(via, Mapping):
                continue  # a package name: this one is vulnerable through that package
            adv_range = text(via.get("range"))
            fixed = _upper_bounds(adv_range)
            if fix_version and fix_version not in fixed:
                fixed.append(fix_version)
            rule_id = _rule_id(integer(via.get("source")), None, via.get("url"))
            affected = _Advisory(
                rule_id=rule_id,
                package=Package(name=name, ecosystem="npm", fixed_versions=fixed),
                title=text(via.get("title")),
                vulnerable=adv_range,
                original_severity=text(via.get("severity")) or text(entry.get("severity")),
                description=None,
                help_text=None,
                url=text(via.get("url")),
                cwe_ids=extract_cwe_ids(via.get("cwe")),
                ids=[rule_id],
                fix=fix,
                tags=tags,
            )
            yield _finding(affected, file, index)
            index += 1


def _v2_fix(available: Any, name: str) -> tuple[Fix | None, str | None]:
    """(the fix, a fixed version of this package) from v2 ``fixAvailable``."""
    if available is True:
        return Fix(description="npm audit fix"), None
    target = mapping(available)
    fix_name, version = text(target.get("name")), text(target.get("version"))
    if fix_name is None or version is None:
        return None, None
    major = target.get("isSemVerMajor") is True
    command = f"npm audit fix{' --force' if major else ''}"
    upgrade = f"upgrade {fix_name} to {version}{' (a semver-major upgrade)' if major else ''}"
    return Fix(description=f"{command}: {upgrade}"), version if fix_name == name else None


def _rule_id(number: int | None, ghsa: str | None, url: Any) -> str:
    """The GitHub advisory id when there is one (from the field or the advisory URL), else
    npm's advisory number."""
    found = ghsa or next(iter(_GHSA_RE.findall(text(url) or "")), None)
    if found:
        return "GHSA" + found[4:].lower()
    return f"npm-advisory-{number}" if number is not None else "npm-advisory"


def _lower_bounds(patched: str | None) -> list[str]:
    """``">=0.2.1 <1.0.0 || >=1.2.3"`` -> ``["0.2.1", "1.2.3"]``: where each patched span
    starts; ``"<0.0.0"`` (nothing patched) gives ``[]``."""
    if not patched:
        return []
    return unique(
        [
            m.group(1)
            for clause in patched.split("||")
            for m in [_LOWER_BOUND_RE.search(clause)]
            if m
        ]
    )


def _upper_bounds(vulnerable: str | None) -> list[str]:
    """``">=1.0.0 <1.2.6 || <0.2.4"`` -> ``["1.2.6", "0.2.4"]``: the first version after each
    vulnerable span (``<=`` bounds are skipped: the next release is not known)."""
    if not vulnerable:
        return []
    return unique(
        [
            m.group(1)
            for clause in vulnerable.split("||")
            for m in [_UPPER_BOUND_RE.search(clause)]
            if m
        ]
    )


@dataclass(frozen=True, slots=True)
class _Advisory:
    """One advisory as it affects one package (a v1 advisory and installed version, or a v2
    ``via`` object): what its finding is made of."""

    rule_id: str
    package: Package
    title: str | None
    vulnerable: str | None  # the vulnerable range, shown when the installed version is not
    original_severity: str | None
    description: str | None
    help_text: str | None
    url: str | None
    cwe_ids: list[str]
    ids: list[str]  # advisory ids and CVEs; the ones that are advisory ids are kept
    fix: Fix | None
    tags: list[str]


def _finding(advisory: _Advisory, file: str, index: int) -> Finding:
    package, rule_id, title = advisory.package, advisory.rule_id, advisory.title
    vulnerable = advisory.vulnerable
    version = package.installed_version or (f"({vulnerable})" if vulnerable else "")
    headline = f"{rule_id} in {package.name} {version}".rstrip()
    original = advisory.original_severity
    return Finding(
        id=fingerprint("npm-audit", rule_id, package=package),
        tool="npm-audit",
        rule_id=rule_id,
        # npm always rates advisories; a missing rating reads as SARIF's default level.
        severity=normalize_severity(original, default=Severity.MEDIUM) or Severity.MEDIUM,
        message=f"{headline}: {title}" if title else headline,
        kind=FindingKind.DEPENDENCY,
        origin=Origin(file=file, format=NAME, index=index),
        tool_full_name="npm audit",
        rule_name=title,
        original_severity=original,
        rule_description=advisory.description,
        rule_help=advisory.help_text,
        help_uri=advisory.url,
        cwe_ids=advisory.cwe_ids,
        vulnerability_ids=unique([i for i in advisory.ids if is_vulnerability_id(i)]),
        tags=advisory.tags,
        package=package,
        fix=advisory.fix,
    )


FORMAT = SimpleFormat(NAME, matches, parse)
