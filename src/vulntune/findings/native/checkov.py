"""Checkov's native JSON output (``checkov -d . -o json``).

One framework gives one report: ``{"check_type", "results": {"passed_checks",
"failed_checks", "skipped_checks", "parsing_errors"}, "summary": {..., "checkov_version"},
"url"}``; several frameworks give a list of such reports; a scan that found nothing to check
gives only the summary object. ``failed_checks`` are findings, and so are
``skipped_checks`` (suppressed in the source with ``#checkov:skip=ID:comment``), as Checkov's
SARIF lists them with an ``inSource`` suppression. Each has ``check_id``,
``check_name``, ``file_path`` (relative to the scanned directory but written with a leading
``/``), ``file_abs_path``, ``file_line_range``, ``resource``, ``code_block`` (``[[line,
text], ...]``), ``guideline`` and ``severity`` (null outside the commercial platform). SCA
checks (``sca_package``, ``sca_image``) add ``vulnerability_details``; secret checks
(``secrets``) carry Checkov's masked secret in ``code_block``.

Ids match Checkov's SARIF of the same scan: tool ``checkov``, check id, path and start line
(SARIF has no column); SCA findings also hash the package. A check of a whole file (GitHub
Actions workflows) starts at line 0 (``file_line_range`` ``[0, 1]``, seen from Checkov 3.3.30 on
a real project); its SARIF says line 1 (Checkov writes ``start or 1``: SARIF lines start at 1),
so its id is made with line 1 while its location keeps no start line.
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
    split_versions,
    string_list,
)
from vulntune.findings.formats import SimpleFormat
from vulntune.findings.native._fields import (
    integer,
    items,
    mapping,
    positive,
    raw_text,
    require_list,
    require_object,
    require_text,
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

NAME: FormatName = "checkov-json"

# Checkov leaves severity null unless the commercial platform rates the check; its own SARIF
# writes such failed checks at level "error", which reads as high.
_DEFAULT_SEVERITY = Severity.HIGH

_SUMMARY_KEYS = ("passed", "failed", "skipped", "parsing_errors", "checkov_version")


def matches(doc: Any) -> bool:
    """A Checkov report (``check_type`` and ``results``), a list of them, or the bare
    summary Checkov prints when there was nothing to check."""
    if isinstance(doc, list):
        return bool(doc) and all(_is_report(entry) or _is_summary(entry) for entry in doc)
    return _is_report(doc) or _is_summary(doc)


def _is_report(doc: Any) -> bool:
    return isinstance(doc, Mapping) and "check_type" in doc and "results" in doc


def _is_summary(doc: Any) -> bool:
    return isinstance(doc, Mapping) and all(key in doc for key in _SUMMARY_KEYS)


def parse(doc: Any, file: str) -> Iterator[Finding]:
    """Yield one finding per failed check of every report."""
    reports = doc if isinstance(doc, list) else [doc]
    findings: list[Finding] = []
    for r, report in enumerate(reports):
        prefix = f"[{r}]." if isinstance(doc, list) else ""
        report = require_object(report, file, f"[{r}]")
        if not _is_report(report):
            continue  # the bare summary of a scan with nothing to check
        check_type = text(report.get("check_type")) or "unknown"
        version = text(mapping(report.get("summary")).get("checkov_version"))
        results = require_object(report.get("results"), file, f"{prefix}results")
        for group in ("failed_checks", "skipped_checks"):
            checks = results.get(group)
            checks = [] if checks is None else require_list(checks, file, f"{prefix}{group}")
            for c, check in enumerate(checks):
                where = f"{prefix}results.{group}[{c}]"
                check = require_object(check, file, where)
                finding = _finding(check, check_type, version, file, where, len(findings))
                if group == "skipped_checks":
                    finding.suppressed = True
                    finding.suppression = _suppression(check)
                findings.append(finding)
    yield from disambiguate_ids(findings)


def _finding(
    check: Mapping[str, Any],
    check_type: str,
    version: str | None,
    file: str,
    where: str,
    index: int,
) -> Finding:
    check_id = require_text(check.get("check_id"), file, f"{where}.check_id")
    line_range = [integer(n) for n in items(check.get("file_line_range"))]
    location = Location(
        path=_path(check),
        start_line=positive(line_range[0]) if line_range else None,
        end_line=positive(line_range[-1]) if line_range else None,
    )
    vuln = mapping(check.get("vulnerability_details"))
    package = _package(vuln)
    original = text(check.get("severity")) or text(vuln.get("severity"))
    severity = normalize_severity(original, default=_DEFAULT_SEVERITY) or _DEFAULT_SEVERITY
    name = text(check.get("check_name")) or check_id
    resource = text(check.get("resource"))
    tags = [f"framework:{check_type}"]
    bc_id = text(check.get("bc_check_id"))
    if bc_id:
        tags.append(f"bc:{bc_id}")
    category = text(check.get("bc_category"))
    if category:
        tags.append(category)
    # A whole-file check: line 1 in the id, as in the SARIF of the same scan.
    id_location = location
    if line_range and location.start_line is None:
        id_location = Location(path=location.path, start_line=1)
    return Finding(
        id=fingerprint("checkov", check_id, id_location, package),
        tool="checkov",
        rule_id=check_id,
        severity=severity,
        message=f"{name}\nResource: {resource}" if resource else name,
        kind=_kind(check_type, package),
        origin=Origin(file=file, format=NAME, index=index),
        tool_version=version,
        tool_full_name="Checkov",
        rule_name=name,
        original_severity=original,
        rule_description=text(check.get("description")) or text(vuln.get("description")),
        rule_help=_details(check.get("details")),
        help_uri=text(check.get("guideline")) or text(vuln.get("link")),
        cwe_ids=extract_cwe_ids(vuln.get("cwe"), check.get("cwe")),
        vulnerability_ids=extract_vulnerability_ids(vuln.get("id")),
        tags=unique(tags),
        location=location,
        snippet=_code_block(check.get("code_block")),
        package=package,
    )


def _suppression(check: Mapping[str, Any]) -> str:
    """How a skipped check was suppressed, worded as Checkov's SARIF does."""
    comment = text(mapping(check.get("check_result")).get("suppress_comment"))
    kind = "external" if check.get("vulnerability_details") else "inSource"
    return f"{kind}: {comment or 'No comment provided'}"


