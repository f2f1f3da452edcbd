"""Batched vs one-by-one generation of the same outputs, and evaluation's wall time.

Target (issue 10): batched evaluation at least 4x faster than one-by-one generation of the
same outputs. Both sides use vulntune's ``Generator`` with the same prompts, settings and
greedy decoding; one-by-one is ``batch_size=1`` (each prompt alone: no padding, its own KV
cache), batched is ``--batch-size`` rows, length-sorted, finished rows dropped and their
slots refilled from the prompts still waiting (continuous batching: with more prompts than
rows). The texts must be identical (the script fails otherwise). Repetitions alternate the
two sides so that the load of a shared machine hits both alike; medians are reported.

``--evaluation`` also times what `vulntune evaluate` generates for a run: three models (the
base model loaded three times stands in for the Stage-1 and final checkpoints, which have the
same architecture and size), each writing the analysis of every test prompt twice (with and
without structured decoding) and every fix once, with the default settings.

    flock /tmp/vulntune-heavy.lock .venv/bin/python benchmarks/generation_throughput.py \\
        --model smollm2-135m --prompts 16 --max-new-tokens 96 --repeats 3 --evaluation \\
        --results benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from vulntune.datasets.builtin import load_builtin
from vulntune.inference.generate import GenerationSettings, Generator
from vulntune.models.prompt_format import prompt_format_for
from vulntune.models.resolve import resolve_model

START, END = "<!-- generation_throughput:start -->", "<!-- generation_throughput:end -->"


def _cpu() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return platform.processor() or "unknown CPU"
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def _timed(
    generator: Generator, prompts: list[str], task: str, batch: int
) -> tuple[float, list[str]]:
    started = time.perf_counter()
    texts = generator.generate(prompts, task, batch_size=batch)  # type: ignore[arg-type]
    return time.perf_counter() - started, texts


def _throughput(
    generator: Generator, prompts: list[str], task: str, batch: int, repeats: int
) -> dict[str, float]:
    single: list[float] = []
    batched: list[float] = []
    reference: list[str] | None = None
    for _ in range(repeats):
        seconds, texts = _timed(generator, prompts, task, 1)
        single.append(seconds)
        reference = reference or texts
        seconds, texts_batched = _timed(generator, prompts, task, batch)
        batched.append(seconds)
        if texts_batched != reference:
            raise SystemExit(f"{task}: batched and one-by-one texts differ")
    tokens = sum(
        len(generator.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in reference or []
    )
    one, many = statistics.median(single), statistics.median(batched)
    return {"one": one, "batched": many, "speedup": one / many, "tokens": tokens}


def _evaluation_time(
    model_dir: Path, prompt_format: str, analysis: list[str], codefix: list[str]
) -> dict[str, float]:
    started = time.perf_counter()
    parts: dict[str, float] = {}
    for name in ("base", "stage1", "final"):
        t0 = time.perf_counter()
        generator = Generator(model_dir, prompt_format)
        generator.generate(analysis, "analysis", structured=True)
        generator.generate(analysis, "analysis", structured=False)
        generator.generate(codefix, "codefix")
        generator.close()
        parts[name] = time.perf_counter() - t0
    parts["total"] = time.perf_counter() - started
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--evaluation", action="store_true", help="also time an evaluation's generation"
    )
    parser.add_argument("--eval-examples", type=int, default=12, help="per task, for --evaluation")
    parser.add_argument("--results", type=Path, help="write the markdown section into this file")
    args = parser.parse_args()

    resolved = resolve_model(args.model)
    prompt_format = prompt_format_for(resolved.path)
    settings = GenerationSettings(
        batch_size=args.batch_size,
        max_new_tokens={"analysis": args.max_new_tokens, "codefix": args.max_new_tokens},
    )
    generator = Generator(resolved.path, prompt_format, settings)
    analysis = [r["prompt"] for r in [*load_builtin("heldout"), *load_builtin("analysis")]]
    codefix = [r["prompt"] for r in load_builtin("codefix")]
    rows = []
    for label, prompts, task in (
        ("analysis, structured", analysis[: args.prompts], "analysis"),
        ("code fix", codefix[: args.prompts], "codefix"),
    ):
        result = _throughput(generator, prompts, task, args.batch_size, args.repeats)
        rows.append((label, result))
        print(f"{label}: one-by-one {result['one']:.1f}s, batched {result['batched']:.1f}s, "
              f"{result['speedup']:.2f}x, {result['tokens']} tokens", flush=True)  # fmt: skip
    generator.close()
    evaluation = None
    if args.evaluation:
        n = args.eval_examples
        evaluation = _evaluation_time(resolved.path, prompt_format, analysis[:n], codefix[:n])
        print(f"evaluation generation: {evaluation}", flush=True)

    lines = [
        START,
        "## Batched vs one-by-one generation (`benchmarks/generation_throughput.py`)",
        "",
        f"Date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; CPU: {_cpu()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} fp32 (AVX2 only, no native bf16), {torch.get_num_threads()} "
        "threads. Other work may have shared the machine: the two sides alternate within each "
        "repetition and medians are quoted, so the ratio is the figure to read.",
        "",
        f"Model `{args.model}`, {args.prompts} built-in prompts per task, greedy, at most "
        f"{args.max_new_tokens} new tokens, batch size {args.batch_size}, {args.repeats} "
        "repetitions. Batched and one-by-one texts were identical in every repetition.",
        "",
        "| prompts | one-by-one (median s) | batched (median s) | speed-up | tokens written |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, r in rows:
        cells = f"{r['one']:.1f} | {r['batched']:.1f} | {r['speedup']:.2f}x | {r['tokens']:.0f}"
        lines.append(f"| {label} | {cells} |")
    least = min(r["speedup"] for _, r in rows)
    verdict = "met" if least >= 4 else "not met"
    lines += ["", f"Target >= 4x: {least:.2f}x at the least ({verdict})."]
    if evaluation is not None:
        lines += [
            "",
            f"Evaluation's generation for {args.eval_examples} analysis + {args.eval_examples} "
            "code-fix test examples, three models (default settings: batch 16, at most 192/320 "
            "new tokens; analysis twice): "
            + ", ".join(f"{k} {v:.0f}s" for k, v in evaluation.items())
            + ".",
        ]
    lines += [
        "",
        "Command: `flock /tmp/vulntune-heavy.lock .venv/bin/python "
        f"benchmarks/generation_throughput.py --model {args.model} --prompts {args.prompts} "
        f"--batch-size {args.batch_size} "
        f"--max-new-tokens {args.max_new_tokens} --repeats {args.repeats}"
        + (f" --evaluation --eval-examples {args.eval_examples}" if args.evaluation else "")
        + "`",
        END,
    ]
    section = "\n".join(lines)
    print(section)
    if args.results is not None:
        text = args.results.read_text(encoding="utf-8") if args.results.is_file() else ""
        if START in text and END in text:
            text = text[: text.index(START)] + section + text[text.index(END) + len(END) :]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        args.results.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
