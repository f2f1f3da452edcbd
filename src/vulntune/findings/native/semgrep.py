"""Semgrep's native JSON output (``semgrep scan --json``).

Shape: ``{"version", "results": [...], "errors": [...], "paths": {...}}``. Each result has
``check_id``, ``path``, ``start``/``end`` (``line``, ``col``, ``offset``) and ``extra`` with
``message``, ``severity``, ``metadata`` (``cwe`` as a string or a list, ``owasp``,
``references``, ``source``...), ``lines`` (the matched source, or the placeholder
``"requires login"`` in logged-out runs), an optional ``fix`` (the replacement text for the
matched range), ``is_ignored`` (a ``nosemgrep`` comment) and, for Supply Chain rules,
``sca_info``.

Ids match Semgrep's SARIF of the same scan: tool ``semgrep``, the check id, the normalised
path, start line and start column (see :func:`vulntune.findings.common.disambiguate_ids` for
two matches that start at the same place).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from vulntune.findings.common import (
    disambiguate_ids,
    extract_cwe_ids,
    extract_vulnerability_ids,
    normalize_path,
    normalize_severity,
    string_list,
)
from vulntune.findings.formats import FindingsInputError, SimpleFormat
from vulntune.findings.native._fields import (
    items,
    mapping,
    positive,
    raw_text,
    require_list,
    require_object,
    require_text,
    text,
    unique,
    urls_in,
)
from vulntune.findings.record import (
    Finding,
    FindingKind,
    Fix,
    FixChange,
    FormatName,
    Location,
    Origin,
    Package,
    Severity,
    fingerprint,
)

NAME: FormatName = "semgrep-json"

# Semgrep's own words; its SARIF writes ERROR/WARNING/INFO as error/warning/note, which the
# SARIF parser reads as high/medium/low, so INFO is "low" here too.
_SEVERITIES = {
    "ERROR": Severity.HIGH,
    "WARNING": Severity.MEDIUM,
    "INFO": Severity.LOW,
    "INVENTORY": Severity.INFO,
    "EXPERIMENT": Severity.INFO,
}

# What logged-out Semgrep writes instead of the matched source and the match fingerprint.
_LOGIN_PLACEHOLDER = "requires login"


def matches(doc: Any) -> bool:
    """A Semgrep report: ``results`` whose entries carry ``check_id``; an empty report is
    recognised by the ``errors`` and ``paths`` keys Semgrep always writes next to it."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("results"), list):
        return False
    results = doc["results"]
    if results:
        return any(isinstance(r, Mapping) and "check_id" in r for r in results)
    return isinstance(doc.get("errors"), list) and isinstance(doc.get("paths"), Mapping)


def parse(doc: Any, file: str) -> Iterator[Finding]:
    """Yield one finding per Semgrep result.

    A report with no results but errors at level ``error`` (an invalid rule file, a crashed
    engine) did not scan anything and raises FindingsInputError instead of passing as clean.
    """
    results = require_list(doc.get("results"), file, "results")
    fatal = [e for e in items(doc.get("errors")) if _is_fatal(e)]
    if not results and fatal:
        raise FindingsInputError(
            file,
            f"Semgrep reported {len(fatal)} error(s) and no results, so the scan did not run: "
            f"{_describe_error(fatal[0])}",
        )
    version = text(doc.get("version"))
    engine = text(doc.get("engine_requested"))
    full_name = f"Semgrep {engine}" if engine else "Semgrep"
    findings = [
        _finding(result, index, file, version, full_name) for index, result in enumerate(results)
    ]
    yield from disambiguate_ids(findings)


def _is_fatal(error: Any) -> bool:
    return isinstance(error, Mapping) and str(error.get("level", "")).lower() == "error"


def _describe_error(error: Mapping[str, Any]) -> str:
    kind = error.get("type")
    if isinstance(kind, list) and kind:
        kind = kind[0]
    message = text(error.get("message")) or "no message"
    return f"{kind}: {message}" if isinstance(kind, str) else message


