"""What `vulntune run` is given: scanner reports, each with the revision it was made at.

A report's revision comes from, in this order:

- ``REV=PATH`` on the command line (``r1=ci/bandit.json``): PATH (a file or a folder) was made at
  revision REV;
- a folder of revisions: a folder whose entries are all folders, each named after a revision of
  the source root's git repository (``reports/r1/``, ``reports/r2/``, ... or commit ids), when
  ``--source-root`` is a git repository;
- otherwise none here: a SARIF run names its own revision in ``versionControlProvenance``,
  and native JSON without a revision is taken as made at the working tree.

A named revision is resolved to its commit id in the source root's repository, so that findings
of one commit reported under two names (a tag, a sha) are the same observation.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from vulntune.errors import VulntuneError


class PipelineInputError(VulntuneError):
    """An input of `vulntune run` that cannot be used: a missing report, an unknown revision."""


@dataclass(frozen=True)
class ReportInput:
    """One report file or folder and the revision it was made at (None: unknown here)."""

    path: Path
    revision: str | None = None  # as the user named it (tag, branch, commit id)
    commit: str | None = None  # the commit id it resolves to, when the source root is git


def git_executable() -> str | None:
    return shutil.which("git")


def is_git_repository(root: Path | None) -> bool:
    """True when ``root`` is the top of a git working tree (history mining needs one)."""
    git = git_executable()
    if root is None or git is None or not root.is_dir():
        return False
    done = subprocess.run(
        [git, "-C", str(root), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and Path(done.stdout.strip()).resolve() == root.resolve()


def resolve_commit(root: Path, revision: str) -> str | None:
    """The commit id ``revision`` names in the repository at ``root``, or None."""
    git = git_executable()
    if git is None:
        return None
    done = subprocess.run(
        [git, "-C", str(root), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def parse_report_arguments(arguments: list[str], source_root: Path | None) -> list[ReportInput]:
    """Turn the PATH arguments of `vulntune run` into reports with their revisions.

    Refuses (naming the argument) a path that does not exist, an empty REV, and a revision the
    source root's git repository does not know.
    """
    if not arguments:
        raise PipelineInputError(
            "no scanner reports given: name report files or folders (REV=PATH for a revision)"
        )
    git_root = source_root if is_git_repository(source_root) else None
    inputs: list[ReportInput] = []
    for argument in arguments:
        revision, path = _split_revision(argument)
        if not path.exists():
            raise PipelineInputError(f"{path}: no such report file or folder")
        if revision is not None:
            inputs.append(_with_commit(ReportInput(path, revision), git_root, argument))
        elif (
            path.is_dir()
            and git_root is not None
            and (folders := _revision_folders(path, git_root))
        ):
            inputs += folders
        else:
            inputs.append(ReportInput(path))
    return inputs


def _split_revision(argument: str) -> tuple[str | None, Path]:
    # A path may contain "=", so only a prefix that is not itself an existing path counts.
    if "=" in argument and not Path(argument).exists():
        revision, _, rest = argument.partition("=")
        if not revision or not rest:
            raise PipelineInputError(f"{argument!r}: expected REV=PATH with both parts given")
        return revision, Path(rest)
    return None, Path(argument)


def _revision_folders(folder: Path, git_root: Path) -> list[ReportInput]:
    """One input per subfolder when ``folder`` holds only folders (hidden entries aside) and
    each is named after a revision of the repository; else none (an ordinary folder)."""
    entries = [e for e in sorted(folder.iterdir()) if not e.name.startswith(".")]
    if not entries or not all(e.is_dir() for e in entries):
        return []
    commits = [resolve_commit(git_root, e.name) for e in entries]
    if any(c is None for c in commits):
        return []
    return [ReportInput(e, e.name, c) for e, c in zip(entries, commits, strict=True)]


def _with_commit(report: ReportInput, git_root: Path | None, argument: str) -> ReportInput:
    if git_root is None or report.revision is None:
        return report
    commit = resolve_commit(git_root, report.revision)
    if commit is None:
        raise PipelineInputError(
            f"{argument}: revision {report.revision!r} is not a commit, tag or branch of the "
            f"git repository at {git_root}"
        )
    return ReportInput(report.path, report.revision, commit)
