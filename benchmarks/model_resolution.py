"""Base-model resolution times: first build, cached resolution, and the offline hub refusal.

The test suite checks that a cached resolution builds, converts and hashes nothing again; this
script shows what that buys in wall time (the targets the tests used to assert):

- tiny-random: first build into an empty cache, then cached resolutions (target < 0.5 s);
- a hub id with HF_HUB_OFFLINE=1: the refusal must come fast, without network waits (< 10 s);
- smollm2-135m (with --smollm2): cached resolutions from the user's cache (< 1 s). The first
  resolution downloads (~93 MB) and converts the model once; it is timed but not a target.

Each measurement runs in a fresh process (imports excluded from the timed part, reported
separately), repeated --reps times; medians and maxima are reported.

    .venv/bin/python benchmarks/model_resolution.py --reps 5 --smollm2 \
        --results benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

START, END = "<!-- model_resolution:start -->", "<!-- model_resolution:end -->"

# Runs in a child: import first (timed apart), then resolve and report both times as JSON.
_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from vulntune.errors import VulntuneError
from vulntune.models.resolve import resolve_model
t1 = time.perf_counter()
try:
    resolve_model(sys.argv[1])
    outcome = "resolved"
except VulntuneError as exc:
    outcome = type(exc).__name__
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "resolve_s": t2 - t1, "outcome": outcome}))
"""


@dataclass(frozen=True)
class Timing:
    label: str
    spec: str
    seconds: list[float]
    import_s: float
    outcome: str
    target_s: float | None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def met(self) -> str:
        if self.target_s is None:
            return "-"
        return "met" if max(self.seconds) < self.target_s else "missed"


def _resolve_once(spec: str, env: dict[str, str]) -> dict[str, float | str]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, spec], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(
    label: str, spec: str, reps: int, env: dict[str, str], target_s: float | None
) -> Timing:
    runs = [_resolve_once(spec, env) for _ in range(reps)]
    return Timing(
        label=label,
        spec=spec,
        seconds=[float(r["resolve_s"]) for r in runs],
        import_s=statistics.median(float(r["import_s"]) for r in runs),
        outcome=str(runs[-1]["outcome"]),
        target_s=target_s,
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def markdown(timings: list[Timing], reps: int) -> str:
    lines = [
        START,
        "## Base-model resolution (`benchmarks/model_resolution.py`)",
        "",
        f"Machine: {_cpu_model()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; each figure is one fresh process (imports timed apart), "
        f"{reps} repetitions, median and maximum. Other jobs may have shared the machine.",
        "",
        "| what | spec | outcome | median (s) | max (s) | imports (s) | target |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for t in timings:
        target = f"< {t.target_s:g} s: {t.met}" if t.target_s is not None else "-"
        lines.append(
            f"| {t.label} | `{t.spec}` | {t.outcome} | {t.median:.3f} | {max(t.seconds):.3f} | "
            f"{t.import_s:.2f} | {target} |"
        )
    lines += [
        "",
        "Command: `.venv/bin/python benchmarks/model_resolution.py "
        f"--reps {reps}{' --smollm2' if any(t.spec == 'smollm2-135m' for t in timings) else ''}"
        " --results benchmarks/RESULTS.md`",
        END,
        "",
    ]
    return "\n".join(lines)


def write_results(section: str, path: Path) -> None:
    """Replace this benchmark's section of ``path`` (between its markers), or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section.rstrip("\n") + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="fresh processes per measurement")
    parser.add_argument("--smollm2", action="store_true", help="also time smollm2-135m")
    parser.add_argument("--results", type=Path, help="write the markdown section into this file")
    args = parser.parse_args()

    timings = []
    with tempfile.TemporaryDirectory(prefix="vulntune-bench-cache-") as cache:
        env = {**os.environ, "VULNTUNE_CACHE": cache}
        timings.append(measure("tiny-random, empty cache (build)", "tiny-random", 1, env, None))
        timings.append(measure("tiny-random, cached", "tiny-random", args.reps, env, 0.5))
        offline = {**env, "HF_HUB_OFFLINE": "1"}
        spec = "vulntune-bench/does-not-exist"
        timings.append(measure("hub id, HF_HUB_OFFLINE=1", spec, args.reps, offline, 10.0))
    if args.smollm2:
        user_cache = {**os.environ}  # the user's cache: the conversion is done once per machine
        timings.append(
            measure(
                "smollm2-135m, first call (converts only if not cached)",
                "smollm2-135m",
                1,
                user_cache,
                None,
            )
        )
        timings.append(measure("smollm2-135m, cached", "smollm2-135m", args.reps, user_cache, 1.0))
    section = markdown(timings, args.reps)
    print(section)
    if args.results:
        write_results(section, args.results)


if __name__ == "__main__":
    main()
