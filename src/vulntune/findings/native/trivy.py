"""Trivy's native JSON output (``trivy image|fs|repo|config|k8s --format json``).

Shapes:

- current (``SchemaVersion`` 2): ``{"SchemaVersion", "ArtifactName", "ArtifactType",
  "Metadata", "Results": [...]}``; ``Results`` is left out when nothing was found;
- legacy (before ``SchemaVersion``): a top-level list of results;
- Kubernetes: ``{"ClusterName", "Resources": [{"Namespace", "Kind", "Name", "Results"}]}``.

Each result has ``Target``, ``Class`` (``os-pkgs``, ``lang-pkgs``, ``config``, ``secret``,
``license``, ``license-file``; absent in legacy output), ``Type`` and up to four lists:
``Vulnerabilities``, ``Misconfigurations`` (only ``FAIL`` entries are findings),
``Secrets`` and ``Licenses``. Any list may be ``null``.

Ids match Trivy's SARIF of the same scan (see :mod:`vulntune.findings.native.trivy_ids`):
a vulnerability hashes its id, artifact path, package name
and installed version; the others hash their rule, artifact path and start line. In an image
scan (``ArtifactType`` ``container_image``; the SARIF's ``runs[].properties.imageName``) the
image repository is hashed too, and every finding is tagged ``image:<ArtifactName>``. Other
scans keep unscoped ids: filesystem and repository scans, the legacy list (it names no
artifact) and Kubernetes reports (no ``ArtifactType``; their images are per resource).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from vulntune.findings.common import (
    disambiguate_ids,
    extract_cwe_ids,
    normalize_path,
    normalize_severity,
    split_versions,
    string_list,
)
from vulntune.findings.formats import SimpleFormat
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
)
from vulntune.findings.native.trivy_ids import (
    trivy_artifact_path,
    trivy_dependency_fingerprint,
    trivy_image_scope,
    trivy_location_fingerprint,
)
from vulntune.findings.record import (
    Finding,
    FindingKind,
    FormatName,
    Location,
    Origin,
    Package,
    Severity,
)

NAME: FormatName = "trivy-json"

_FINDING_LISTS = ("Vulnerabilities", "Misconfigurations", "Secrets", "Licenses")

# Result types of OS package scans; legacy reports have no Class, only these.
_OS_TYPES = frozenset(
    {
        "alpine", "alma", "amazon", "azurelinux", "bottlerocket", "cbl-mariner", "centos",
        "chainguard", "coreos", "debian", "echo", "fedora", "minimos", "opensuse",
        "opensuse.leap", "opensuse.tumbleweed", "oracle", "photon", "redhat", "rocky",
        "sles", "suse linux enterprise server", "suse linux enterprise micro", "ubuntu", "wolfi",
    }
)  # fmt: skip

# Trivy's language result types -> the ecosystem names OSV and GitHub advisories use.
_ECOSYSTEMS = {
    "npm": "npm", "yarn": "npm", "pnpm": "npm", "bun": "npm", "node-pkg": "npm",
    "pip": "PyPI", "pipenv": "PyPI", "poetry": "PyPI", "uv": "PyPI", "python-pkg": "PyPI",
    "conda-pkg": "conda", "conda-environment": "conda",
    "jar": "Maven", "pom": "Maven", "gradle": "Maven", "sbt": "Maven",
    "gomod": "Go", "gobinary": "Go",
    "cargo": "crates.io", "rustbinary": "crates.io",
    "composer": "Packagist", "composer-vendor": "Packagist",
    "bundler": "RubyGems", "gemspec": "RubyGems",
    "nuget": "NuGet", "dotnet-core": "NuGet", "packages-props": "NuGet",
    "pub": "Pub", "hex": "Hex", "cocoapods": "CocoaPods", "swift": "SwiftURL",
    "conan": "ConanCenter", "julia": "Julia",
}  # fmt: skip


def matches(doc: Any) -> bool:
    """A Trivy report: ``SchemaVersion`` with artifact fields, the Kubernetes report, or the
    legacy list of results (entries with ``Target`` and a Trivy type or finding list)."""
    if isinstance(doc, Mapping):
        if "SchemaVersion" in doc and any(
            k in doc for k in ("Results", "ArtifactName", "ArtifactType")
        ):
            return True
        return "ClusterName" in doc and isinstance(doc.get("Resources"), list)
    if isinstance(doc, list) and doc:
        return all(_is_legacy_result(entry) for entry in doc)
    return False


def _is_legacy_result(entry: Any) -> bool:
    return (
        isinstance(entry, Mapping)
        and "Target" in entry
        and any(k in entry for k in ("Type", "Class", *_FINDING_LISTS))
    )


def parse(doc: Any, file: str) -> Iterator[Finding]:
    """Yield every vulnerability, failed misconfiguration check, secret and license finding."""
    image = None
    version = None
    if isinstance(doc, Mapping):
        version = text(mapping(doc.get("Trivy")).get("Version"))
        if text(doc.get("ArtifactType")) == "container_image":
            image = text(doc.get("ArtifactName"))
    scan = _Scan(
        file,
        version,
        image_scope=trivy_image_scope(image),
        image_tag=f"image:{image}" if image is not None else None,
        counter=itertools.count(),  # each finding's 0-based position in the file
    )
    findings: list[Finding] = []
    for where, result in _results(doc, file):
        findings.extend(_result_findings(result, where, scan))
    yield from disambiguate_ids(findings)


def _results(doc: Any, file: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where in the file, result object) for every result of any report shape."""
    if isinstance(doc, list):
        for i, result in enumerate(doc):
            yield f"[{i}]", require_object(result, file, f"[{i}]")
        return
    if "Resources" in doc:
        for r, resource in enumerate(require_list(doc["Resources"], file, "Resources")):
            resource = require_object(resource, file, f"Resources[{r}]")
            for i, result in enumerate(items(resource.get("Results"))):
                where = f"Resources[{r}].Results[{i}]"
                yield where, require_object(result, file, where)
        return
    results = doc.get("Results")
    if results is None:  # a clean scan: Trivy omits the empty list
        return
    for i, result in enumerate(require_list(results, file, "Results")):
        yield f"Results[{i}]", require_object(result, file, f"Results[{i}]")


