"""Reading archives safely: gzip files, zip archives and tar archives (plain or gzip-compressed).

A CI system hands its reports over as an archive (a GitHub Actions artifact downloads as a zip)
and large reports are kept gzip-compressed. :func:`archive_kind` tells such a file by its
first bytes, never by its name (a file named ``.zip`` that is not one is an ordinary file), and
:func:`iter_members` writes the archive's regular files one at a time into a folder for the
caller to read, deleting each when the caller moves on.

What is refused, per member (an :class:`ArchiveMember` with a ``problem``, the other members
still read): names that are absolute or contain ``..`` (they would land outside any folder they
were unpacked into), links and special files, encrypted (password-protected) zip members, and
archives inside the archive, which are not opened: one level is read. A gzip-compressed member
(``results.sarif.gz`` in a zip) is a compressed file, not an archive, and is decompressed.

What stops the whole archive (:class:`ArchiveError`): an archive that cannot be read
(truncated, corrupt) and a zip bomb: every member is decompressed through a counter, whatever
its header claims, and reading stops when a member or the whole archive grows past
:class:`ArchiveLimits` or expands more than ``max_ratio`` times its compressed size. Members
read before the stop stay read.
"""

from __future__ import annotations

import gzip
import os
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Literal

from vulntune.errors import VulntuneError

ArchiveKind = Literal["gzip", "zip", "tar", "tar.gz"]

MIB = 1 << 20
_CHUNK = MIB
_TAR_MAGIC_OFFSET = 257  # "ustar" in a POSIX tar header


class ArchiveError(VulntuneError):
    """An archive (or one of its members) cannot be read safely. ``where`` names it (as
    ``archive!member`` where a member is at fault), ``problem`` says what is wrong."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


@dataclass(frozen=True)
class ArchiveLimits:
    """How much an archive may unpack to. ``max_ratio`` (uncompressed / compressed size) is
    checked once a member or archive has unpacked ``ratio_floor`` bytes: small files of
    repetitive JSON compress very well, bombs are large."""

    max_member_bytes: int = 4096 * MIB
    max_total_bytes: int = 4096 * MIB
    max_ratio: float = 200.0
    ratio_floor: int = 16 * MIB

    @classmethod
    def total_mib(cls, mib: int) -> ArchiveLimits:
        """Limits for at most ``mib`` MiB unpacked per archive (and per member)."""
        return cls(max_member_bytes=mib * MIB, max_total_bytes=mib * MIB)


@dataclass(frozen=True)
class ArchiveMember:
    """One member of an archive: written to ``path`` for reading, or refused (``problem``;
    ``skipped`` for a member that is simply not a report, such as a nested archive)."""

    name: str
    path: Path | None = None
    problem: str | None = None
    skipped: bool = False


def archive_kind(path: Path) -> ArchiveKind | None:
    """What kind of archive ``path`` holds, by its first bytes; None for any other file."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
            if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
                return "zip"
            if head.startswith(b"\x1f\x8b"):
                handle.seek(0)
                return "tar.gz" if _is_tar(_gunzip_head(handle)) else "gzip"
            handle.seek(0)
            return "tar" if _is_tar(handle.read(_TAR_MAGIC_OFFSET + 8)) else None
    except OSError:
        return None  # the reader of the file reports it


def iter_members(
    path: Path, into: Path, limits: ArchiveLimits | None = None, display: str | None = None
) -> Iterator[ArchiveMember]:
    """Each regular file of the archive ``path``, written into the folder ``into`` (and
    deleted when the next member is asked for), or refused. ``display`` names the archive in
    messages (default: ``path``). Raises :class:`ArchiveError` when the archive cannot be read
    or exceeds ``limits``."""
    limits = limits or ArchiveLimits()
    display = display or str(path)
    kind = archive_kind(path)
    if kind is None:
        raise ArchiveError(display, "not a gzip, zip or tar archive")
    budget = _Budget(limits, display, os.path.getsize(path))
    if kind == "gzip":
        members = _gzip_member(path, into, budget)
    elif kind == "zip":
        members = _zip_members(path, into, budget)
    else:
        members = _tar_members(path, into, budget)
    count = 0
    for member in members:
        count += 1
        try:
            yield member
        finally:
            if member.path is not None:
                member.path.unlink(missing_ok=True)
    if count == 0:
        raise ArchiveError(display, "the archive is empty")


