"""Time `vulntune demo` (the README's main job) and record it in benchmarks/RESULTS.md.

Runs the demo as a user does (a fresh process, `vulntune demo --json`), measures its wall time,
reads the per-step times from the run's ``pipeline/progress.jsonl`` and the base-vs-final
numbers from its evaluation, and writes one block per base model (between
``<!-- demo_time:MODEL:start -->`` and ``<!-- demo_time:MODEL:end -->``). The target: under
10 minutes on 2 CPU cores, evaluation included, with the final model beating the base model on
CWE accuracy and on applying diffs.

SmolLM2 runs need the machine-wide lock:

    flock /tmp/vulntune-heavy.lock .venv/bin/python benchmarks/demo_time.py \\
        --results benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def markers(base_model: str) -> tuple[str, str]:
    """One block per base model: the smoke run and the real demo are recorded side by side."""
    return f"<!-- demo_time:{base_model}:start -->", f"<!-- demo_time:{base_model}:end -->"


TARGET_S = 600


def cpu_kind() -> str:
    """lscpu's model name, CPU count and whether the CPU has native bf16."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.machine()
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    flags = fields.get("Flags", "")
    kind = (
        "AVX512-BF16" if "avx512_bf16" in flags else ("AVX2 only, fp32" if "avx2" in flags else "")
    )
    name = fields.get("Model name", platform.machine()).strip()
    return f"{name}, {fields.get('CPU(s)', '?').strip()} CPUs ({kind})"


def step_times(run_dir: Path) -> dict[str, float]:
    """Seconds per pipeline step, from the run's progress records."""
    times: dict[str, float] = {}
    for line in (run_dir / "pipeline" / "progress.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["event"] == "done":
            times[record["step"]] = float(record["elapsed_s"])
    return times


def block(base_model: str, wall: float, result: dict[str, Any], command: str) -> str:
    models = result["results"]["models"]
    steps = step_times(Path(result["run_dir"]))
    rows = []
    for task, key in (("analysis", "cwe_accuracy"), ("codefix", "applies_rate")):
        base, final = models["base"][task][key], models["final"][task][key]
        verdict = "better" if final > base else "NOT better"
        rows.append(f"| {task}.{key} | {base:.3f} | {final:.3f} | {verdict} |")
    counts = result["results"].get("counts", {})
    start, end = markers(base_model)
    load = os.getloadavg()[0]
    return (
        "\n".join(
            [
                start,
                f"## The demo on `{base_model}` (`benchmarks/demo_time.py`): `vulntune demo`",
                "",
                f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {cpu_kind()}; "
                f"load average at the end {load:.1f} (the demo alone keeps it near 2 on two "
                "cores; more means other work shared the machine)",
                f"- command: `{command}`; base model `{base_model}`; the configuration shipped in "
                "`src/vulntune/pipeline/demo.toml`",
                f"- wall time: **{wall:.0f} s** (target < {TARGET_S} s: "
                f"{'met' if wall < TARGET_S else 'NOT met'}); per step: "
                + ", ".join(f"{step} {seconds:.0f} s" for step, seconds in steps.items()),
                f"- test split evaluated: {counts.get('analysis', '?')} analysis, "
                f"{counts.get('codefix', '?')} code-fix examples",
                "",
                "| metric | base | final | final vs base |",
                "|---|---:|---:|---|",
                *rows,
                end,
            ]
        )
        + "\n"
    )


def write_block(results_file: Path, text: str, base_model: str) -> None:
    start, end = markers(base_model)
    old = results_file.read_text(encoding="utf-8") if results_file.exists() else ""
    if start in old and end in old:
        head, _, rest = old.partition(start)
        text = head + text.rstrip("\n") + rest.partition(end)[2]
    else:
        text = (old.rstrip("\n") + "\n\n" if old else "") + text
    results_file.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", default="smollm2-135m")
    parser.add_argument("--results", type=Path, help="RESULTS.md to write the block into")
    parser.add_argument(
        "--keep", type=Path, help="runs directory to keep the run in (default: a temporary one)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vulntune-demo-time-") as scratch:
        runs = str(args.keep) if args.keep is not None else scratch
        cmd = [sys.executable, "-m", "vulntune", "demo", "--base-model", args.base_model,
               "--runs-dir", runs, "--no-progress", "--json"]  # fmt: skip
        started = time.monotonic()
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
        wall = time.monotonic() - started
        if done.returncode != 0:
            print(f"vulntune demo failed with exit status {done.returncode}", file=sys.stderr)
            return 1
        shown = shlex.join(["vulntune", "demo", "--base-model", args.base_model])
        text = block(args.base_model, wall, json.loads(done.stdout), shown)
    print(text)
    if args.results is not None:
        write_block(args.results, text, args.base_model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
