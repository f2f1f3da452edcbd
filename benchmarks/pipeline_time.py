"""Wall time of a whole two-stage run through the CLI, imports included.

    .venv/bin/python benchmarks/pipeline_time.py                # tiny-random, 5 reps, 2 cores
    .venv/bin/python benchmarks/pipeline_time.py --reps 3 --markdown /tmp/pipeline.md

Each repetition runs, in fresh processes and a fresh runs directory, exactly what a user types:

    vulntune runs create --base-model tiny-random --analysis-data A --codefix-data C
    vulntune train RUN --no-progress

with the default configuration on vulntune's built-in data (48 analysis + 48 code-fix
examples, the files shipped in the package). The clock covers both commands end to end,
interpreter start-up and imports included. tiny-random is built into a temporary
VULNTUNE_CACHE once before the timed repetitions (that first build is timed and reported
separately, and is not part of the repetitions); with ``--cold`` one extra run on an empty
cache shows the cost a first-time user pays.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from vulntune.datasets.builtin import builtin_dataset_path


def cli() -> list[str]:
    """The `vulntune` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("vulntune")
    return [str(script)] if script.exists() else [sys.executable, "-m", "vulntune"]


def run_checked(cmd: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        raise SystemExit(f"`{' '.join(cmd)}` failed with exit code {proc.returncode}")
    return proc.stdout


def one_pipeline(model: str, env: dict[str, str], work: Path) -> dict[str, float]:
    """Create a run and train both stages; seconds for each command and in total."""
    runs_dir = work / f"runs-{time.monotonic_ns()}"
    t0 = time.perf_counter()
    data = ["--analysis-data", str(builtin_dataset_path("analysis"))]
    data += ["--codefix-data", str(builtin_dataset_path("codefix"))]
    create = [*cli(), "runs", "create", "--base-model", model, "--runs-dir", str(runs_dir)]
    out = run_checked(create + data, env)
    run_dir = out.strip().splitlines()[-1]
    t1 = time.perf_counter()
    run_checked([*cli(), "train", run_dir, "--no-progress"], env)
    t2 = time.perf_counter()
    if not (Path(run_dir) / "stage2" / "final-model" / "config.json").is_file():
        raise SystemExit(f"{run_dir}: training finished without a final model")
    shutil.rmtree(runs_dir)
    return {"create_s": t1 - t0, "train_s": t2 - t1, "total_s": t2 - t0}


def build_cache(model: str, env: dict[str, str]) -> float:
    """Resolve (build) the model into the temporary cache in a fresh process; seconds taken."""
    t0 = time.perf_counter()
    code = f"from vulntune.models.resolve import resolve_model; resolve_model({model!r})"
    run_checked([sys.executable, "-c", code], env)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="tiny-random")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--cores", type=int, default=2, help="restrict to this many CPU cores")
    parser.add_argument("--target", type=float, default=60.0, help="seconds")
    parser.add_argument("--cold", action="store_true", help="also time one run on an empty cache")
    parser.add_argument("--markdown", type=Path, help="write the RESULTS.md block here")
    args = parser.parse_args()

    available = sorted(os.sched_getaffinity(0))
    if len(available) < args.cores:
        raise SystemExit(f"--cores {args.cores}: only {len(available)} core(s) available")
    os.sched_setaffinity(0, available[: args.cores])  # children inherit the affinity

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "VULNTUNE_CACHE": str(work / "cache")}
        cold = None
        if args.cold:
            cold = one_pipeline(args.model, env, work)["total_s"]
            print(f"cold (empty cache, build included): {cold:.1f}s", flush=True)
            shutil.rmtree(work / "cache")
        build_s = build_cache(args.model, env)
        print(
            f"first build of {args.model} into the temporary cache: {build_s:.1f}s "
            "(not in the repetitions)",
            flush=True,
        )
        rows = []
        for rep in range(args.reps):
            load = os.getloadavg()[0]
            row = one_pipeline(args.model, env, work)
            rows.append(row)
            print(
                f"rep {rep + 1}/{args.reps}: create {row['create_s']:.1f}s + train "
                f"{row['train_s']:.1f}s = {row['total_s']:.1f}s (load {load:.2f})",
                flush=True,
            )

    totals = [r["total_s"] for r in rows]
    median, worst = statistics.median(totals), max(totals)
    verdict = "met" if worst < args.target else "NOT met"
    info = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((x.split(":", 1)[1].strip() for x in info if "model name" in x), "unknown CPU")
    libs = ", ".join(
        f"{n} {metadata.version(n)}" for n in ("vulntune", "torch", "transformers", "peft")
    )
    lines = [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M UTC}; machine: {cpu}, {args.cores} of "
        f"{len(available)} cores; python {platform.python_version()}, {libs}",
        f"- command: `python {' '.join(sys.argv)}`",
        f"- per repetition: `vulntune runs create --base-model {args.model} --analysis-data "
        "<built-in analysis.jsonl> --codefix-data <built-in codefix.jsonl>` then `vulntune train "
        "RUN --no-progress`, default configuration, fresh processes and runs directory",
        f"- first build of {args.model} into a temporary VULNTUNE_CACHE: {build_s:.1f}s, "
        "done once before timing and not included"
        + (f"; one cold run with the build included: {cold:.1f}s" if cold is not None else ""),
        "",
        "| reps | create (median) | train (median) | total median | total max | target |",
        "|---:|---:|---:|---:|---:|---|",
        f"| {len(rows)} | {statistics.median(r['create_s'] for r in rows):.1f}s | "
        f"{statistics.median(r['train_s'] for r in rows):.1f}s | {median:.1f}s | {worst:.1f}s | "
        f"< {args.target:.0f}s: {verdict} |",
    ]
    block = "\n".join(lines)
    print("\n" + block)
    if args.markdown:
        args.markdown.write_text(block + "\n")


if __name__ == "__main__":
    main()
