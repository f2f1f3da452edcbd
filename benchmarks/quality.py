"""Quality benchmark (issue 10): `vulntune run` on a realistic dataset, with and without replay.

The dataset: the demo project's scanner reports of revisions r1..r6 (fixes mined from its git
history) plus ``benchmarks/data/pairs.jsonl`` (71 public vulnerable->fixed pairs, 8 languages,
30 CWEs) through the datasets ``--pairs`` option. The whole pipeline runs twice on the same
base model and data, once with the configuration's replay ratio (the demo configuration:
0.25) and once with ``replay_ratio = 0``; each run's evaluation gives base vs Stage 1 vs final
metrics, the baselines and retention (final / Stage 1 on the Stage-1 metrics). The two runs
are written as one block of ``benchmarks/RESULTS.md`` (between ``<!-- quality:start -->`` and
``<!-- quality:end -->``), with the command.

Heavy: two full SmolLM2 runs. Take the machine-wide lock:

    flock /tmp/vulntune-heavy.lock .venv/bin/python benchmarks/quality.py \
        --results benchmarks/RESULTS.md

``--dry-run`` prints the plan (the two configurations) and runs nothing. ``--config FILE`` lays
a TOML file over the demo configuration (same tables as ``demo.toml``); its results go to a block
of their own, named after the file (``<!-- quality:<stem>:start -->``), so the demo
configuration's block stays.
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vulntune.errors import VulntuneError
from vulntune.pipeline.demo import demo_config_mapping
from vulntune.pipeline.settings import RunConfiguration, configuration_from_mapping, merge_mappings

PAIRS = Path(__file__).parent / "data" / "pairs.jsonl"
START, END = "<!-- quality:start -->", "<!-- quality:end -->"


def markers(config: Path | None) -> tuple[str, str]:
    """The RESULTS.md block markers: the demo configuration's, or one pair per overlay file."""
    if config is None:
        return START, END
    return f"<!-- quality:{config.stem}:start -->", f"<!-- quality:{config.stem}:end -->"


