"""Small helpers every scanner parser shares: severities, CWE and vulnerability ids, paths,
tool names, and the id rules that the SARIF and native parsers of one tool must agree on.

The names importable from here are a stable interface for all parser modules (SARIF and
native); identifiers, paths and tool families live in their own modules and are re-exported.
"""

from __future__ import annotations

import math
import re
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
from vulntune.findings.record import (
    Finding,
    Location,
    Package,
    Severity,
    fingerprint,
    place_fingerprint,
)
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
    "trivy_artifact_path",
    "trivy_dependency_fingerprint",
    "trivy_image_scope",
    "trivy_location_fingerprint",
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
# Trivy identity (SARIF and native JSON of one scan must give the same ids)
# --------------------------------------------------------------------------------------------

_TRIVY_TARGET_SUFFIX_RE = re.compile(r"^(?P<path>.+?)(?:\s*\(.*?\).*)?$")


def trivy_artifact_path(target: str, os_package: bool) -> str:
    """The artifact path Trivy writes into SARIF for a native ``Result.Target`` (or
    ``PkgPath``): for OS packages the image repository without registry, tag, digest and the
    ``" (ubuntu 24.04)"`` suffix (``"docker.io/library/alpine:3.19 (alpine 3.19.1)"`` ->
    ``"library/alpine"``); otherwise the target with ``/`` separators."""
    text = target.strip().replace("\\", "/")
    if not os_package:
        return text
    match = _TRIVY_TARGET_SUFFIX_RE.match(text)
    if match:
        text = match.group("path").strip()
    if "@" in text:
        text = text.split("@", 1)[0]
    last = text.rsplit("/", 1)[-1]
    if ":" in last:
        text = text[: len(text) - len(last)] + last.split(":", 1)[0]
    parts = text.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]  # registry host
    if len(parts) == 1 and not text.startswith("/"):
        parts = ["library", *parts]  # Docker Hub official image
    return "/".join(parts)


# A Docker image reference (the distribution project's grammar, reduced to what is needed to
# find the repository): a path of lowercase components, a registry host, a tag, a digest.
_IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_PATH_RE = re.compile(rf"{_IMAGE_COMPONENT}(?:/{_IMAGE_COMPONENT})*")
_IMAGE_HOST_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]+)?")
_IMAGE_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_IMAGE_DIGEST_RE = re.compile(
    r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
)
_DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
# `trivy image --input` names the archive it read: a file, not a reference.
_IMAGE_ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz")


def trivy_image_scope(image_name: Any) -> str | None:
    """What scopes the ids of a Trivy image scan: the repository of the scanned image, with its
    registry host and without tag and digest (``"ghcr.io/acme/api:1.2@sha256:..."`` ->
    ``"ghcr.io/acme/api"``; Docker Hub names in full: ``"alpine:3.19"`` ->
    ``"docker.io/library/alpine"``), so that the same package in two images has two ids while
    a rescan of the image under a new tag keeps them. ``image_name`` is the native JSON's
    ``ArtifactName`` of a ``container_image`` report, which Trivy's SARIF writes as
    ``runs[].properties.imageName``. A name that is not an image reference (an archive given
    to ``--input``) is kept as written, with ``/`` separators. None for a missing or blank name.
    """
    if not isinstance(image_name, str) or not image_name.strip():
        return None
    name = image_name.strip()
    repository = None if name.lower().endswith(_IMAGE_ARCHIVE_SUFFIXES) else _repository(name)
    return repository if repository is not None else name.replace("\\", "/")


def _repository(reference: str) -> str | None:
    """``host/path`` of a Docker image reference; None when ``reference`` is not one."""
    rest, at, digest = reference.partition("@")
    if at and not _IMAGE_DIGEST_RE.fullmatch(digest):
        return None
    head, slash, last = rest.rpartition("/")
    last, colon, tag = last.partition(":")
    if colon and not _IMAGE_TAG_RE.fullmatch(tag):
        return None
    rest = head + slash + last
    first, slash, remainder = rest.partition("/")
    # Docker's rule: the first component names a registry when it has a dot or a port, or is
    # "localhost"; otherwise the image is on Docker Hub.
    if slash and ("." in first or ":" in first or first == "localhost"):
        if not _IMAGE_HOST_RE.fullmatch(first):
            return None
        host, path = first.lower(), remainder
    else:
        host, path = "docker.io", rest
    if not _IMAGE_PATH_RE.fullmatch(path):
        return None
    if host in _DOCKER_HUB_HOSTS:
        host = "docker.io"
        if "/" not in path:
            path = f"library/{path}"  # an official image
    return f"{host}/{path}"


def trivy_dependency_fingerprint(
    vulnerability_id: str,
    artifact_path: str | None,
    package_name: str,
    installed_version: str,
    image: str | None = None,
) -> str:
    """The id of a Trivy dependency finding: vulnerability, artifact path (see
    :func:`trivy_artifact_path`, already through :func:`uri_to_path`/:func:`normalize_path`),
    package name and installed version, and for an image scan the image
    (:func:`trivy_image_scope`: ``app/app.jar`` is a different file in two images). Line
    numbers and ecosystem are left out because Trivy's SARIF has no ecosystem and places image
    packages at a made-up line 1."""
    return fingerprint(
        "trivy",
        vulnerability_id,
        location=Location(path=artifact_path),
        package=Package(name=package_name, installed_version=installed_version),
        extra=f"image={image}" if image is not None else "",
    )


def trivy_location_fingerprint(
    rule_id: str, artifact_path: str | None, start_line: int | None, image: str | None = None
) -> str:
    """The id of a Trivy misconfiguration, secret or license finding: rule id (``ID``,
    ``RuleID``, or ``"PkgName:Name"`` for licenses), artifact path and start line, and for an
    image scan the image (:func:`trivy_image_scope`). Columns are left out and a missing line
    counts as 1, because Trivy's SARIF writes every region as ``startLine`` (1 when unknown)
    and ``startColumn`` 1."""
    extra = f"image={image}" if image is not None else ""
    return place_fingerprint("trivy", rule_id, artifact_path, start_line or 1, None, extra)


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