def _finding(raw: Any, index: int, file: str, version: str | None, full_name: str) -> Finding:
    result = require_object(raw, file, f"results[{index}]")
    check_id = require_text(result.get("check_id"), file, f"results[{index}].check_id")
    extra = mapping(result.get("extra"))
    metadata = mapping(extra.get("metadata"))
    start, end = mapping(result.get("start")), mapping(result.get("end"))
    location = Location(
        path=normalize_path(result.get("path")),
        start_line=positive(start.get("line")),
        start_column=positive(start.get("col")),
        end_line=positive(end.get("line")),
        end_column=positive(end.get("col")),
    )
    original = text(extra.get("severity"))
    severity = _SEVERITIES.get((original or "").upper()) or normalize_severity(
        original, default=Severity.MEDIUM
    )
    package = _sca_package(extra, metadata)
    return Finding(
        id=fingerprint("semgrep", check_id, location),
        tool="semgrep",
        rule_id=check_id,
        severity=severity,
        # A result without a message still names its rule, which is what Semgrep shows then.
        message=text(extra.get("message")) or check_id,
        kind=_kind(check_id, metadata, package),
        origin=Origin(file=file, format=NAME, index=index),
        tool_version=version,
        tool_full_name=full_name,
        original_severity=original,
        help_uri=_help_uri(metadata),
        cwe_ids=extract_cwe_ids(metadata.get("cwe")),
        vulnerability_ids=extract_vulnerability_ids(
            metadata.get("sca-vuln-database-identifier"), metadata.get("cve")
        ),
        tags=_tags(metadata),
        location=location,
        snippet=_snippet(extra.get("lines")),
        package=package,
        fix=_fix(extra, location),
        suppressed=extra.get("is_ignored") is True,
        suppression="inSource" if extra.get("is_ignored") is True else None,
    )


def _snippet(lines: Any) -> str | None:
    snippet = raw_text(lines)
    if snippet is None or snippet.strip() == _LOGIN_PLACEHOLDER:
        return None
    return snippet


def _fix(extra: Mapping[str, Any], location: Location) -> Fix | None:
    replacement = extra.get("fix")
    if isinstance(replacement, str):  # "" is a real fix: delete the matched code
        return Fix(
            description="Semgrep autofix",
            changes=[
                FixChange(
                    path=location.path,
                    inserted_text=replacement,
                    start_line=location.start_line,
                    start_column=location.start_column,
                    end_line=location.end_line,
                    end_column=location.end_column,
                )
            ],
        )
    regex = mapping(extra.get("fix_regex"))
    if isinstance(regex.get("regex"), str) and isinstance(regex.get("replacement"), str):
        return Fix(
            description=(
                f"In the matched code, replace the regular expression {regex['regex']!r} "
                f"with {regex['replacement']!r}"
            )
        )
    return None


def _help_uri(metadata: Mapping[str, Any]) -> str | None:
    for key in ("source", "shortlink"):
        uri = text(metadata.get(key))
        if uri:
            return uri
    references = string_list(metadata.get("references"))
    found = urls_in(references[0]) if references else []
    return found[0] if found else None


def _tags(metadata: Mapping[str, Any]) -> list[str]:
    tags = string_list(metadata.get("category"))
    tags += string_list(metadata.get("subcategory"))
    tags += string_list(metadata.get("technology"))
    tags += string_list(metadata.get("owasp"))
    for key in ("confidence", "likelihood", "impact"):
        value = text(metadata.get(key))
        if value:
            tags.append(f"{key}:{value}")
    return unique(tags)


def _kind(check_id: str, metadata: Mapping[str, Any], package: Package | None) -> FindingKind:
    if package is not None:
        return FindingKind.DEPENDENCY
    segments = {part.lower() for part in check_id.replace("/", ".").split(".")}
    categories = {c.lower() for c in string_list(metadata.get("category"))}
    if {"secrets", "secret"} & (segments | categories) or "secret_type" in metadata:
        return FindingKind.SECRET
    return FindingKind.CODE


def _sca_package(extra: Mapping[str, Any], metadata: Mapping[str, Any]) -> Package | None:
    """The dependency of a Semgrep Supply Chain result; None for code findings."""
    found = mapping(
        mapping(mapping(extra.get("sca_info")).get("dependency_match")).get("found_dependency")
    )
    name = text(found.get("package"))
    if name is None:
        return None
    fixed: list[str] = []
    for entry in items(metadata.get("sca-fix-versions")):
        version = text(mapping(entry).get(name))
        if version:
            fixed.append(version)
    return Package(
        name=name,
        ecosystem=text(found.get("ecosystem")),
        installed_version=text(found.get("version")),
        fixed_versions=unique(fixed),
    )


FORMAT = SimpleFormat(NAME, matches, parse)