def read_overlay(path: Path) -> dict[str, Any]:
    """The TOML file at ``path`` as a mapping; ValueError names the file and the problem."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a TOML file ({exc})") from exc


VARIANTS = ("replay", "no-replay")


@dataclass(frozen=True)
class Variant:
    name: str
    configuration: RunConfiguration


def variants(
    base_model: str,
    max_steps: int | None,
    evaluation_limit: int = 32,
    overlay: dict[str, Any] | None = None,
) -> list[Variant]:
    """The two configurations: the demo's (default replay), with ``overlay`` laid over it, and
    the same with no replay, each evaluated on up to ``evaluation_limit`` test examples per task
    (the demo uses 16)."""
    base = merge_mappings(
        merge_mappings(demo_config_mapping(base_model), overlay or {}),
        {"pipeline": {"evaluation_limit": evaluation_limit}},
    )
    if max_steps is not None:
        base = merge_mappings(
            base, {"stage1": {"max_steps": max_steps}, "stage2": {"max_steps": max_steps}}
        )
    no_replay = merge_mappings(base, {"stage2": {"replay_ratio": 0.0}})
    return [
        Variant("replay", configuration_from_mapping(base, "quality benchmark (replay)")),
        Variant(
            "no-replay", configuration_from_mapping(no_replay, "quality benchmark (no replay)")
        ),
    ]


def run_variant(variant: Variant, base_model: str, runs_dir: Path, pairs: Path) -> dict[str, Any]:
    """The whole pipeline for one variant; returns its run, results and wall time."""
    from vulntune.demo import build_demo_repository
    from vulntune.demo.project import data_dir
    from vulntune.pipeline.inputs import parse_report_arguments
    from vulntune.pipeline.run import RunRequest, start_pipeline

    with tempfile.TemporaryDirectory(prefix="vulntune-quality-") as tmp:
        repo = build_demo_repository(Path(tmp) / "tinyparcel")
        request = RunRequest(
            reports=parse_report_arguments([str(data_dir() / "reports")], repo.path),
            source_root=repo.path,
            base_model=base_model,
            configuration=variant.configuration,
            pairs=(pairs,),
            runs_dir=runs_dir,
        )
        started = time.monotonic()
        result = start_pipeline(request, progress_enabled=sys.stderr.isatty())
        wall = time.monotonic() - started
    return {
        "variant": variant.name,
        "replay_ratio": variant.configuration.training.stage2.replay_ratio,
        "run_dir": str(result.run.dir),
        "wall_s": wall,
        "results": result.results or {},
    }


def _cell(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) and not isinstance(value, bool) else "-"


ROWS = (
    ("analysis", "parse_rate"),
    ("analysis", "cwe_accuracy"),
    ("analysis", "severity_accuracy"),
    ("analysis", "category_accuracy"),
    ("codefix", "diff_parse_rate"),
    ("codefix", "applies_rate"),
    ("codefix", "exact_match"),
)


def markdown(
    outcomes: list[dict[str, Any]], command: str, base_model: str, config: Path | None = None
) -> str:
    """The RESULTS.md block for the runs in ``outcomes`` (``config``: the overlay file used)."""
    cpu = _cpu_model()
    start, end = markers(config)
    configuration = "the demo's (`src/vulntune/pipeline/demo.toml`)"
    if config is not None:
        configuration += f" with `{config.as_posix()}` laid over it"
    heading = "## Quality: base vs Stage 1 vs final, with and without replay"
    if config is not None:
        heading = f"## Quality with `{config.name}` over the demo configuration"
    lines = [
        start,
        heading + " (`benchmarks/quality.py`)",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {cpu}; python "
        f"{platform.python_version()}; base model `{base_model}`; other work may have shared "
        "the machine",
        "- data: the demo project's reports r1..r6 (fixes mined from its history) plus "
        f"`benchmarks/data/pairs.jsonl`; configuration: {configuration}, replay ratio as shown",
        f"- command: `{command}`",
        "",
    ]
    for outcome in outcomes:
        results = outcome["results"]
        models = results.get("models", {})
        baselines = results.get("baselines", {})
        columns = ["base", "stage1", "final", *sorted(baselines)]
        lines += [
            f"### {outcome['variant']} (replay_ratio = {outcome['replay_ratio']}), "
            f"{outcome['wall_s']:.0f} s",
            "",
            "| metric | " + " | ".join(columns) + " |",
            "|---|" + "---:|" * len(columns),
        ]
        for task, key in ROWS:
            cells = [_cell(models.get(m, {}).get(task, {}).get(key)) for m in columns[:3]]
            cells += [_cell(baselines[b].get(task, {}).get(key)) for b in columns[3:]]
            lines.append(f"| {task}.{key} | " + " | ".join(cells) + " |")
        retention = results.get("retention", {})
        if isinstance(retention, dict) and retention:
            kept = ", ".join(f"{k} {_cell(v)}" for k, v in retention.items())
            lines += ["", f"Retention (final / Stage 1): {kept}"]
        lines += ["", f"Run: `{outcome['run_dir']}`", ""]
    lines.append(end)
    return "\n".join(lines) + "\n"


def write_block(results_file: Path, block: str, config: Path | None = None) -> None:
    """Replace the quality block of ``results_file`` for ``config`` (or append one)."""
    start, end = markers(config)
    text = results_file.read_text(encoding="utf-8") if results_file.exists() else ""
    if start in text and end in text:
        head, _, rest = text.partition(start)
        _, _, tail = rest.partition(end)
        text = head + block.rstrip("\n") + tail
    else:
        text = (text.rstrip("\n") + "\n\n" if text else "") + block
    results_file.write_text(text, encoding="utf-8")


def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.machine()
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    name = fields.get("Model name", platform.machine()).strip()
    flags = fields.get("Flags", "")
    kind = "AVX512-BF16" if "avx512_bf16" in flags else ("AVX2 only" if "avx2" in flags else "")
    return f"{name}, {fields.get('CPU(s)', '?').strip()} CPUs, {kind}".rstrip(", ")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", default="smollm2-135m")
    parser.add_argument("--runs-dir", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--results", type=Path, help="RESULTS.md to write the block into")
    parser.add_argument(
        "--only", choices=VARIANTS, action="append", help="run only this variant (repeatable)"
    )
    parser.add_argument(
        "--max-steps", type=int, default=None, help="cap optimizer steps per stage (checks only)"
    )
    parser.add_argument(
        "--evaluation-limit",
        type=int,
        default=32,
        help="test examples per task each model is evaluated on (default 32)",
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="TOML laid over the demo configuration"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    args = parser.parse_args(argv)
    if args.max_steps is not None and args.max_steps < 1:
        parser.error("--max-steps must be at least 1")
    if args.evaluation_limit < 1:
        parser.error("--evaluation-limit must be at least 1")
    if not args.pairs.is_file():
        parser.error(f"--pairs: {args.pairs} is not a file")
    args.overlay = {}
    if args.config is not None:
        try:
            args.overlay = read_overlay(args.config)
        except ValueError as exc:
            parser.error(f"--config: {exc}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        planned = variants(args.base_model, args.max_steps, args.evaluation_limit, args.overlay)
    except VulntuneError as exc:
        print(f"quality.py: error: --config {args.config}: {exc}", file=sys.stderr)
        return 2
    chosen = [v for v in planned if not args.only or v.name in args.only]
    if args.dry_run:
        plan = [
            {"variant": v.name, "base_model": args.base_model, "pairs": str(args.pairs),
             "training": v.configuration.training.model_dump(mode="json"),
             "pipeline": v.configuration.pipeline.model_dump(mode="json")}
            for v in chosen
        ]  # fmt: skip
        print(json.dumps(plan, indent=2))
        return 0
    command = shlex.join(["python", "benchmarks/quality.py", *(argv or sys.argv[1:])])
    with tempfile.TemporaryDirectory(prefix="vulntune-quality-runs-") as tmp:
        runs_dir = args.runs_dir or Path(tmp)
        outcomes = [run_variant(v, args.base_model, runs_dir, args.pairs) for v in chosen]
        block = markdown(outcomes, command, args.base_model, args.config)
    print(block)
    if args.results is not None:
        write_block(args.results, block, args.config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