# --------------------------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------------------------


def _gzip_member(path: Path, into: Path, budget: _Budget) -> Iterator[ArchiveMember]:
    """A gzip file is one compressed file: its name without ``.gz``."""
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    budget.single = True
    with gzip.open(path, "rb") as source:
        yield _unpacked(name, source, into, budget, compressed=None)


def _zip_members(path: Path, into: Path, budget: _Budget) -> Iterator[ArchiveMember]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveError(budget.display, f"not a readable zip archive ({exc})") from None
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            refused = _refused_name(info.filename)
            # Unix file type bits, where the zip was made on Unix (0: not recorded).
            file_type = stat.S_IFMT(info.external_attr >> 16)
            if refused is None and file_type and file_type != stat.S_IFREG:
                refused = "a link or special file: not read"
            if refused is None and info.flag_bits & 0x1:
                refused = "encrypted (password-protected): not read"
            if refused is not None:
                yield ArchiveMember(info.filename, problem=refused)
                continue
            budget.expect(info.filename, info.file_size, info.compress_size)
            try:
                with archive.open(info) as source:
                    yield _unpacked(info.filename, source, into, budget, info.compress_size)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise ArchiveError(budget.where(info.filename), _reason(exc)) from None


def _tar_members(path: Path, into: Path, budget: _Budget) -> Iterator[ArchiveMember]:
    try:
        archive = tarfile.open(path, "r:*")  # noqa: SIM115 - closed by the `with` below
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(budget.display, f"not a readable tar archive ({exc})") from None
    with archive:
        while True:
            try:
                info = archive.next()
            except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
                raise ArchiveError(budget.display, _reason(exc)) from None
            if info is None:
                return
            if info.isdir():
                continue
            refused = _refused_name(info.name)
            if refused is None and not info.isreg():
                kind = "a symbolic link" if info.issym() else "a link or special file"
                refused = f"{kind}: not read"
            if refused is not None:
                yield ArchiveMember(info.name, problem=refused)
                continue
            budget.expect(info.name, info.size, None)
            source = archive.extractfile(info)
            if source is None:  # pragma: no cover - isreg() members always have content
                continue
            try:
                yield _unpacked(info.name, source, into, budget, compressed=None)
            except (tarfile.TarError, EOFError, zlib.error) as exc:
                raise ArchiveError(budget.where(info.name), _reason(exc)) from None


# --------------------------------------------------------------------------------------------
# Members
# --------------------------------------------------------------------------------------------


def _unpacked(
    name: str, source: IO[bytes], into: Path, budget: _Budget, compressed: int | None
) -> ArchiveMember:
    """Copy one member into ``into`` through the budget; a gzip-compressed member is
    decompressed on the way, an archive inside the archive is not kept."""
    target = into / f"member-{budget.members}"
    budget.members += 1
    try:
        head = source.read(2)
        reader: IO[bytes] = source
        if head == b"\x1f\x8b":  # a compressed file inside the archive: one more layer
            reader = gzip.GzipFile(fileobj=_Prefixed(head, source), mode="rb")
            head = b""
        with open(target, "wb") as out:
            out.write(head)
            size = len(head)
            budget.add(name, len(head), compressed, size)
            while chunk := reader.read(_CHUNK):
                out.write(chunk)
                size += len(chunk)
                budget.add(name, len(chunk), compressed, size)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        target.unlink(missing_ok=True)
        raise ArchiveError(budget.where(name), _reason(exc)) from None
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise ArchiveError(budget.where(name), f"cannot unpack: {exc.strerror or exc}") from None
    if archive_kind(target) in ("zip", "tar", "tar.gz"):
        target.unlink()
        return ArchiveMember(
            name, problem="an archive inside the archive: not opened (one level)", skipped=True
        )
    return ArchiveMember(name, path=target)