def _result_findings(result: Mapping[str, Any], where: str, scan: _Scan) -> Iterator[Finding]:
    file = scan.file
    target = text(result.get("Target")) or ""
    klass = text(result.get("Class"))
    rtype = text(result.get("Type"))
    os_package = klass == "os-pkgs" or (klass is None and (rtype or "").lower() in _OS_TYPES)
    ctx = _Context(scan, target, klass, rtype, os_package)
    for i, vuln in enumerate(items(result.get("Vulnerabilities"))):
        at = f"{where}.Vulnerabilities[{i}]"
        yield _vulnerability(require_object(vuln, file, at), ctx, at)
    for i, misconf in enumerate(items(result.get("Misconfigurations"))):
        misconf = require_object(misconf, file, f"{where}.Misconfigurations[{i}]")
        status = (text(misconf.get("Status")) or "FAIL").upper()
        if status == "FAIL":  # PASS and EXCEPTION entries are checks that did not fire
            yield _misconfiguration(misconf, ctx, f"{where}.Misconfigurations[{i}]")
    for i, secret in enumerate(items(result.get("Secrets"))):
        yield _secret(require_object(secret, file, f"{where}.Secrets[{i}]"), ctx, where, i)
    for i, lic in enumerate(items(result.get("Licenses"))):
        yield _license(require_object(lic, file, f"{where}.Licenses[{i}]"), ctx, where, i)


@dataclass(frozen=True, slots=True)
class _Scan:
    """What every finding of one report shares."""

    file: str
    version: str | None
    image_scope: str | None  # trivy_ids.trivy_image_scope of an image scan's ArtifactName
    image_tag: str | None  # "image:<ArtifactName>"
    counter: Iterator[int]


