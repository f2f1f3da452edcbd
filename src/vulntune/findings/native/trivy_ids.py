"""Trivy's ids: the SARIF and the native JSON of one Trivy scan must give the same ids.

Trivy's SARIF names the artifact differently from its native JSON (an OS package's image
repository without registry and tag), places image packages at a made-up line 1, and has no
ecosystem; so a Trivy finding's id is made only of what both formats carry, and in an image
scan the image it was found in. :mod:`vulntune.findings.native.trivy` and
:mod:`vulntune.findings.sarif.ids` both compute ids here.
"""

from __future__ import annotations

import re
from typing import Any

from vulntune.findings.record import Location, Package, fingerprint, place_fingerprint

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
    :func:`trivy_artifact_path`, already through :func:`~vulntune.findings.paths.uri_to_path`
    or :func:`~vulntune.findings.paths.normalize_path`), package name and installed version,
    and for an image scan the image (:func:`trivy_image_scope`: ``app/app.jar`` is a different
    file in two images). Line numbers and ecosystem are left out because Trivy's SARIF has no
    ecosystem and places image packages at a made-up line 1."""
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
