"""The demo project: a small multi-language service whose git history really fixes findings.

The project ships inside the package as data, not as a repository: ``project/history/`` holds
one folder per commit, in order (``01-initial``, ``02-fix-injection``, ...). Each folder has

- ``commit.toml``: ``message``, ``author`` (``"Name <email>"``), ``date`` (ISO 8601 with a
  UTC offset) and optionally ``delete``, a list of paths that the commit removes;
- ``files/``: every file the commit adds or changes, whole, at its path in the tree.

A path segment that starts with ``dot-`` stands for one that starts with ``.``
(``dot-github/workflows/ci.yml`` is ``.github/workflows/ci.yml``): package data globs skip
hidden files, so they are stored under a visible name.

:func:`build_demo_repository` replays the folders into a real git repository with fixed
author and committer identities and dates, isolated from the user's git configuration, so
the commit ids are the same on every machine. Revision ``N`` is tagged ``rN``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from vulntune.errors import VulntuneError

_PACKAGE = "vulntune.demo"
_HIDDEN_PREFIX = "dot-"
_GIT_SETTINGS = (
    ("commit.gpgsign", "false"),
    ("tag.gpgsign", "false"),
    ("core.autocrlf", "false"),
    ("core.fileMode", "false"),
    ("user.name", "vulntune demo"),  # commits set their own identity; this is for the rest
    ("user.email", "demo@vulntune.invalid"),
)
_AUTHOR = re.compile(r"^(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+)>$")


class DemoProjectError(VulntuneError):
    """The demo repository cannot be built: git is missing or fails, or the destination is
    not usable."""


@dataclass(frozen=True)
class Commit:
    """One step of the demo history, as described by its ``commit.toml``."""

    folder: str  # e.g. "02-fix-injection"
    message: str
    author_name: str
    author_email: str
    date: str  # ISO 8601 with offset, used as author and committer date
    delete: tuple[str, ...]


@dataclass(frozen=True)
class Revision:
    """A commit of the built repository."""

    tag: str  # "r1", "r2", ...
    sha: str
    message: str  # the whole commit message, ending in a newline
    folder: str  # the history folder it was built from
    reports: Path | None  # the scanner reports made at this revision, if there are any

    @property
    def subject(self) -> str:
        """The first line of the commit message."""
        return self.message.splitlines()[0]


@dataclass(frozen=True)
class DemoRepository:
    """A built demo repository: its working tree (checked out at the last revision) and its
    revisions, oldest first."""

    path: Path
    revisions: tuple[Revision, ...]

    @property
    def tags(self) -> tuple[str, ...]:
        """``("r1", ..., "rN")``."""
        return tuple(revision.tag for revision in self.revisions)

    def revision(self, tag: str) -> Revision:
        """The revision tagged ``tag``."""
        for revision in self.revisions:
            if revision.tag == tag:
                return revision
        raise DemoProjectError(f"the demo repository has no revision {tag!r}; it has {self.tags}")


def data_dir() -> Path:
    """The folder that holds the demo's package data (``project/``, ``reports/``)."""
    root = resources.files(_PACKAGE)
    if not isinstance(root, Path):  # zip imports: the data must be a real folder for git
        raise DemoProjectError(f"the demo data of {_PACKAGE} is not in a folder ({root})")
    return root


def reports_dir(tag: str) -> Path:
    """The folder of scanner reports made at revision ``tag`` of the demo repository."""
    folder = data_dir() / "reports" / tag
    if not folder.is_dir():
        known = sorted(p.name for p in (data_dir() / "reports").iterdir() if p.is_dir())
        raise DemoProjectError(f"no demo scanner reports for revision {tag!r}; there are {known}")
    return folder


def history() -> list[Commit]:
    """The commits of the demo history, oldest first, read from ``project/history``."""
    base = data_dir() / "project" / "history"
    return [_read_commit(folder) for folder in sorted(base.iterdir()) if folder.is_dir()]