class _Context:
    """What every finding of one result shares."""

    def __init__(
        self, scan: _Scan, target: str, klass: str | None, rtype: str | None, os_package: bool
    ) -> None:
        self.file = scan.file
        self.version = scan.version
        self.image = scan.image_scope
        self.image_tag = scan.image_tag
        self.target = target
        self.klass = klass
        self.rtype = rtype
        self.os_package = os_package
        self.counter = scan.counter
        # Where Trivy's SARIF places findings of this result that have no package path.
        self.artifact_path = (
            normalize_path(trivy_artifact_path(target, os_package)) if target else None
        )

    def finding(self, **fields: Any) -> Finding:
        if self.image_tag is not None:
            fields["tags"] = [*fields.get("tags", ()), self.image_tag]
        return Finding(
            tool="trivy",
            tool_full_name="Trivy",
            tool_version=self.version,
            origin=Origin(file=self.file, format=NAME, index=next(self.counter)),
            **fields,
        )


def _severity(value: Any) -> tuple[Severity, str | None]:
    original = text(value)
    # UNKNOWN (not yet scored) and a missing value both read as info, as Trivy's SARIF does.
    return normalize_severity(original, default=Severity.INFO) or Severity.INFO, original


def _vulnerability(vuln: Mapping[str, Any], ctx: _Context, where: str) -> Finding:
    vuln_id = require_text(vuln.get("VulnerabilityID"), ctx.file, f"{where}.VulnerabilityID")
    name = require_text(vuln.get("PkgName"), ctx.file, f"{where}.PkgName ({vuln_id})")
    installed = text(vuln.get("InstalledVersion"))
    pkg_path = text(vuln.get("PkgPath"))
    path = (
        normalize_path(trivy_artifact_path(pkg_path, ctx.os_package))
        if pkg_path
        else ctx.artifact_path
    )
    identifier = mapping(vuln.get("PkgIdentifier"))
    package = Package(
        name=name,
        ecosystem=_ecosystem(ctx.rtype, ctx.os_package),
        installed_version=installed,
        fixed_versions=split_versions(vuln.get("FixedVersion")),
        purl=text(identifier.get("PURL")),
    )
    title = text(vuln.get("Title"))
    severity, original = _severity(vuln.get("Severity"))
    message = f"{vuln_id} in {name} {installed or '(version unknown)'}"
    tags = [t for t in (ctx.klass, ctx.rtype) if t]
    status = text(vuln.get("Status"))
    if status:
        tags.append(f"status:{status}")
    return ctx.finding(
        id=trivy_dependency_fingerprint(vuln_id, path, name, installed or "", ctx.image),
        rule_id=vuln_id,
        severity=severity,
        message=f"{message}: {title}" if title else message,
        kind=FindingKind.DEPENDENCY,
        rule_name=title,
        original_severity=original,
        rule_description=text(vuln.get("Description")),
        help_uri=text(vuln.get("PrimaryURL")),
        cwe_ids=extract_cwe_ids(vuln.get("CweIDs")),
        vulnerability_ids=unique([vuln_id, *string_list(vuln.get("VendorIDs"))]),
        tags=tags,
        location=Location(path=path),
        package=package,
    )


def _ecosystem(rtype: str | None, os_package: bool) -> str | None:
    if rtype is None:
        return None
    if os_package:
        return rtype.lower()
    return _ECOSYSTEMS.get(rtype.lower(), rtype)