def _refused_name(name: str) -> str | None:
    """Why a member name is refused: absolute, a drive letter, or a ``..`` component."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or re.match(r"[A-Za-z]:", posix):
        return "an absolute path: refused"
    if ".." in PurePosixPath(posix).parts:
        return "a '..' path that leaves the archive: refused"
    return None


class _Budget:
    """The unpacked bytes of one archive against its limits."""

    def __init__(self, limits: ArchiveLimits, display: str, archive_bytes: int) -> None:
        self.limits = limits
        self.display = display
        self.archive_bytes = max(archive_bytes, 1)
        self.total = 0
        self.members = 0
        self.single = False  # a gzip file: its one member is the file itself

    def where(self, name: str) -> str:
        """How messages name a member: ``archive!member`` (a gzip file: the file)."""
        return self.display if self.single else f"{self.display}!{name}"

    def expect(self, name: str, declared: int, compressed: int | None) -> None:
        """Refuse a member whose header already declares too much (the counter in
        :meth:`add` also catches headers that lie)."""
        self._check(name, declared, self.total + declared, compressed, declared)

    def add(self, name: str, n: int, compressed: int | None, member_size: int) -> None:
        self.total += n
        self._check(name, member_size, self.total, compressed, member_size)

    def _check(self, name: str, member: int, total: int, compressed: int | None, size: int) -> None:
        limits, where = self.limits, self.where(name)
        advice = "; raise the limit with --max-unpacked-mb if the archive is trusted"
        if member > limits.max_member_bytes:
            raise ArchiveError(
                where, f"unpacks to more than {_mib(limits.max_member_bytes)} (a zip bomb?){advice}"
            )
        if total > limits.max_total_bytes:
            raise ArchiveError(
                where,
                f"the archive unpacks to more than {_mib(limits.max_total_bytes)} "
                f"(a zip bomb?){advice}",
            )
        base = compressed if compressed is not None else self.archive_bytes
        amount = size if compressed is not None else total
        if amount > limits.ratio_floor and amount > limits.max_ratio * max(base, 1):
            raise ArchiveError(
                where,
                f"expands more than {limits.max_ratio:g} times its compressed size "
                "(a zip bomb?); if the archive is trusted, unpack it and pass the files",
            )


class _Prefixed:
    """A byte stream with bytes already read put back in front (for GzipFile)."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        self._prefix, self._rest = prefix, rest

    def read(self, n: int = -1) -> bytes:
        if self._prefix:
            head, self._prefix = self._prefix, b""
            if n is None or n < 0:
                return head + self._rest.read()
            return head + self._rest.read(max(n - len(head), 0))
        return self._rest.read(n)


def _gunzip_head(handle: IO[bytes]) -> bytes:
    """The first bytes of a gzip stream, decompressed ("" when it cannot be read)."""
    try:
        with gzip.GzipFile(fileobj=handle, mode="rb") as source:
            return source.read(_TAR_MAGIC_OFFSET + 8)
    except (OSError, EOFError, zlib.error):
        return b""


def _is_tar(head: bytes) -> bool:
    return head[_TAR_MAGIC_OFFSET : _TAR_MAGIC_OFFSET + 5] == b"ustar"


def _mib(n: int) -> str:
    return f"{n / MIB:g} MiB"


def _reason(exc: BaseException) -> str:
    """A short reason for a read error of compressed data."""
    if isinstance(exc, EOFError):
        return "truncated: the compressed data ends before its end marker"
    text = str(exc) or type(exc).__name__
    return f"corrupt compressed data ({text})"
