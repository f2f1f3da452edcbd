"""Findings per second of `vulntune analyze`, generating one by one and batched, side by side.

Input: the Semgrep SARIF report of the in-repo corpus (107 findings,
tests/data/corpus/webauthn-server-ci/semgrep-results-*/semgrep.sarif.gz), analysed with a
base model (default smollm2-135m) through :func:`vulntune.inference.analyze_job.
analyze_reports` exactly as the CLI runs it, SARIF output included. Each mode's completer
comes from :data:`MODES`; the modes take turns on the same findings, repetition by
repetition, and the medians are compared. ``--limit N`` analyses the first N findings only
(one-by-one generation of all 107 takes tens of minutes on 2 CPU cores); findings/s is
comparable across limits only roughly (prompts differ in length).

Run it under the machine-wide lock (it loads SmolLM2):

    flock /tmp/vulntune-heavy.lock .venv/bin/python benchmarks/analyze_throughput.py \\
        --modes one-by-one batched --limit 16 --results benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import torch

from vulntune.inference.analyze_job import analyze_reports
from vulntune.inference.analyze_model import (
    AnalysisModel,
    Completer,
    batched_completer,
    model_from_spec,
    one_by_one_completer,
)

ROOT = Path(__file__).resolve().parents[1]
REPORT = (
    ROOT
    / "tests/data/corpus/webauthn-server-ci/semgrep-results-workflow_dispatch-392"
    / "semgrep.sarif.gz"
)
# The switch: each mode's completer. `batched` needs the batched generator of issue 10.
MODES: dict[str, Callable[[AnalysisModel], Completer]] = {
    "one-by-one": one_by_one_completer,
    "batched": batched_completer,
}
MARK = "analyze_throughput"


def limited_report(limit: int | None, directory: Path) -> tuple[Path, int]:
    """The Semgrep report (its first ``limit`` results) as a plain SARIF file."""
    doc = json.loads(gzip.decompress(REPORT.read_bytes()))
    results = doc["runs"][0]["results"]
    if limit is not None:
        doc["runs"][0]["results"] = results[:limit]
    path = directory / "semgrep.sarif"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path, len(doc["runs"][0]["results"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--limit", type=int, default=None, help="first N findings only")
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--results", type=Path, help="update this RESULTS.md section")
    args = parser.parse_args()

    model = model_from_spec(args.model)
    completers = {}
    for mode in args.modes:
        started = time.perf_counter()
        completers[mode] = MODES[mode](model)
        print(f"{mode}: loaded in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    times: dict[str, list[float]] = {mode: [] for mode in args.modes}
    stats: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        report, findings = limited_report(args.limit, Path(tmp))
        for rep in range(args.reps):
            for mode in args.modes:
                started = time.perf_counter()

                def progress(
                    task: str, done: int, total: int, mode: str = mode, started: float = started
                ) -> None:
                    elapsed = time.perf_counter() - started
                    print(f"  {mode} {task}: {done}/{total} at {elapsed:.0f}s", file=sys.stderr)

                outcome = analyze_reports(
                    [report],
                    model,
                    completers[mode],
                    "sarif",
                    output=Path(tmp) / "out.sarif",
                    progress=progress,
                )
                seconds = time.perf_counter() - started
                times[mode].append(seconds)
                result = outcome.result
                stats[mode] = {
                    "findings": len(result.items),
                    "analysed": result.analysed,
                    "fixes_applying": result.fixes_applying,
                }
                print(
                    f"rep {rep + 1} {mode}: {seconds:.1f}s, {findings / seconds:.3f} findings/s, "
                    f"{stats[mode]}",
                    file=sys.stderr,
                )
    lines = render(args, model, findings, times, stats)
    print("\n".join(lines))
    if args.results is not None:
        update_results(args.results, lines)


def render(args, model, findings, times, stats) -> list[str]:
    medians = {mode: statistics.median(values) for mode, values in times.items()}
    lines = [
        f"<!-- {MARK}:start -->",
        "## Analyze throughput (`benchmarks/analyze_throughput.py`)",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, "
        f"{torch.get_num_threads()} torch threads (AMD EPYC, AVX2 only, fp32; other work may "
        f"have shared the machine); python {platform.python_version()}, torch {torch.__version__}",
        f"- model: `{model.spec}` ({model.content_hash[:19]}...); input: the first {findings} "
        "finding(s) of the corpus Semgrep SARIF (107 in all), no --source-root (prompts show "
        "the scanner's snippet), SARIF output; analysis and code-fix prompts per finding",
        f"- command: `python benchmarks/analyze_throughput.py --model {args.model} --modes "
        f"{' '.join(args.modes)}"
        + (f" --limit {args.limit}" if args.limit else "")
        + f" --reps {args.reps}`",
        "",
        "| mode | reps | median wall (s) | findings/s | analysed | fixes applying |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for mode, median in medians.items():
        s = stats[mode]
        lines.append(
            f"| {mode} | {len(times[mode])} | {median:.1f} | {findings / median:.3f} | "
            f"{s['analysed']} | {s['fixes_applying']} |"
        )
    if "one-by-one" in medians and "batched" in medians:
        ratio = medians["one-by-one"] / medians["batched"]
        verdict = "met" if ratio >= 4 else "not met"
        lines += ["", f"Batched / one-by-one rate: {ratio:.2f}x (target >= 4x: {verdict})."]
    lines.append(f"<!-- {MARK}:end -->")
    return lines


def update_results(path: Path, lines: list[str]) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    start, end = f"<!-- {MARK}:start -->", f"<!-- {MARK}:end -->"
    block = "\n".join(lines)
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
