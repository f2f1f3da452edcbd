"""The source tree at git revisions: texts through one cat-file process, renames, order."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from vulntune.datasets.sources import SourceError, SourceFiles

ENV = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "T",
       "GIT_COMMITTER_EMAIL": "t@e", "GIT_CONFIG_GLOBAL": os.devnull}  # fmt: skip


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], env=ENV, capture_output=True, text=True)
    done.check_returncode()
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, str]:
    _git(tmp_path, "init", "-q")
    (tmp_path / "ä dir").mkdir()
    (tmp_path / "ä dir" / "old.py").write_text("a = 1\nb = 2\nc = 3\nd = 4\n")
    (tmp_path / "gone.txt").write_text("x\n")
    (tmp_path / "bin.dat").write_bytes(b"\0\1\2")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "one")
    first = _git(tmp_path, "rev-parse", "HEAD")
    _git(tmp_path, "mv", "ä dir/old.py", "ä dir/new.py")
    (tmp_path / "ä dir" / "new.py").write_text("a = 1\nb = 20\nc = 3\nd = 4\n")
    (tmp_path / "gone.txt").unlink()
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "Rename and fix b")
    return tmp_path, first, _git(tmp_path, "rev-parse", "HEAD")


def test_texts_at_revisions_and_in_the_working_tree(repo) -> None:
    root, first, second = repo
    with SourceFiles(root) as sources:
        assert sources.is_git
        assert sources.commit("HEAD~1") == first and sources.commit("nope") is None
        assert sources.text("ä dir/old.py", first) == "a = 1\nb = 2\nc = 3\nd = 4\n"
        assert sources.text("ä dir/old.py", second) is None
        assert sources.text("ä dir/new.py", None) == "a = 1\nb = 20\nc = 3\nd = 4\n"
        assert sources.text("bin.dat", first) is None
        assert sources.text("../etc/passwd") is None
        assert sources.files(first) == ("bin.dat", "gone.txt", "ä dir/old.py")


def test_renames_deletions_hunks_and_order(repo) -> None:
    root, first, second = repo
    with SourceFiles(root) as sources:
        changes = sources.changes(first, second)
        assert changes["ä dir/old.py"].status == "R"
        assert changes["ä dir/old.py"].new_path == "ä dir/new.py"
        assert changes["gone.txt"].new_path is None
        assert sources.diff_hunks(first, second, "ä dir/old.py", "ä dir/new.py") == [(1, 2, 1, 2)]
        assert sources.order_commits({second, first}) == [first, second]
        assert sources.last_commit_touching(first, second, "ä dir/new.py") == (
            second, "Rename and fix b",
        )  # fmt: skip


def test_a_plain_folder_is_read_from_the_tree(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    sources = SourceFiles(tmp_path)
    assert not sources.is_git and sources.commit("HEAD") is None
    assert sources.text("a.py") == "x = 1\n"
    with pytest.raises(SourceError, match="not a directory"):
        SourceFiles(tmp_path / "a.py")
