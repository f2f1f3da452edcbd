"""History mining over a real repository: findings of Bandit at two revisions N commits
apart, mined by ``build_dataset`` (issue 9's target: 200 commits in under 60 s).

The repository is a local clone; Bandit runs at both revisions (checked out with
``git worktree``; not timed, it is the user's CI); the timed part is ingesting both reports
and building the dataset with the clone as the source root (code read at each revision with
``git cat-file --batch``, renames followed, git's hunks per fixed finding).

    python3 -m venv /tmp/bandit && /tmp/bandit/bin/pip install bandit
    .venv/bin/python benchmarks/datasets_history.py --repo CLONE --commits 200 \\
        --bandit /tmp/bandit/bin/bandit
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from vulntune.datasets.build import DatasetOptions, build_dataset
from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.findings.ingest import ingest_paths


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    done.check_returncode()
    return done.stdout.strip()


def scan(repo: Path, commit: str, bandit: str, out: Path) -> Path:
    """Bandit's JSON report of ``repo`` at ``commit`` (paths relative to the repository)."""
    tree = out / f"tree-{commit[:12]}"
    git(repo, "worktree", "add", "--detach", "--quiet", str(tree), commit)
    report = out / f"bandit-{commit[:12]}.json"
    try:
        subprocess.run(
            [bandit, "-r", ".", "-f", "json", "-o", str(report), "-q"],
            cwd=tree,
            capture_output=True,
        )
    finally:
        git(repo, "worktree", "remove", "--force", str(tree))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--commits", type=int, default=200, help="first-parent distance")
    parser.add_argument("--head", default="HEAD")
    parser.add_argument("--bandit", default="bandit")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    b = git(args.repo, "rev-parse", args.head)
    a = git(args.repo, "rev-parse", f"{b}~{args.commits}")
    between = git(args.repo, "rev-list", "--count", f"{a}..{b}")
    catalogue = CweCatalogue.load()
    with tempfile.TemporaryDirectory() as tmp:
        reports = {c: scan(args.repo, c, args.bandit, Path(tmp)) for c in (a, b)}
        times = []
        for _ in range(args.reps):
            start = time.perf_counter()
            cpu = time.process_time()
            findings = []
            for commit, report in reports.items():
                findings += ingest_paths([report], None, revision=commit).findings
            dataset = build_dataset(
                findings, DatasetOptions(source_root=args.repo, catalogue=False),
                catalogue=catalogue,
            )  # fmt: skip
            times.append((time.perf_counter() - start, time.process_time() - cpu))
    per_rev = Counter(f.origin.revision for f in findings)
    mined = [e for e in dataset.examples("codefix") if e.meta.fix_source == "history"]
    drops = Counter(d.reason for d in dataset.dropped if d.task == "codefix")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}, python {platform.python_version()}")  # fmt: skip
    print(f"repository: {args.repo} A={a[:12]} B={b[:12]}, {between} commits A..B "
          f"({args.commits} first-parent)")  # fmt: skip
    print(f"findings: {per_rev[a]} at A, {per_rev[b]} at B")
    print(f"mined fixes: {len(mined)}; code-fix drops: {dict(sorted(drops.items()))}")
    print("ingest + build (wall, cpu of this process): " + ", ".join(
        f"{w:.2f}s/{c:.2f}s" for w, c in times))  # fmt: skip
    best = min(w for w, _ in times)
    print(f"best {best:.2f}s; target < 60 s: {'met' if best < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
