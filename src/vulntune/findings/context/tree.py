"""A read-only view of the source root (``ingest --source-root DIR``): strict path
resolution and cached file reads.

Nothing outside the source root is ever read. A path is refused (:class:`PathRefused`) and
never opened when it is absolute and not under the root, when ``..`` segments lead out of it,
or when a symlink on the way resolves outside it. Only regular files are read (no devices or
FIFOs). Files are read once and cached (LRU, by decoded size); files over ``max_file_bytes``,
binary files (a NUL byte in the first 8 KiB) and special files are refused, not read.
Manifests that declare a package are looked up here too (:meth:`SourceTree.declaration`), with
the rules of :mod:`vulntune.findings.context.manifests`.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlparse

from vulntune.findings.context.manifests import find_line, manifest_rank, package_ecosystem
from vulntune.findings.record import Package


@dataclass(frozen=True)
class ContextOptions:
    """How much context to attach and which files are too big to read."""

    lines_before: int = 5
    lines_after: int = 5
    max_region_lines: int = 30  # of a long flagged region, only the first lines are kept
    max_line_chars: int = 400  # longer lines (minified code) are cut around the finding
    max_file_bytes: int = 8 * 1024 * 1024
    cache_bytes: int = 64 * 1024 * 1024  # decoded files kept in memory (LRU)


@dataclass(frozen=True)
class Declaration:
    """The manifest line that declares a package."""

    path: str  # relative to the source root
    line: int  # 1-based


# Why a path under the source root is not read.
RefusalKind = Literal["outside-root", "missing", "not-a-file", "too-large", "binary", "unreadable"]


class PathRefused(Exception):
    """A path that cannot be read under the source root (becomes a ContextProblem)."""

    def __init__(self, kind: RefusalKind, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:/")
_BINARY_SNIFF = 8192


class SourceTree:
    """A read-only view of a source root: strict path resolution and cached file reads."""

    def __init__(self, root: Path, options: ContextOptions | None = None) -> None:
        self.options = options or ContextOptions()
        self.root = Path(os.path.abspath(root))
        self.real_root = Path(os.path.realpath(root))
        self._cache: OrderedDict[str, list[str] | PathRefused] = OrderedDict()
        self._cached_chars = 0
        self._all_files: list[str] | None = None
        self._declarations: dict[tuple[str, str | None, tuple[str, ...]], Declaration | None] = {}
        self._manifest_texts: dict[str, str | None] = {}

    def relative(self, raw: str) -> str:
        """``raw`` (relative, absolute or a ``file:`` URI) as a normalised POSIX path relative
        to the root, checked lexically and through symlinks; raises PathRefused."""
        path = raw
        if path.startswith("file:"):
            path = unquote(urlparse(path).path)
        path = path.replace("\\", "/")
        if _WINDOWS_ABSOLUTE.match(path):
            raise PathRefused("outside-root", f"absolute path {raw} is outside the source root")
        if path.startswith("/"):
            path = posixpath.normpath(path)
            for base in (self.root.as_posix(), self.real_root.as_posix()):
                base = base.rstrip("/")
                if path.startswith(base + "/"):
                    path = path[len(base) + 1 :]
                    break
            else:
                raise PathRefused("outside-root", f"absolute path {raw} is outside the source root")
        normal = posixpath.normpath(path)
        if normal == ".." or normal.startswith("../"):
            raise PathRefused("outside-root", f"path {raw} leads out of the source root via '..'")
        if normal in (".", ""):
            raise PathRefused("not-a-file", f"path {raw!r} names the source root itself")
        self._real_path(normal, raw)
        return normal

    def _real_path(self, relative: str, raw: str) -> str:
        """The symlink-free path of ``relative``; raises PathRefused when it leaves the root."""
        real = os.path.realpath(self.real_root / relative)
        if not real.startswith(str(self.real_root).rstrip(os.sep) + os.sep):
            raise PathRefused(
                "outside-root", f"path {raw} goes through a symlink out of the source root"
            )
        return real

    def lines(self, relative: str) -> list[str]:
        """The lines of a file under the root (already checked by :meth:`relative`), decoded
        as UTF-8/UTF-16 by BOM, undecodable bytes replaced; cached. Raises PathRefused."""
        cached = self._cache.get(relative)
        if cached is not None:
            self._cache.move_to_end(relative)
            if isinstance(cached, PathRefused):
                raise cached
            return cached
        try:
            result: list[str] | PathRefused = self._read(relative)
        except PathRefused as exc:
            result = exc
        self._remember(relative, result)
        if isinstance(result, PathRefused):
            raise result
        return result

    def _read(self, relative: str) -> list[str]:
        # Resolved again right before reading: files found by walking the tree can be symlinks.
        full = Path(self._real_path(relative, relative))
        try:
            st = os.stat(full)
        except FileNotFoundError:
            raise PathRefused(
                "missing", f"{relative} does not exist under the source root"
            ) from None
        except OSError as exc:
            raise PathRefused("unreadable", f"{relative}: {exc.strerror}") from None
        if not stat.S_ISREG(st.st_mode):
            raise PathRefused("not-a-file", f"{relative} is not a regular file")
        if st.st_size > self.options.max_file_bytes:
            raise PathRefused(
                "too-large", f"{relative} is larger than {self.options.max_file_bytes} bytes"
            )
        try:
            data = full.read_bytes()
        except OSError as exc:
            raise PathRefused("unreadable", f"{relative}: {exc.strerror}") from None
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16", errors="replace")
        elif b"\0" in data[:_BINARY_SNIFF]:
            raise PathRefused("binary", f"{relative} is a binary file")
        else:
            text = data.decode("utf-8-sig", errors="replace")
        lines = [line.removesuffix("\r") for line in text.split("\n")]
        if lines[-1] == "":
            lines.pop()  # "a\nb\n" has two lines, as editors and scanners count them
        return lines

    def _remember(self, relative: str, result: list[str] | PathRefused) -> None:
        size = sum(len(x) for x in result) if isinstance(result, list) else 0
        self._cache[relative] = result
        self._cached_chars += size
        while self._cached_chars > self.options.cache_bytes and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cached_chars -= sum(len(x) for x in old) if isinstance(old, list) else 0

    def declaration(self, package: Package, preferred: list[str]) -> Declaration | None:
        """Where ``package`` is declared: in ``preferred`` files first, then in the
        ecosystem's manifests under the root (best rank, then shallowest); memoised."""
        ecosystem = package_ecosystem(package)
        key = (package.name, ecosystem, tuple(preferred))
        if key in self._declarations:
            return self._declarations[key]
        candidates = sorted(
            (rank, path.count("/"), path)
            for path in self.all_files()
            if (rank := manifest_rank(path, ecosystem)) is not None
        )
        result = None
        for path in [*preferred, *(path for _, _, path in candidates)]:
            text = self._manifest_text(path)
            number = find_line(path, text, package, ecosystem) if text is not None else None
            if number is not None:
                result = Declaration(path, number)
                break
        self._declarations[key] = result
        return result

    def _manifest_text(self, relative: str) -> str | None:
        if relative not in self._manifest_texts:
            try:
                text: str | None = "\n".join(self.lines(relative))
            except PathRefused:
                text = None
            self._manifest_texts[relative] = text
        return self._manifest_texts[relative]

    def all_files(self) -> list[str]:
        """Relative paths of all files under the root (symlinks not followed, VCS, virtualenv
        and dependency folders skipped), sorted; computed once."""
        if self._all_files is None:
            found: list[str] = []
            for dirpath, dirnames, filenames in os.walk(self.real_root, followlinks=False):
                dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
                rel_dir = os.path.relpath(dirpath, self.real_root)
                for name in filenames:
                    found.append(
                        name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
                    )
                if len(found) > _MAX_WALK_FILES:
                    break
            self._all_files = sorted(found)
        return self._all_files


_SKIP_DIRS = frozenset((
    ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", "target", "dist",
))  # fmt: skip
_MAX_WALK_FILES = 200_000


def is_absolute(path: str) -> bool:
    """True for a path the tool wrote absolute: POSIX, a ``file:`` URI, or a Windows drive."""
    return path.startswith(("/", "file:")) or _WINDOWS_ABSOLUTE.match(path) is not None
