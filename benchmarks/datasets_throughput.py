"""Findings to a dataset: ``build_dataset`` on 10,000 findings (issue 9's target: < 10 s on
2 cores).

The findings are real scanner output made many: the demo project's reports at its six
revisions (Bandit, Semgrep, Checkov, gitleaks, OSV-Scanner; 283 findings with the demo's git
repository as the source root, so code is read at each revision, fixes are mined from
history, manifests are upgraded) and the corpus reports of ``tests/data/corpus`` (SARIF and
native JSON of a real CI run, no source tree). Copies get their own id and a numbered rule
(``B602~17``), as a large rule set would give, so no two are duplicates: every copy is
observed, classified and, where its original has a fix, mined or upgraded again.

    .venv/bin/python benchmarks/datasets_throughput.py --findings 10000 --reps 3
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from vulntune.datasets.build import DatasetOptions, build_dataset, write_dataset
from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.demo import build_demo_repository, reports_dir
from vulntune.findings.ingest import ingest_paths
from vulntune.findings.record import Finding

CORPUS = Path(__file__).parents[1] / "tests" / "data" / "corpus"


def findings(total: int, demo_root: Path) -> list[Finding]:
    """``total`` findings: copies of the demo's and the corpus's, each with its own id."""
    base: list[Finding] = []
    for tag in ("r1", "r2", "r3", "r4", "r5", "r6"):
        base += ingest_paths([reports_dir(tag)], None, revision=tag).findings
    base += ingest_paths([CORPUS], None).findings
    out = []
    copy = 0
    while len(out) < total:
        for finding in base:
            if len(out) == total:
                break
            rule = finding.rule_id if copy == 0 else f"{finding.rule_id}~{copy}"
            out.append(dataclasses.replace(finding, id=f"{finding.id}-{copy}", rule_id=rule))
        copy += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    catalogue = CweCatalogue.load()
    with tempfile.TemporaryDirectory() as tmp:
        demo = build_demo_repository(Path(tmp) / "tinyparcel")
        items = findings(args.findings, demo.path)
        options = DatasetOptions(source_root=demo.path)
        times: list[float] = []
        cpus: list[float] = []
        for _ in range(args.reps):
            start, cpu = time.perf_counter(), time.process_time()
            dataset = build_dataset(items, options, catalogue=catalogue)
            write_dataset(dataset, Path(tmp) / "dataset")
            times.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
        tasks = dataset.stats["tasks"]
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
            f"python {platform.python_version()}"
        )
        print(f"findings: {len(items)} ({len({f.tool for f in items})} tools)")
        print(
            f"examples: analysis {tasks['analysis']['examples']} "
            f"(catalogue {tasks['analysis']['catalogue']}), codefix "
            f"{tasks['codefix']['examples']} (catalogue {tasks['codefix']['catalogue']})"
        )
        print(f"build + write, {args.reps} reps (wall): " + ", ".join(f"{t:.2f}s" for t in times))
        print("cpu of this process (git's own processes not included): "
              + ", ".join(f"{t:.2f}s" for t in cpus))  # fmt: skip
        print(
            f"median {statistics.median(times):.2f}s; target < 10 s: "
            f"{'met' if statistics.median(times) < 10 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