def _path(check: Mapping[str, Any]) -> str | None:
    """The file relative to the scanned directory. Checkov writes ``/main.tf`` for
    ``<root>/main.tf``; a path equal to ``file_abs_path`` is a real absolute path."""
    raw = text(check.get("repo_file_path")) or text(check.get("file_path"))
    if raw is None:
        return normalize_path(check.get("file_abs_path"))
    if raw.startswith("/") and raw != text(check.get("file_abs_path")):
        raw = raw.lstrip("/")
    return normalize_path(raw)


def _kind(check_type: str, package: Package | None) -> FindingKind:
    if package is not None:
        return FindingKind.DEPENDENCY
    if check_type == "secrets":
        return FindingKind.SECRET
    return FindingKind.CONFIG


def _package(vuln: Mapping[str, Any]) -> Package | None:
    name = text(vuln.get("package_name"))
    if name is None:
        return None
    fixed = split_versions(vuln.get("fixed_versions")) or split_versions(
        vuln.get("lowest_fixed_version")
    )
    return Package(
        name=name,
        installed_version=text(vuln.get("package_version")),
        fixed_versions=fixed,
    )


def _code_block(block: Any) -> str | None:
    """The source lines of ``[[line, text], ...]``, joined (each text ends with its newline)."""
    lines = [
        entry[1]
        for entry in items(block)
        if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], str)
    ]
    return raw_text("".join(lines).rstrip("\n"))


def _details(details: Any) -> str | None:
    lines = string_list(details)
    return "\n".join(lines) if lines else None


FORMAT = SimpleFormat(NAME, matches, parse)
