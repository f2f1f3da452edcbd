"""Paths as scanners write them -> clean POSIX paths relative to the source root where the
input allows: ``file://`` URIs, percent escapes, Windows separators and drive letters, SARIF
``uriBaseId`` bases, and the checkout folders of CI systems.

Part of the parser helper interface re-exported by :mod:`vulntune.findings.common`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

# Where CI systems check out the repository; a path under one of these is made relative.
# Order matters: the more specific patterns come first.
_CI_PREFIXES: list[re.Pattern[str]] = [
    re.compile(p)
    for p in (
        r"^/home/runner/work/[^/]+/[^/]+/",  # GitHub-hosted Linux runner
        r"^/Users/runner/work/[^/]+/[^/]+/",  # GitHub-hosted macOS runner
        r"^/home/[^/]+/actions-runner/_work/[^/]+/[^/]+/",  # self-hosted runner
        r"^[A-Za-z]:/a/\d+/s/",  # Azure Pipelines Windows agent
        r"^[A-Za-z]:/a/[^/]+/[^/]+/",  # GitHub-hosted Windows runner (D:\a\repo\repo)
        r"^[A-Za-z]:/actions-runner/_work/[^/]+/[^/]+/",  # self-hosted Windows runner
        r"^/__w/\d+/s/",  # Azure Pipelines container job
        r"^/__w/[^/]+/[^/]+/",  # GitHub Actions container job
        r"^/github/workspace/",  # GitHub Docker container actions
        r"^/home/vsts/work/\d+/s/",  # Azure Pipelines Linux agent
        r"^/builds/[^/]+/[^/]+/",  # GitLab CI (CI_PROJECT_DIR)
        r"^/var/jenkins_home/workspace/[^/]+/",  # Jenkins (docker image)
        r"^/var/lib/jenkins/workspace/[^/]+/",  # Jenkins (packages)
        r"^/home/jenkins/(?:agent/)?workspace/[^/]+/",  # Jenkins agents
        r"^[A-Za-z]:/(?:ProgramData/)?Jenkins/(?:\.jenkins/)?workspace/[^/]+/",  # Jenkins Windows
        r"^/home/circleci/project/",  # CircleCI
        r"^/opt/atlassian/pipelines/agent/build/",  # Bitbucket Pipelines
        r"^/home/travis/build/[^/]+/[^/]+/",  # Travis CI
        r"^/drone/src/",  # Drone
        r"^/workspace/source/",  # Tekton convention
    )
]

# One alternation: the regex engine tries the alternatives in the order above.
_CI_PREFIX_RE = re.compile("|".join(f"(?:{p.pattern})" for p in _CI_PREFIXES))
_DRIVE_RE = re.compile(r"^/?([A-Za-z]):(?=/|$)")
_URI_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
# A relative URI that is already a clean path: no scheme, drive, escape, backslash, space,
# empty or dot segment. uri_to_path returns such a URI unchanged when no base applies.
_CLEAN_RELATIVE_RE = re.compile(r"[\w-][\w.-]*(?:/[\w-][\w.-]*)*")


def strip_ci_prefix(path: str) -> str:
    """``path`` (POSIX separators) without a CI checkout prefix such as
    ``/home/runner/work/<repo>/<repo>/`` or ``/github/workspace/``; unchanged otherwise."""
    if path[:1] != "/" and path[1:2] != ":":
        return path  # relative: nothing to strip
    match = _CI_PREFIX_RE.match(path)
    return path[match.end() :] if match else path


def normalize_path(path: Any) -> str | None:
    """A file system path from a native report as a clean POSIX path: Windows separators made
    ``/``, drive letters kept (``C:/x``), ``./`` and duplicate slashes removed, ``a/../b``
    folded, CI checkout prefixes stripped. No percent-decoding (a native path is not a URI).

    Other absolute paths stay absolute, so the ingest step can make them relative to the
    source root or reject them. Empty or non-string input gives None.
    """
    if not isinstance(path, str):
        return None
    text = path.strip().replace("\\", "/")
    if not text:
        return None
    drive = _DRIVE_RE.match(text)
    if drive:
        text = f"{drive.group(1).upper()}:" + text[drive.end() :]
    text = strip_ci_prefix(_fold_segments(text))
    return text or None


def _fold_segments(path: str) -> str:
    """Remove empty and ``.`` segments and fold ``x/..`` without touching the file system."""
    if "//" not in path and "/." not in path and not path.startswith(".") and path[-1:] != "/":
        return path  # already clean (the common case)
    absolute = path.startswith("/")
    unc = path.startswith("//")
    parts: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == ".." and parts and parts[-1] != ".." and not parts[-1].endswith(":"):
            parts.pop()
            continue
        if segment == ".." and absolute and not parts:
            continue  # "/.." is "/"
        parts.append(segment)
    folded = "/".join(parts)
    if unc:
        return "//" + folded
    if absolute:
        return "/" + folded
    return folded


def uri_to_path(
    uri: Any,
    uri_base_id: Any = None,
    base_uris: Mapping[str, Any] | None = None,
) -> str | None:
    """A SARIF ``artifactLocation`` (``uri`` + optional ``uriBaseId``) as a clean POSIX path.

    ``base_uris`` is the run's ``originalUriBaseIds`` (``{"SRCROOT": {"uri": "file:///src/"}}``;
    plain strings are accepted too); bases may chain through their own ``uriBaseId``. A base
    that is the bare file system root (``file:///``) adds nothing and is ignored, so a relative
    uri stays relative. ``file://`` URIs lose their scheme, percent escapes are decoded, and the
    result goes through :func:`normalize_path`. Other schemes (``https://...``) are returned
    unchanged apart from decoding. An unknown ``uriBaseId`` leaves the uri relative.
    """
    if not isinstance(uri, str):
        return None
    if _CLEAN_RELATIVE_RE.fullmatch(uri) and not base_uris:
        return uri  # the common case: what the steps below would return
    return _uri_to_path(uri, uri_base_id, base_uris)


def _uri_to_path(uri: str, uri_base_id: Any, base_uris: Mapping[str, Any] | None) -> str | None:
    """:func:`uri_to_path`, step by step."""
    if not uri.strip():
        return None
    text = uri.strip()
    if not _URI_SCHEME_RE.match(text) or _DRIVE_RE.match(text):
        base = _resolve_base(uri_base_id, base_uris or {}, depth=0)
        if base and not text.startswith("/"):
            text = base.rstrip("/") + "/" + text
    return _decode_uri(text)


def _resolve_base(base_id: Any, base_uris: Mapping[str, Any], depth: int) -> str | None:
    """The base URI for ``base_id`` with any chained bases applied; None when unknown."""
    if not isinstance(base_id, str) or depth > 8:
        return None
    entry = base_uris.get(base_id)
    if isinstance(entry, Mapping):
        uri, parent = entry.get("uri"), entry.get("uriBaseId")
    else:
        uri, parent = entry, None
    if not isinstance(uri, str) or not uri.strip():
        return _resolve_base(parent, base_uris, depth + 1) if parent else None
    uri = uri.strip()
    if parent and not _URI_SCHEME_RE.match(uri) and not uri.startswith("/"):
        parent_uri = _resolve_base(parent, base_uris, depth + 1)
        if parent_uri:
            uri = parent_uri.rstrip("/") + "/" + uri
    if uri.lower().rstrip("/") in ("file:", "file://", ""):
        return None  # the file system root: the producer did not know the source root
    return uri


def _decode_uri(text: str) -> str | None:
    lowered = text.lower()
    if lowered.startswith("file:"):
        rest = text[5:]
        if rest.startswith("//"):
            rest = rest[2:]
            host, slash, tail = rest.partition("/")
            if host and host.lower() != "localhost":
                # file://server/share/x is a UNC path; "file://C:/x" is a sloppy drive path.
                rest = ("/" + rest) if _DRIVE_RE.match(host + "/") else "//" + host + slash + tail
            else:
                rest = slash + tail
        return normalize_path(unquote(rest))
    if _URI_SCHEME_RE.match(text) and not _DRIVE_RE.match(text):
        return unquote(text)
    return normalize_path(unquote(text))
