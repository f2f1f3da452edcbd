"""The scanned source tree, at a revision: file texts, file lists and renames.

Fix sources read files again: a dependency fix edits a manifest, a tool fix the flagged file,
a history fix compares a file at two revisions. When the source root is a git repository a
file is read at the revision its finding was reported at (one ``git cat-file --batch``
process serves every read, so mining hundreds of commits costs one process, not one per
file); otherwise, or for findings without a revision, from the working tree.

git runs with ``-c core.quotepath=off`` (paths with non-ASCII characters as they are) and
without the user's pager or external diff drivers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from vulntune.errors import VulntuneError

_GIT_ENV = {"GIT_PAGER": "cat", "GIT_EXTERNAL_DIFF": "", "LC_ALL": "C"}
_MAX_FILE_BYTES = 8 * 1024 * 1024
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", re.M)


class SourceError(VulntuneError):
    """The source root cannot be read as a tree or a git repository."""


@dataclass(frozen=True, slots=True)
class FileChange:
    """How one file changed between two revisions (``git diff -M --name-status``)."""

    status: str  # "M", "D", "R", "A", "T", "C"
    old_path: str
    new_path: str | None  # None when deleted


class SourceFiles:
    """Read-only access to the source root, at git revisions when it is a repository."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        if not self.root.is_dir():
            raise SourceError(f"{root}: --source-root is not a directory") from None
        self._git = shutil.which("git")
        self._commits: dict[str, str | None] = {}
        self._texts: dict[tuple[str, str], str | None] = {}
        self._files: dict[str | None, tuple[str, ...]] = {}
        self._changes: dict[tuple[str, str], dict[str, FileChange]] = {}
        self._added: dict[tuple[str, str], list[str]] = {}
        self._hunks: dict[tuple[str, str, str, str], list[tuple[int, int, int, int]]] = {}
        self._touching: dict[tuple[str, str, str], tuple[str, str]] = {}
        self._batch: subprocess.Popen[bytes] | None = None
        self.is_git = self._git is not None and self._run("rev-parse", "--git-dir") is not None

    # -- git plumbing -----------------------------------------------------------------------

    def _run(self, *args: str) -> str | None:
        """stdout of ``git args`` in the root, or None when git fails."""
        assert self._git is not None
        done = subprocess.run(
            [self._git, "-c", "core.quotepath=off", "-C", str(self.root), *args],
            capture_output=True,
            env={**os.environ, **_GIT_ENV},
            check=False,
        )
        if done.returncode != 0:
            return None
        return done.stdout.decode("utf-8", "surrogateescape")

    def commit(self, revision: str | None) -> str | None:
        """The commit id ``revision`` names (a sha, tag or branch); None when it names none
        or the root is not a git repository."""
        if revision is None or not self.is_git:
            return None
        if revision not in self._commits:
            out = self._run("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
            self._commits[revision] = out.strip() if out else None
        return self._commits[revision]

    def is_ancestor(self, a: str, b: str) -> bool:
        """True when commit ``a`` comes before (or is) commit ``b``."""
        return a == b or self._run("merge-base", "--is-ancestor", a, b) is not None

    def commit_subject(self, commit: str) -> str:
        """The first line of ``commit``'s message."""
        return (self._run("log", "-1", "--format=%s", commit) or "").strip()

    def order_commits(self, commits: set[str]) -> list[str]:
        """``commits`` in history order, oldest first (topological, then by date)."""
        if len(commits) < 2:
            return sorted(commits)
        out = self._run("rev-list", "--topo-order", "--reverse", *sorted(commits)) or ""
        rank = {c: n for n, c in enumerate(out.split())}
        return sorted(commits, key=lambda c: (rank.get(c, -1), c))

    def diff_hunks(
        self, a: str, b: str, old_path: str, new_path: str
    ) -> list[tuple[int, int, int, int]]:
        """The changed regions of ``git diff -U0 A B`` for one file (renames followed), as
        0-based half-open line ranges ``(i1, i2, j1, j2)``: old lines ``i1:i2`` become new
        lines ``j1:j2``."""
        key = (a, b, old_path, new_path)
        if key in self._hunks:
            return self._hunks[key]
        paths = [old_path] if old_path == new_path else [old_path, new_path]
        out = (
            self._run("diff", "--no-color", "--no-ext-diff", "-M", "-U0", a, b, "--", *paths) or ""
        )
        hunks = []
        for match in _HUNK.finditer(out):
            old_start, old_count = int(match[1]), int(match[2] or 1)
            new_start, new_count = int(match[3]), int(match[4] or 1)
            i1 = old_start if old_count == 0 else old_start - 1
            j1 = new_start if new_count == 0 else new_start - 1
            hunks.append((i1, i1 + old_count, j1, j1 + new_count))
        self._hunks[key] = hunks
        return hunks

    def last_commit_touching(self, a: str, b: str, path: str) -> tuple[str, str]:
        """The last commit after ``a`` up to ``b`` that changed ``path`` (its path at ``b``),
        and its subject; ``b`` itself when none is found."""
        key = (a, b, path)
        if key not in self._touching:
            out = self._run("log", "-1", "--format=%H%x00%s", f"{a}..{b}", "--", path) or ""
            sha, _, subject = out.strip().partition("\0")
            self._touching[key] = (sha, subject) if sha else (b, self.commit_subject(b))
        return self._touching[key]

    def _cat(self, spec: str) -> bytes | None:
        if self._batch is None:
            assert self._git is not None
            self._batch = subprocess.Popen(
                [self._git, "-C", str(self.root), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, **_GIT_ENV},
            )
        stdin: IO[bytes] | None = self._batch.stdin
        stdout: IO[bytes] | None = self._batch.stdout
        assert stdin is not None and stdout is not None
        stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
        stdin.flush()
        line = stdout.readline().rstrip(b"\n")
        # "<sha> <type> <size>", or "<spec> missing" / "<spec> ambiguous" (a spec may hold spaces)
        header = line.split(b" ")
        if len(header) != 3 or not header[2].isdigit() or len(header[0]) < 40:
            return None
        size = int(header[2])
        data = stdout.read(size)
        stdout.read(1)  # the newline after the object
        if header[1] != b"blob" or size > _MAX_FILE_BYTES:
            return None
        return data

    def close(self) -> None:
        """End the ``git cat-file`` process (reads start it again when needed)."""
        if self._batch is not None:
            for stream in (self._batch.stdin, self._batch.stdout):
                if stream is not None:
                    stream.close()
            self._batch.wait()
            self._batch = None

    def __enter__(self) -> SourceFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ----------------------------------------------------------------------------

    def text(self, path: str, commit: str | None = None) -> str | None:
        """The text of ``path`` (relative, POSIX) at ``commit`` (a commit id from
        :meth:`commit`), or in the working tree when ``commit`` is None; None when it is
        missing, binary, not UTF-8, too large or outside the root."""
        if not path or path.startswith("/") or ".." in path.split("/"):
            return None
        key = (commit or "", path)
        if key not in self._texts:
            self._texts[key] = _decode(
                self._cat(f"{commit}:{path}") if commit else self._read_worktree(path)
            )
        return self._texts[key]

    def _read_worktree(self, path: str) -> bytes | None:
        full = (self.root / path).resolve()
        if not full.is_relative_to(self.root) or not full.is_file():
            return None
        if full.stat().st_size > _MAX_FILE_BYTES:
            return None
        return full.read_bytes()

    def files(self, commit: str | None = None) -> tuple[str, ...]:
        """Every file of the tree at ``commit`` (the working tree when None), sorted."""
        if commit not in self._files:
            if commit is not None:
                out = self._run("ls-tree", "-r", "-z", "--name-only", commit) or ""
                names = [n for n in out.split("\0") if n]
            else:
                names = []
                for folder, dirs, found in os.walk(self.root):
                    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                    rel = Path(folder).relative_to(self.root)
                    names += [(rel / f).as_posix() for f in found]
            self._files[commit] = tuple(sorted(names))
        return self._files[commit]

    def changes(self, a: str, b: str) -> dict[str, FileChange]:
        """The files changed from commit ``a`` to commit ``b``, by their path at ``a``,
        following renames (``git diff -M --name-status``)."""
        if (a, b) not in self._changes:
            out = self._run("diff", "-M", "--name-status", "-z", a, b) or ""
            self._changes[(a, b)], self._added[(a, b)] = _parse_name_status(out)
        return self._changes[(a, b)]

    def written_at(self, a: str, b: str) -> list[str]:
        """The paths at ``b`` of every file added, changed or renamed since ``a``."""
        changed = self.changes(a, b)
        paths = [c.new_path for c in changed.values() if c.new_path is not None]
        return sorted({*paths, *self._added[(a, b)]})


def _decode(data: bytes | None) -> str | None:
    if data is None or b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _parse_name_status(out: str) -> tuple[dict[str, FileChange], list[str]]:
    """(changes by their path at the earlier revision, paths of added files)."""
    parts = out.split("\0")
    changes: dict[str, FileChange] = {}
    added: list[str] = []
    i = 0
    while i < len(parts) and parts[i]:
        status = parts[i][0]
        if status in ("R", "C"):
            old, new = parts[i + 1], parts[i + 2]
            i += 3
        else:
            old = new = parts[i + 1]
            i += 2
        if status == "A":
            added.append(new)  # a new file has no path at the earlier revision
            continue
        changes[old] = FileChange(status, old, None if status == "D" else new)
    return changes, added
