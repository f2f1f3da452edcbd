"""Atomic publication: complete artifacts or nothing, and no temporaries left behind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vulntune.io.atomic import (
    TMP_MARKER,
    atomic_dir,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_jsonl,
    atomic_write_text,
    create_exclusive,
    remove_stale_temporaries,
)


class WriterCrashed(RuntimeError):
    pass


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_write_bytes_creates_parents_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a" / "b" / "file.bin"
    atomic_write_bytes(target, b"\x00\x01payload")
    assert target.read_bytes() == b"\x00\x01payload"
    assert _names(target.parent) == ["file.bin"]


def test_write_replaces_an_existing_file(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("old")
    inode = target.stat().st_ino
    atomic_write_text(target, "new ünïcode")
    assert target.read_bytes() == "new ünïcode".encode()
    assert target.stat().st_ino != inode  # a new file was renamed over the old one
    assert _names(tmp_path) == ["file.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("old")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]  # fails mid-write
    assert target.read_text() == "old"
    assert _names(tmp_path) == ["file.txt"]


def test_a_failed_first_write_leaves_nothing(tmp_path):
    with pytest.raises(TypeError):
        atomic_write_bytes(tmp_path / "file.txt", None)  # type: ignore[arg-type]
    assert _names(tmp_path) == []


def test_json_and_jsonl_formats(tmp_path):
    atomic_write_json(tmp_path / "o.json", {"b": 1, "a": [1, 2]})
    assert (tmp_path / "o.json").read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'
    atomic_write_jsonl(tmp_path / "r.jsonl", iter([{"z": "é", "a": 1}, {"k": None}]))
    assert (tmp_path / "r.jsonl").read_text(encoding="utf-8") == (
        '{"a": 1, "z": "é"}\n{"k": null}\n'
    )
    atomic_write_jsonl(tmp_path / "empty.jsonl", [])
    assert (tmp_path / "empty.jsonl").read_text() == ""


def test_create_exclusive_creates_once_and_refuses_an_existing_file(tmp_path):
    target = tmp_path / "manifest.json"
    create_exclusive(target, b"first")
    with pytest.raises(FileExistsError):
        create_exclusive(target, b"second")
    assert target.read_bytes() == b"first"
    assert _names(tmp_path) == ["manifest.json"]


def test_create_exclusive_refuses_an_existing_directory_or_symlink(tmp_path):
    (tmp_path / "dir").mkdir()
    with pytest.raises(FileExistsError):
        create_exclusive(tmp_path / "dir", b"x")
    (tmp_path / "link").symlink_to(tmp_path / "missing-target")
    with pytest.raises(FileExistsError):
        create_exclusive(tmp_path / "link", b"x")
    assert not (tmp_path / "missing-target").exists()
    assert _names(tmp_path) == ["dir", "link"]


def test_atomic_dir_publishes_the_complete_directory(tmp_path):
    target = tmp_path / "stage1" / "adapter"
    with atomic_dir(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(f".adapter{TMP_MARKER}")
        assert not target.exists()  # nothing at the final path while writing
        (tmp / "weights.bin").write_bytes(b"w" * 100)
        (tmp / "nested").mkdir()
        (tmp / "nested" / "config.json").write_text("{}")
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*")) == [
        "nested", "nested/config.json", "weights.bin",
    ]  # fmt: skip
    assert _names(target.parent) == ["adapter"]


def test_atomic_dir_leaves_nothing_when_the_writer_raises(tmp_path):
    target = tmp_path / "model"
    with pytest.raises(WriterCrashed), atomic_dir(target) as tmp:
        (tmp / "half.bin").write_bytes(b"half")
        raise WriterCrashed
    assert _names(tmp_path) == []


def test_atomic_dir_replaces_an_existing_directory(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.bin").write_bytes(b"old")
    (target / "shared.json").write_text('"old"')
    with atomic_dir(target) as tmp:
        (tmp / "shared.json").write_text('"new"')
    assert _names(target) == ["shared.json"]
    assert json.loads((target / "shared.json").read_text()) == "new"
    assert _names(tmp_path) == ["model"]


def test_atomic_dir_replaces_a_file_or_a_link_without_following_it(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "keep.bin").write_bytes(b"keep")
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "file").write_text("a file where a directory belongs")
    for name in ("link", "file"):
        with atomic_dir(tmp_path / name) as tmp:
            (tmp / "new.bin").write_bytes(b"new")
        assert not (tmp_path / name).is_symlink()
        assert _names(tmp_path / name) == ["new.bin"]
    assert _names(tmp_path / "real") == ["keep.bin"]  # the link's target is untouched
    assert _names(tmp_path) == ["file", "link", "real"]


def test_a_failed_replacement_keeps_the_old_directory(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.bin").write_bytes(b"old")
    with pytest.raises(WriterCrashed), atomic_dir(target) as tmp:
        (tmp / "new.bin").write_bytes(b"new")
        raise WriterCrashed
    assert _names(target) == ["old.bin"]
    assert (target / "old.bin").read_bytes() == b"old"
    assert _names(tmp_path) == ["model"]


def test_stale_temporaries_are_removed_and_nothing_else(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    work = tmp_path / "work"
    work.mkdir()
    (work / f".adapter{TMP_MARKER}0a1b2c3d").mkdir()
    (work / f".adapter{TMP_MARKER}0a1b2c3d" / "w.bin").write_bytes(b"partial")
    (work / f".metrics.jsonl{TMP_MARKER}deadbeef").write_text('{"half":')
    (work / f".link{TMP_MARKER}00000000").symlink_to(outside, target_is_directory=True)
    for keep in ("adapter", "metrics.jsonl", ".lock", f"visible{TMP_MARKER}1234", ".hidden"):
        (work / keep).write_text("real")

    removed = remove_stale_temporaries(work)
    assert sorted(p.name for p in removed) == [
        f".adapter{TMP_MARKER}0a1b2c3d",
        f".link{TMP_MARKER}00000000",
        f".metrics.jsonl{TMP_MARKER}deadbeef",
    ]
    assert _names(work) == [
        ".hidden",
        ".lock",
        "adapter",
        "metrics.jsonl",
        f"visible{TMP_MARKER}1234",
    ]
    assert (outside / "keep.txt").read_text() == "keep"  # a linked directory is not emptied
    assert remove_stale_temporaries(work) == []
    assert remove_stale_temporaries(tmp_path / "missing") == []


def test_a_crashed_atomic_dir_leaves_only_a_stale_temporary(tmp_path):
    """A writer killed inside atomic_dir (simulated by abandoning the generator) leaves a
    hidden temporary that the next stage start removes; the final path never appears."""
    target = tmp_path / "model"
    manager = atomic_dir(target)
    tmp = manager.__enter__()
    (tmp / "half.bin").write_bytes(b"half")
    # No __exit__: like SIGKILL, nothing runs after this point in the writer.
    assert not target.exists()
    assert [p.name for p in remove_stale_temporaries(tmp_path)] == [tmp.name]
    assert _names(tmp_path) == []
    del manager


def test_permissions_of_published_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "f.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644
