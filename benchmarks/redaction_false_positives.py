"""False positives of vulntune's secret redaction per 1,000 lines of real repositories' code.

Runs the generic redaction (:func:`vulntune.findings.secrets.patterns.redact_text`, what every
snippet, message and code-context line of every finding goes through) over every line of the
source and configuration files of the repositories given, and collects every line it would
change. A changed line is a true positive when it is in the reviewed allowlist
(``benchmarks/data/redaction_true_secrets.txt``: ``repo<TAB>path<TAB>line`` of the real
secrets, test keys and example credentials found by reviewing every changed line by hand);
every other changed line is a false positive: code that a prompt would show mangled.

Run it once per vulntune tree to compare (the tree is whatever ``vulntune`` imports), e.g.::

    PYTHONPATH=/tmp/vt-main/src .venv/bin/python benchmarks/redaction_false_positives.py \\
        --label main REPO_DIR...
    .venv/bin/python benchmarks/redaction_false_positives.py --label branch REPO_DIR...

Each REPO_DIR is an extracted checkout named ``owner+name`` (the form the checkouts had when
this was measured); ``--commits FILE`` adds each repository's commit to the table
(``owner+name<TAB>sha`` per line). ``--changed FILE`` writes every changed line (repo, path,
line number, before, after, verdict) as JSONL for review.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from vulntune.findings.secrets.patterns import redact_text

ALLOWLIST = Path(__file__).resolve().parent / "data" / "redaction_true_secrets.txt"

# Source and configuration files: what findings' snippets and code context are made of.
SOURCE_SUFFIXES = frozenset(
    ".py .pyi .js .jsx .mjs .cjs .ts .tsx .java .kt .kts .groovy .go .rb .php .cs .c .h .cpp "
    ".rs .swift .scala .sh .bash .tf .tfvars .hcl .yml .yaml .json .toml .ini .cfg .conf "
    ".properties .xml .html .htm .jinja .j2 .sql .env .gradle .dockerfile".split()
)
SOURCE_NAMES = frozenset({"Dockerfile", "Makefile", ".env", ".env.example", "Jenkinsfile"})
# Generated files that no scanner points findings at: lock files and minified bundles.
SKIPPED_NAMES = frozenset(
    {"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Pipfile.lock"}
)
MAX_FILE_BYTES = 1 << 20


@dataclass
class RepoResult:
    """Lines read and lines changed in one repository."""

    name: str
    commit: str
    files: int = 0
    lines: int = 0
    true_positives: int = 0
    false_positives: int = 0
    changed: list[dict[str, object]] = field(default_factory=list)


def source_files(root: Path) -> list[Path]:
    """Every source or configuration file under ``root``, sorted; hidden folders other
    than ``.github`` skipped."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d == ".github" or not d.startswith((".", "node_modules"))
        )
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name in SKIPPED_NAMES or name.endswith((".min.js", ".min.css", ".map")):
                continue
            if path.suffix.lower() in SOURCE_SUFFIXES or name in SOURCE_NAMES:
                found.append(path)
    return found


def load_allowlist(path: Path) -> set[tuple[str, str, int]]:
    """The reviewed true secrets: (repo, path, line number)."""
    allowed = set()
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                repo, file, number = line.split("\t")[:3]
                allowed.add((repo, file, int(number)))
    return allowed


def measure(root: Path, commit: str, allowed: set[tuple[str, str, int]]) -> RepoResult:
    """Redact every line of every source file of one repository."""
    result = RepoResult(root.name, commit)
    for path in source_files(root):
        data = path.read_bytes()
        if len(data) > MAX_FILE_BYTES or b"\0" in data[:8192]:
            continue
        result.files += 1
        relative = path.relative_to(root).as_posix()
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            result.lines += 1
            redacted = redact_text(line)
            if redacted == line:
                continue
            true = (root.name, relative, number) in allowed
            result.true_positives += true
            result.false_positives += not true
            result.changed.append(
                {
                    "repo": root.name,
                    "path": relative,
                    "line": number,
                    "before": line.strip()[:300],
                    "after": redacted.strip()[:300],
                    "verdict": "secret" if true else "false-positive",
                }
            )
    return result


def markdown(results: list[RepoResult], label: str) -> str:
    """One table row per repository and a total, FP per 1,000 lines."""
    rows = [
        f"| {label} | repository | commit | files | lines | changed | true secrets "
        "| false positives | FP / 1,000 lines |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        changed = r.true_positives + r.false_positives
        rate = 1000 * r.false_positives / max(r.lines, 1)
        rows.append(
            f"| {label} | {r.name.replace('+', '/')} | `{r.commit[:12]}` | {r.files} | "
            f"{r.lines} | {changed} | {r.true_positives} | {r.false_positives} | {rate:.3f} |"
        )
    lines = sum(r.lines for r in results)
    tp = sum(r.true_positives for r in results)
    fp = sum(r.false_positives for r in results)
    files = sum(r.files for r in results)
    rows.append(
        f"| {label} | **all** | | {files} | {lines} | {tp + fp} | {tp} | {fp} | "
        f"**{1000 * fp / max(lines, 1):.3f}** |"
    )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="+", type=Path, help="extracted checkouts (owner+name)")
    parser.add_argument("--label", default="this tree", help="name of the vulntune tree")
    parser.add_argument("--commits", type=Path, help="owner+name<TAB>sha per line")
    parser.add_argument("--changed", type=Path, help="write every changed line here (JSONL)")
    args = parser.parse_args()
    commits: dict[str, str] = {}
    if args.commits:
        for line in args.commits.read_text().splitlines():
            if line.strip():
                name, sha = line.split("\t")
                commits[name] = sha
    allowed = load_allowlist(ALLOWLIST)
    results = [measure(root, commits.get(root.name, "?"), allowed) for root in args.repos]
    print(markdown(results, args.label))
    if args.changed:
        with args.changed.open("w", encoding="utf-8") as out:
            for r in results:
                for entry in r.changed:
                    out.write(json.dumps(entry, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
