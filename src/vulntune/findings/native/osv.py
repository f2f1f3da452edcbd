"""OSV-Scanner's native JSON output (``osv-scanner --format json``, v1 and v2).

Shape: ``{"results": [{"source": {"path", "type"}, "packages": [{"package": {"name",
"version", "ecosystem"}, "vulnerabilities": [OSV records], "groups": [{"ids", "aliases",
"max_severity"}]}]}], "experimental_config": {...}}``.

OSV-Scanner groups the records that describe one vulnerability (a GHSA and the PYSEC entry
that aliases it); a group is one finding. Its severity is the group's ``max_severity`` (a
CVSS base score as a string; the records' ``severity[].score`` holds CVSS *vectors*, which are
not scores). When that is empty, the GitHub advisory's ``database_specific.severity`` word is
used. The fixed versions come from the ``fixed`` events of the affected ranges that contain
the installed version.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from vulntune.findings.common import (
    disambiguate_ids,
    extract_cwe_ids,
    normalize_path,
    severity_from_score,
    severity_from_word,
    string_list,
)
from vulntune.findings.formats import FindingsInputError, SimpleFormat
from vulntune.findings.native._fields import (
    items,
    mapping,
    require_list,
    require_object,
    text,
    unique,
)
from vulntune.findings.record import (
    Finding,
    FindingKind,
    FormatName,
    Location,
    Origin,
    Package,
    Severity,
    fingerprint,
)

NAME: FormatName = "osv-scanner-json"


def matches(doc: Any) -> bool:
    """An OSV-Scanner report: ``results`` entries with ``source`` and ``packages``; an empty
    report is recognised by ``experimental_config``, which OSV-Scanner always writes."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("results"), list):
        return False
    results = doc["results"]
    if results:
        return any(isinstance(r, Mapping) and "packages" in r and "source" in r for r in results)
    return "experimental_config" in doc


def parse(doc: Any, file: str) -> Iterator[Finding]:
    """Yield one finding per vulnerability group of every package of every source."""
    findings: list[Finding] = []
    for r, result in enumerate(require_list(doc.get("results"), file, "results")):
        result = require_object(result, file, f"results[{r}]")
        source = mapping(result.get("source"))
        path = normalize_path(source.get("path"))
        source_type = text(source.get("type"))
        for p, entry in enumerate(items(result.get("packages"))):
            where = f"results[{r}].packages[{p}]"
            entry = require_object(entry, file, where)
            package = _package(entry, file, where)
            vulns = [mapping(v) for v in items(entry.get("vulnerabilities"))]
            tags = [f"dependency-group:{g}" for g in string_list(entry.get("dependency_groups"))]
            if source_type:
                tags.insert(0, f"source:{source_type}")
            affected = _Affected(package, path, vulns, tags)
            for group in _groups(entry, vulns):
                findings.append(_finding(group, affected, file, len(findings)))
    yield from disambiguate_ids(findings)


def _package(entry: Mapping[str, Any], file: str, where: str) -> Package:
    info = require_object(entry.get("package"), file, f"{where}.package")
    # Packages found by commit (git submodules, C/C++ vendored code) may have no name.
    name = text(info.get("name")) or text(info.get("commit"))
    if name is None:
        raise FindingsInputError(file, f"{where}.package has neither a name nor a commit")
    return Package(
        name=name,
        ecosystem=text(info.get("ecosystem")),
        installed_version=text(info.get("version")),
    )