def build_demo_repository(dest: Path) -> DemoRepository:
    """Create the demo git repository at ``dest`` (which must not exist or be an empty
    folder), one commit per history folder, tagged ``r1``..``rN``, and return it with the
    working tree at the last revision. The commit ids do not depend on the machine, the
    time or the user's git configuration."""
    git = shutil.which("git")
    if git is None:
        raise DemoProjectError(
            "git is not installed: the demo builds a git repository (install git and retry)"
        )
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise DemoProjectError(f"{dest}: the demo repository needs a new or empty folder")
    dest.mkdir(parents=True, exist_ok=True)
    commits = history()
    base = data_dir() / "project" / "history"
    _git(git, dest, None, "init", "--quiet")
    _git(git, dest, None, "symbolic-ref", "HEAD", "refs/heads/main")  # any git version
    revisions = []
    for number, commit in enumerate(commits, start=1):
        _apply(base / commit.folder / "files", dest, commit.delete)
        _git(git, dest, None, "add", "--all")
        _git(git, dest, commit, "commit", "--quiet", "--no-verify", "-m", commit.message)
        tag = f"r{number}"
        _git(git, dest, None, "tag", tag)
        sha = _git(git, dest, None, "rev-parse", "HEAD").strip()
        reports = data_dir() / "reports" / tag
        revisions.append(
            Revision(
                tag=tag,
                sha=sha,
                message=commit.message,
                folder=commit.folder,
                reports=reports if reports.is_dir() else None,
            )
        )
    return DemoRepository(path=dest, revisions=tuple(revisions))


def _read_commit(folder: Path) -> Commit:
    path = folder / "commit.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DemoProjectError(f"{path}: {exc}") from None
    try:
        message, author, date = data["message"], data["author"], data["date"]
    except KeyError as exc:
        raise DemoProjectError(f"{path}: missing key {exc.args[0]!r}") from None
    match = _AUTHOR.match(str(author))
    if match is None:
        raise DemoProjectError(f"{path}: author {author!r} is not 'Name <email>'")
    try:
        offset = datetime.fromisoformat(str(date)).utcoffset()
    except ValueError:
        offset = None
    if offset is None:  # git would read a bad date silently and the ids would change
        raise DemoProjectError(f"{path}: date {date!r} is not ISO 8601 with a UTC offset")
    delete = data.get("delete", [])
    if not isinstance(delete, list) or not all(isinstance(p, str) for p in delete):
        raise DemoProjectError(f"{path}: 'delete' must be a list of paths")
    return Commit(
        folder=folder.name,
        message=str(message).strip() + "\n",
        author_name=match["name"],
        author_email=match["email"],
        date=str(date),
        delete=tuple(delete),
    )


def _tree_path(stored: Path) -> Path:
    """The path in the repository of a file stored as ``stored`` (``dot-`` prefixes undone)."""
    return Path(*(
        "." + part[len(_HIDDEN_PREFIX):] if part.startswith(_HIDDEN_PREFIX) else part
        for part in stored.parts
    ))  # fmt: skip


def _apply(files: Path, dest: Path, delete: tuple[str, ...]) -> None:
    """Write the overlay ``files`` over the working tree at ``dest`` and remove ``delete``.
    Bytes are copied as stored, so line endings never depend on the platform; ``__pycache__``
    folders are skipped."""
    for relative in delete:
        target = dest / relative
        if not target.is_file():
            raise DemoProjectError(f"{relative}: cannot delete, the demo tree has no such file")
        target.unlink()
    if not files.is_dir():
        return
    for source in sorted(files.rglob("*")):
        relative = source.relative_to(files)
        # An installer byte-compiles the stored .py files next to them: not project files.
        if source.is_file() and "__pycache__" not in relative.parts:
            target = dest / _tree_path(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())


def _git(git: str, repo: Path, commit: Commit | None, *args: str) -> str:
    """Run git in ``repo`` with no user or system configuration; for a commit, with its
    author as both author and committer and its date as both dates."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(repo),  # no ~/.gitconfig
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LC_ALL": "C",
        "TZ": "UTC",
    }
    if commit is not None:
        env.update({
            "GIT_AUTHOR_NAME": commit.author_name,
            "GIT_AUTHOR_EMAIL": commit.author_email,
            "GIT_AUTHOR_DATE": commit.date,
            "GIT_COMMITTER_NAME": commit.author_name,
            "GIT_COMMITTER_EMAIL": commit.author_email,
            "GIT_COMMITTER_DATE": commit.date,
        })  # fmt: skip
    settings: list[str] = []
    for name, value in _GIT_SETTINGS:
        settings += ["-c", f"{name}={value}"]
    try:
        done = subprocess.run(
            [git, *settings, *args], cwd=repo, env=env, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise DemoProjectError(f"git {args[0]} could not run in {repo}: {exc}") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise DemoProjectError(
            f"git {args[0]} failed in {repo}: {detail[-1] if detail else f'exit {done.returncode}'}"
        )
    return done.stdout