def _misconfiguration(misconf: Mapping[str, Any], ctx: _Context, where: str) -> Finding:
    rule_id = text(misconf.get("ID")) or require_text(misconf.get("AVDID"), ctx.file, f"{where}.ID")
    cause = mapping(misconf.get("CauseMetadata"))
    start = positive(cause.get("StartLine"))
    severity, original = _severity(misconf.get("Severity"))
    title = text(misconf.get("Title"))
    tags = [t for t in (text(misconf.get("Type")), text(misconf.get("AVDID"))) if t]
    resource = text(cause.get("Resource"))
    if resource:
        tags.append(f"resource:{resource}")
    return ctx.finding(
        id=trivy_location_fingerprint(rule_id, ctx.artifact_path, start, ctx.image),
        rule_id=rule_id,
        severity=severity,
        message=text(misconf.get("Message")) or title or rule_id,
        kind=FindingKind.CONFIG,
        rule_name=title,
        original_severity=original,
        rule_description=text(misconf.get("Description")),
        rule_help=text(misconf.get("Resolution")),
        help_uri=text(misconf.get("PrimaryURL")),
        cwe_ids=extract_cwe_ids(misconf.get("CweIDs")),
        tags=tags,
        location=Location(
            path=ctx.artifact_path, start_line=start, end_line=positive(cause.get("EndLine"))
        ),
        snippet=_code_lines(cause.get("Code")),
    )


def _code_lines(code: Any) -> str | None:
    """The cause lines of Trivy's ``Code.Lines`` (all lines when none is marked a cause)."""
    lines = [mapping(line) for line in items(mapping(code).get("Lines"))]
    cause = [line for line in lines if line.get("IsCause") is True] or lines
    contents = [line.get("Content") for line in cause if isinstance(line.get("Content"), str)]
    return raw_text("\n".join(contents))


def _secret(secret: Mapping[str, Any], ctx: _Context, where: str, i: int) -> Finding:
    rule_id = require_text(secret.get("RuleID"), ctx.file, f"{where}.Secrets[{i}].RuleID")
    start = positive(secret.get("StartLine"))
    severity, original = _severity(secret.get("Severity"))
    title = text(secret.get("Title"))
    category = text(secret.get("Category"))
    # Match is the matched line with the secret masked by Trivy; it is the snippet and the only
    # place the secret text goes, so redaction finds it there.
    return ctx.finding(
        id=trivy_location_fingerprint(rule_id, ctx.artifact_path, start, ctx.image),
        rule_id=rule_id,
        severity=severity,
        message=f"Secret found: {title or rule_id}",
        kind=FindingKind.SECRET,
        rule_name=title,
        original_severity=original,
        tags=[category] if category else [],
        location=Location(
            path=ctx.artifact_path, start_line=start, end_line=positive(secret.get("EndLine"))
        ),
        snippet=raw_text(secret.get("Match")) or _code_lines(secret.get("Code")),
    )


def _license(lic: Mapping[str, Any], ctx: _Context, where: str, i: int) -> Finding:
    name = require_text(lic.get("Name"), ctx.file, f"{where}.Licenses[{i}].Name")
    pkg = text(lic.get("PkgName"))
    # Trivy's SARIF names a license rule "<package>:<license>" (empty package for files).
    rule_id = f"{pkg or ''}:{name}"
    severity, original = _severity(lic.get("Severity"))
    category = text(lic.get("Category"))
    file_path = normalize_path(lic.get("FilePath"))
    subject = pkg or file_path or ctx.target or "the scanned artifact"
    tags = [f"license-category:{category}"] if category else []
    confidence = lic.get("Confidence")
    if isinstance(confidence, (int, float)) and not isinstance(confidence, bool):
        tags.append(f"confidence:{confidence}")
    return ctx.finding(
        id=trivy_location_fingerprint(rule_id, ctx.artifact_path, None, ctx.image),
        rule_id=rule_id,
        severity=severity,
        message=f"License {name} ({category or 'unclassified'}) in {subject}",
        kind=FindingKind.DEPENDENCY if pkg else FindingKind.CONFIG,
        rule_name=name,
        original_severity=original,
        help_uri=text(lic.get("Link")),
        tags=tags,
        location=Location(path=file_path or ctx.artifact_path),
        package=Package(name=pkg) if pkg else None,
    )


FORMAT = SimpleFormat(NAME, matches, parse)