def _groups(entry: Mapping[str, Any], vulns: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The package's groups; reports from before grouping existed get one group per record."""
    groups = [mapping(g) for g in items(entry.get("groups"))]
    groups = [g for g in groups if string_list(g.get("ids"))]
    if groups or "groups" in entry:
        return groups
    return [
        {"ids": [v["id"]], "aliases": string_list(v.get("aliases"))}
        for v in vulns
        if text(v.get("id"))
    ]


@dataclass(frozen=True, slots=True)
class _Affected:
    """One vulnerable package of a source: what all its groups' findings share."""

    package: Package
    path: str | None  # the source (lock file, manifest) the package was found in
    vulns: list[Mapping[str, Any]]  # every advisory record of the package
    tags: list[str]


def _finding(group: Mapping[str, Any], affected: _Affected, file: str, index: int) -> Finding:
    """The finding of one group of ``affected``'s advisories (aliases of one another)."""
    package = affected.package
    ids = string_list(group.get("ids"))
    members = [v for v in affected.vulns if v.get("id") in ids]
    rule_id = ids[0]
    severity, original = _severity(group, members)
    summary = next((text(v.get("summary")) for v in members if text(v.get("summary"))), None)
    details = next((text(v.get("details")) for v in members if text(v.get("details"))), None)
    aliases = string_list(group.get("aliases"))
    for v in members:
        aliases += string_list(v.get("aliases"))
    cwes: list[str] = []
    for v in members:
        cwes += extract_cwe_ids(mapping(v.get("database_specific")).get("cwe_ids"))
    located = Package(
        name=package.name,
        ecosystem=package.ecosystem,
        installed_version=package.installed_version,
        fixed_versions=fixed_versions(members, package.name, package.installed_version),
    )
    location = Location(path=affected.path)
    version = package.installed_version or "(version unknown)"
    message = f"{rule_id} in {package.name} {version}"
    return Finding(
        id=fingerprint("osv-scanner", rule_id, location, located),
        tool="osv-scanner",
        rule_id=rule_id,
        severity=severity,
        message=f"{message}: {summary}" if summary else message,
        kind=FindingKind.DEPENDENCY,
        origin=Origin(file=file, format=NAME, index=index),
        tool_full_name="OSV-Scanner",
        rule_name=summary,
        original_severity=original,
        rule_description=details,
        help_uri=f"https://osv.dev/vulnerability/{rule_id}",
        cwe_ids=unique(cwes),
        vulnerability_ids=unique([*ids, *aliases]),
        tags=list(affected.tags),
        location=location,
        package=located,
    )


def _severity(
    group: Mapping[str, Any], members: list[Mapping[str, Any]]
) -> tuple[Severity, str | None]:
    score = text(group.get("max_severity"))
    from_score = severity_from_score(score) if score else None
    if from_score is not None:
        return from_score, score
    # No score: take the most severe advisory word (GitHub's CRITICAL/HIGH/MODERATE/LOW).
    rated: list[tuple[Severity, str]] = []
    for v in members:
        word = text(mapping(v.get("database_specific")).get("severity"))
        level = severity_from_word(word)
        if word and level is not None:
            rated.append((level, word))
    if rated:
        return min(rated, key=lambda pair: pair[0].rank)
    # Nothing rated at all: medium, the default SARIF gives a result without a level.
    return Severity.MEDIUM, None


def fixed_versions(
    vulns: list[Mapping[str, Any]], package_name: str, installed: str | None
) -> list[str]:
    """The versions that fix ``installed``: the ``fixed`` events of the affected ranges for
    this package, narrowed to the entries whose ``versions`` list the installed version and,
    within a range, to the introduced..fixed span that contains it. Commit ranges (``GIT``)
    are skipped: their events are commit hashes, not versions."""
    entries = []
    for vuln in vulns:
        for affected in items(vuln.get("affected")):
            affected = mapping(affected)
            name = text(mapping(affected.get("package")).get("name"))
            if name is None or name.lower() == package_name.lower():
                entries.append(affected)
    if installed:
        listing = [e for e in entries if installed in string_list(e.get("versions"))]
        entries = listing or entries
    found: list[str] = []
    for entry in entries:
        for rng in items(entry.get("ranges")):
            rng = mapping(rng)
            if str(rng.get("type", "")).upper() == "GIT":
                continue
            found += _range_fixes(items(rng.get("events")), installed)
    return unique(found)


def _range_fixes(events: list[Any], installed: str | None) -> list[str]:
    spans: list[tuple[str | None, str]] = []
    introduced: str | None = None
    for event in events:
        event = mapping(event)
        if text(event.get("introduced")):
            introduced = text(event["introduced"])
        elif text(event.get("fixed")):
            spans.append((introduced, text(event["fixed"]) or ""))
            introduced = None
    if len(spans) > 1 and installed:
        key = _version_key(installed)
        inside = [
            fixed
            for start, fixed in spans
            if (start in (None, "0") or _version_key(start) <= key) and key < _version_key(fixed)
        ]
        if inside:
            return inside
    return [fixed for _, fixed in spans]


_TOKEN_RE = re.compile(r"\d+|[A-Za-z]+")


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """A rough ordering key for dotted versions (numbers compare as numbers, ``4.1.9`` <
    ``4.1.10``). Only used to pick one of several spans of one range, never to drop a fix."""
    return tuple(
        (1, int(tok)) if tok.isdigit() else (0, tok.lower()) for tok in _TOKEN_RE.findall(version)
    )


FORMAT = SimpleFormat(NAME, matches, parse)
