"""Findings per second of `vulntune analyze`, generating one by one and batched, side by side.

Input: the Semgrep SARIF report of the in-repo corpus (107 findings,
tests/data/corpus/webauthn-server-ci/semgrep-results-*/semgrep.sarif.gz), analysed with a
base model (default smollm2-135m) through :func:`vulntune.inference.analyze_job.
analyze_reports` exactly as the CLI runs it, SARIF output included. Each mode's completer
comes from :data:`MODES`; the modes take turns, repetition by repetition, and the medians
are compared. ``--limit N`` analyses the first N findings only; ``--one-by-one-limit N``
gives one-by-one generation a smaller sample (all 107 one by one take tens of minutes on 2
CPU cores): the rates (findings/s) then come from different inputs, which is only rough
(prompts and answers differ in length). Both modes write the same texts (greedy, the same
settings); on the findings both analysed, the answers are compared.

Run it under the machine-wide lock (it loads SmolLM2):

    flock /tmp/vulntune-heavy.lock .venv/bin/python benchmarks/analyze_throughput.py \\
        --modes one-by-one batched --one-by-one-limit 16 --results benchmarks/RESULTS.md
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
# The switch: each mode's completer (from the model and --batch-size).
MODES: dict[str, Callable[[AnalysisModel, int | None], Completer]] = {
    "one-by-one": lambda model, batch_size: one_by_one_completer(model),
    "batched": batched_completer,
}
MARK = "analyze_throughput"


def limited_report(limit: int | None, directory: Path) -> tuple[Path, int]:
    """The Semgrep report (its first ``limit`` results) as a plain SARIF file."""
    directory.mkdir(parents=True, exist_ok=True)
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
    parser.add_argument(
        "--one-by-one-limit", type=int, default=None, help="one-by-one: first N findings only"
    )
    parser.add_argument("--batch-size", type=int, default=None, help="batched: rows per batch")
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--results", type=Path, help="update this RESULTS.md section")
    args = parser.parse_args()

    model = model_from_spec(args.model)
    completers = {}
    for mode in args.modes:
        started = time.perf_counter()
        completers[mode] = MODES[mode](model, args.batch_size)
        print(f"{mode}: loaded in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    times: dict[str, list[float]] = {mode: [] for mode in args.modes}
    stats: dict[str, dict[str, int]] = {}
    answers: dict[str, list[tuple[str | None, str | None]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        reports: dict[str, tuple[Path, int]] = {}
        for mode in args.modes:
            limits = [args.limit, args.one_by_one_limit if mode == "one-by-one" else None]
            given = [n for n in limits if n is not None]
            reports[mode] = limited_report(min(given) if given else None, Path(tmp) / mode)
        findings = {mode: count for mode, (_, count) in reports.items()}
        for rep in range(args.reps):
            for mode in args.modes:
                started = time.perf_counter()

                def progress(
                    task: str, done: int, total: int, mode: str = mode, started: float = started
                ) -> None:
                    elapsed = time.perf_counter() - started
                    print(f"  {mode} {task}: {done}/{total} at {elapsed:.0f}s", file=sys.stderr)

                outcome = analyze_reports(
                    [reports[mode][0]],
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
                answers[mode] = [
                    (
                        item.analysis.text if item.analysis else None,
                        item.fix.diff if item.fix else None,
                    )
                    for item in result.items
                ]
                print(
                    f"rep {rep + 1} {mode}: {seconds:.1f}s, "
                    f"{findings[mode] / seconds:.3f} findings/s, {stats[mode]}",
                    file=sys.stderr,
                )
    lines = render(args, model, findings, times, stats, same_answers(answers))
    print("\n".join(lines))
    if args.results is not None:
        update_results(args.results, lines)


def same_answers(answers: dict[str, list[tuple[str | None, str | None]]]) -> str | None:
    """How the two modes' answers (analysis text, fix diff) compare on the findings both
    analysed, or None when only one mode ran."""
    if len(answers) < 2:
        return None
    one, many = answers["one-by-one"], answers["batched"]
    shared = min(len(one), len(many))
    differ = sum(a != b for a, b in zip(one[:shared], many[:shared], strict=True))
    if differ == 0:
        return f"identical answers on the {shared} finding(s) both modes analysed"
    return f"answers differ on {differ} of the {shared} finding(s) both modes analysed"


def render(args, model, findings, times, stats, comparison) -> list[str]:
    medians = {mode: statistics.median(values) for mode, values in times.items()}
    rates = {mode: findings[mode] / median for mode, median in medians.items()}
    inputs = "; ".join(f"{mode}: the first {count} finding(s)" for mode, count in findings.items())
    lines = [
        f"<!-- {MARK}:start -->",
        "## Analyze throughput (`benchmarks/analyze_throughput.py`)",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, "
        f"{torch.get_num_threads()} torch threads (AMD EPYC, AVX2 only, fp32; other work may "
        f"have shared the machine); python {platform.python_version()}, torch {torch.__version__}",
        f"- model: `{model.spec}` ({model.content_hash[:19]}...); input: the corpus Semgrep "
        f"SARIF (107 findings in all), {inputs}; no --source-root (prompts show the scanner's "
        "snippet), SARIF output; an analysis and a code-fix prompt per finding; both modes "
        "with the same settings (structured analysis, at most 160/320 new tokens, code-fix "
        "answers end once their diff block closes)",
        "- command: `flock /tmp/vulntune-heavy.lock .venv/bin/python "
        f"benchmarks/analyze_throughput.py --model {args.model} --modes {' '.join(args.modes)}"
        + (f" --limit {args.limit}" if args.limit else "")
        + (f" --one-by-one-limit {args.one_by_one_limit}" if args.one_by_one_limit else "")
        + (f" --batch-size {args.batch_size}" if args.batch_size else "")
        + f" --reps {args.reps} --results benchmarks/RESULTS.md`",
        "",
        "| mode | findings | reps | median wall (s) | findings/s | analysed | fixes applying |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, median in medians.items():
        s = stats[mode]
        lines.append(
            f"| {mode} | {findings[mode]} | {len(times[mode])} | {median:.1f} | "
            f"{rates[mode]:.3f} | {s['analysed']} | {s['fixes_applying']} |"
        )
    if "one-by-one" in rates and "batched" in rates:
        ratio = rates["batched"] / rates["one-by-one"]
        verdict = "met" if ratio >= 4 else "not met"
        lines += ["", f"Batched / one-by-one rate: {ratio:.2f}x (target >= 4x: {verdict})."]
        if findings["one-by-one"] != findings["batched"]:
            lines.append(
                "The rates come from different inputs (one-by-one on a sample): the ratio is rough."
            )
    if comparison is not None:
        lines += ["", f"Texts: {comparison}."]
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
