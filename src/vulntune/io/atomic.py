"""Atomic publication of artifacts: write a temporary sibling, flush it to disk, rename it.

A crash at any moment leaves either the previous state or the complete artifact at the final
path, never a half-written file or directory. That is what lets a stage decide it is done by
looking at its artifacts alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

TMP_MARKER = ".tmp-"


def _tmp_sibling(path: Path) -> Path:
    return path.with_name(f".{path.name}{TMP_MARKER}{secrets.token_hex(4)}")


def fsync_dir(path: Path) -> None:
    """Flush a directory entry (a rename inside it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_flushed(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (replacing any previous file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_sibling(path)
    try:
        _write_flushed(tmp, data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 text to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def atomic_write_jsonl(path: Path, records: Any) -> None:
    """Write an iterable of JSON-ready records, one per line, to ``path`` atomically."""
    lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in records]
    atomic_write_text(path, "".join(line + "\n" for line in lines))


@contextlib.contextmanager
def atomic_open_text(path: Path, errors: str = "strict") -> Iterator[IO[str]]:
    """Stream UTF-8 text into ``path`` atomically: the caller writes to a temporary sibling,
    which is flushed to disk and renamed over ``path`` only when the block ends without error.

    For outputs too large to build in memory first (a findings file of a big scan). On error,
    or an interrupt, the temporary is removed and any previous file at ``path`` is untouched.
    """
    # newline="\n": the same bytes on every platform.
    with _atomic_open(path, "x", encoding="utf-8", errors=errors, newline="\n") as handle:
        yield handle


@contextlib.contextmanager
def atomic_open_binary(path: Path) -> Iterator[IO[bytes]]:
    """:func:`atomic_open_text` for bytes (an encoder that writes UTF-8 itself)."""
    with _atomic_open(path, "xb") as handle:
        yield handle


@contextlib.contextmanager
def _atomic_open(path: Path, mode: str, **kwargs: Any) -> Iterator[Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_sibling(path)
    try:
        # "x": never reuse an existing file.
        with open(tmp, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def create_exclusive(path: Path, data: bytes) -> None:
    """Create ``path`` with ``data``, failing with FileExistsError if it already exists.

    The content is flushed to a temporary sibling first and then hard-linked into place, so
    the file appears complete or not at all, and an existing file is never replaced.
    """
    tmp = _tmp_sibling(path)
    try:
        _write_flushed(tmp, data)
        os.link(tmp, path)  # fails if ``path`` exists, unlike rename
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def fsync_tree(root: Path) -> None:
    """Flush every file and directory under ``root`` to disk."""
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


@contextlib.contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """Yield a temporary directory; on success it is flushed and renamed to ``path``.

    An existing directory at ``path`` is replaced: it is first renamed aside, so a partial
    directory never sits at ``path`` (a crash between the two renames leaves nothing there,
    which readers treat like a missing artifact). On error the temporary is removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_sibling(path)
    tmp.mkdir()
    try:
        yield tmp
        fsync_tree(tmp)
        if path.exists():
            old = _tmp_sibling(path)
            os.rename(path, old)
            os.rename(tmp, path)
            # What was replaced may be a file or a link: remove it, never what a link points to.
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            else:
                old.unlink()
        else:
            os.rename(tmp, path)
        fsync_dir(path.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Delete temporaries a crashed writer left in ``directory``; returns what was removed."""
    removed: list[Path] = []
    if not directory.is_dir():
        return removed
    for entry in directory.iterdir():
        if entry.name.startswith(".") and TMP_MARKER in entry.name:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    return removed
