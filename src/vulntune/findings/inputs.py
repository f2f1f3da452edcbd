"""The input files of an ingest: files, folders walked recursively, and archives opened.

:func:`input_files` yields every file to try as an :class:`InputFile`, each real file once,
and records what cannot be tried (missing paths, special files, refused archive members) in
the caller's error and skip lists.

- Folders are walked recursively in sorted order. Hidden entries (``.git``, ``.DS_Store``) and
  symlinked folders are skipped; every other regular file is tried, because formats are
  detected by content, not by name.
- Archives (gzip files, zip, tar and tar.gz archives, told by their first bytes; see
  :mod:`vulntune.io.archives`) are opened, named or found in a folder: each member is written
  to a temporary folder and tried like a file found in a folder, under the name
  ``archive!member``. A gzip file keeps its own name. Members that are refused (absolute or
  ``..`` paths, links, encrypted zip members) and archives that cannot be read or unpack past
  the limits are errors; an archive inside an archive is skipped (one level is read).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vulntune.findings.reader import detect_encoding
from vulntune.io.archives import ArchiveError, ArchiveLimits, archive_kind, iter_members


@dataclass(frozen=True)
class FileError:
    """An input that could not be read; ``problem`` says why."""

    file: str
    problem: str


SkipReason = Literal[
    "empty file",
    "not a scanner report (not JSON)",
    "not a regular file",
    "an archive inside an archive (one level is read)",
]


@dataclass(frozen=True)
class SkippedFile:
    """A file met while walking a folder (or an archive) that is not a scanner report."""

    file: str
    reason: SkipReason


@dataclass(frozen=True)
class InputFile:
    """One file to try: where to read it (a temporary file for an archive member), how
    messages name it, and whether it was named explicitly (members of archives count as
    found, like the files of a folder)."""

    path: Path
    display: str
    explicit: bool


def input_files(
    paths: Sequence[Path],
    errors: list[FileError],
    skipped: list[SkippedFile],
    exclude: Sequence[Path] = (),
    limits: ArchiveLimits | None = None,
) -> Iterator[InputFile]:
    """Every file to try under ``paths``, archives opened (see the module docs). A member's
    temporary file is deleted when the next input is asked for. ``exclude`` names files to
    leave out (the output file of a previous run)."""
    excluded = {os.path.realpath(p) for p in exclude}
    for path, display, explicit in _regular_files(paths, errors, skipped):
        if os.path.realpath(path) in excluded:
            continue
        kind = archive_kind(path)
        if kind is None:
            yield InputFile(path, display, explicit)
            continue
        with tempfile.TemporaryDirectory(prefix="vulntune-archive-") as folder:
            try:
                for member in iter_members(path, Path(folder), limits, display):
                    # A gzip file is one compressed file: it keeps its own name.
                    where = display if kind == "gzip" else f"{display}!{member.name}"
                    if member.path is not None:
                        yield InputFile(member.path, where, False)
                    elif member.skipped:
                        skipped.append(SkippedFile(where, _NESTED))
                    else:
                        errors.append(FileError(where, member.problem or "not read"))
            except ArchiveError as exc:
                errors.append(FileError(exc.where, exc.problem))


_NESTED: SkipReason = "an archive inside an archive (one level is read)"


def _regular_files(
    paths: Sequence[Path], errors: list[FileError], skipped: list[SkippedFile]
) -> Iterator[tuple[Path, str, bool]]:
    """(path, display name, named explicitly) for every regular file to try, each real file
    once; missing paths and special files become errors or skips."""
    seen: set[str] = set()
    for given in paths:
        given = Path(given)
        try:
            mode = given.stat().st_mode
        except OSError as exc:
            errors.append(FileError(str(given), f"cannot read: {exc.strerror or exc}"))
            continue
        if stat.S_ISDIR(mode):
            candidates = ((p, False) for p in _walk(given))
        else:
            candidates = iter([(given, True)])
        for path, explicit in candidates:
            real = os.path.realpath(path)
            if real in seen:
                continue
            seen.add(real)
            try:
                is_file = stat.S_ISREG(path.stat().st_mode)
            except OSError as exc:  # a dangling symlink in a folder
                errors.append(FileError(str(path), f"cannot read: {exc.strerror or exc}"))
                continue
            if is_file:
                yield path, str(path), explicit
            elif explicit:
                errors.append(FileError(str(path), "not a regular file"))
            else:
                skipped.append(SkippedFile(str(path), "not a regular file"))


def _walk(folder: Path) -> list[Path]:
    """Every non-hidden file under ``folder``, sorted by path (folder by folder)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found += [Path(dirpath) / name for name in filenames if not name.startswith(".")]
    return sorted(found, key=lambda p: p.parts)


def not_a_report(path: Path) -> SkipReason | None:
    """Why a file found in a folder is not a scanner report at all (empty, or not starting
    like JSON), or None when it looks like JSON and its failure is a real error."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return None  # the parser's own error says why
    if not head.strip():
        return "empty file"
    codec, bom = detect_encoding(head)
    text = head[bom:].decode(codec, errors="replace").lstrip(" \t\r\n\ufeff")
    if text[:1] in ("{", "["):
        return None
    return "not a scanner report (not JSON)"
