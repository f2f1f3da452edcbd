"""Training throughput: vulntune's trainer vs HF Trainer vs TRL SFTTrainer (vs mlx_lm).

    .venv/bin/python benchmarks/train_throughput.py                  # smollm2-135m, 3 reps
    .venv/bin/python benchmarks/train_throughput.py --model tiny-random --reps 1   # smoke run

Every trainer trains the same model with the same LoRA (r=16, alpha=32, dropout 0.05 on the 7
projections), batch size 8, learning rate 2e-4, cosine schedule with 10% warmup, gradient
clipping at 1.0, bf16 autocast over fp32 weights, for one epoch of the same token ids and
completion-only labels: the 96 built-in examples (analysis + codefix) tokenized once by
vulntune's PromptFormatter. No evaluation, checkpoint saving or reporting runs in any of them
(vulntune writes its one checkpoint after the last step, outside the timed window).

Each (trainer, repetition) runs in a fresh subprocess; the order of trainers rotates between
repetitions. Throughput is real (non-padding) tokens per second from the end of the first
optimizer step to the end of the last, counting exactly the tokens of the steps in between,
so model loading, data preparation and first-step warm-up are excluded alike for all.

The machine may be shared, so before each run the script waits until other processes leave
the CPUs (nearly) idle, measures how much CPU other processes took during every step (from
/proc/stat), reports throughput over the whole window and over the undisturbed steps, and runs
a repetition again when fewer than half of its steps were undisturbed.

Achieved FLOP/s counts the model's useful matmul work (see ``training_flops``) and is compared
with this machine's measured GEMM peak (torch, fp32 and bf16, best of several sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput_trainers import BenchSettings, StepStats, machine_busy_s

PEERS = ("vulntune", "hf", "trl", "hf-grouped", "trl-grouped", "mlx")
DEFAULT_TRAINERS = ("vulntune", "hf", "trl")
LIBRARIES = ("torch", "transformers", "peft", "accelerate", "trl", "datasets", "mlx", "mlx-lm")
TARGETS = {"trl": 2.0, "hf": 1.5}  # issue 8: vulntune must be at least this much faster


# -- worker side (runs in a fresh subprocess) ---------------------------------------------


def _worker(name: str, settings: BenchSettings, model_spec: str, threads: int) -> dict[str, Any]:
    import torch

    import throughput_trainers as t

    torch.set_num_threads(threads)
    started = time.perf_counter()
    if name == "peak":
        return {"peak": matmul_peak(settings.precision, settings.device)}
    runners = {
        "vulntune": lambda: t.run_vulntune(settings, model_spec),
        "hf": lambda: t.run_hf_trainer(settings),
        "hf-grouped": lambda: t.run_hf_trainer(settings, group_by_length=True),
        "trl": lambda: t.run_trl(settings),
        "trl-grouped": lambda: t.run_trl(settings, group_by_length=True),
        "mlx": lambda: t.run_mlx(settings),
    }
    result = runners[name]()
    return {
        **asdict(result),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20
        if settings.device == "cuda"
        else None,
        "wall_s": time.perf_counter() - started,
    }


def matmul_peak(
    precision: str, device: str, min_seconds: float = 0.25, repeats: int = 5
) -> dict[str, dict[str, float]]:
    """Best GEMM rate (GFLOP/s) per shape in the precision the trainers use, on their device.

    Only that dtype is timed: on a CPU without native bf16, bf16 GEMMs are emulated (slow and
    irrelevant when every trainer runs fp32).
    """
    import torch

    shapes = [(1024, 1024, 1024), (2048, 2048, 2048), (3072, 3072, 3072), (2048, 576, 1536)]
    if device == "cuda":
        shapes += [(8192, 8192, 8192)]
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    rates = {}
    for m, k, n in shapes:
        a = torch.randn(m, k, dtype=dtype, device=device)
        b = torch.randn(k, n, dtype=dtype, device=device)
        a @ b  # warm-up: the first call picks kernels and allocates
        sync()
        best = 0.0
        for _ in range(repeats):
            calls, t0 = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - t0) < min_seconds or calls == 0:
                a @ b
                calls += 1
                sync()
            best = max(best, calls * 2 * m * k * n / elapsed / 1e9)
        rates[f"{m}x{k}x{n}"] = round(best, 1)
    return {str(dtype).removeprefix("torch."): rates}


# -- FLOPs ------------------------------------------------------------------------------


def model_dims(config: dict[str, Any]) -> dict[str, int]:
    d, heads = config["hidden_size"], config["num_attention_heads"]
    return {
        "d": d,
        "inter": config["intermediate_size"],
        "layers": config["num_hidden_layers"],
        "heads": heads,
        "kv_heads": config.get("num_key_value_heads") or heads,
        "head_dim": config.get("head_dim") or d // heads,
        "vocab": config["vocab_size"],
    }


def projection_shapes(dims: dict[str, int]) -> dict[str, tuple[int, int]]:
    """(in, out) features of the seven projections of one Llama-style decoder layer."""
    d, inter = dims["d"], dims["inter"]
    q, kv = dims["heads"] * dims["head_dim"], dims["kv_heads"] * dims["head_dim"]
    return {
        **{"q_proj": (d, q), "k_proj": (d, kv), "v_proj": (d, kv), "o_proj": (q, d)},
        **{"gate_proj": (d, inter), "up_proj": (d, inter), "down_proj": (inter, d)},
    }


def training_flops(
    dims: dict[str, int], rank: int, targets: list[str], steps: list[StepStats]
) -> float:
    """Useful matmul FLOPs of LoRA training over ``steps`` (forward + backward).

    With T real tokens, S scored tokens, P = sum over sequences of L(L+1)/2 causal query-key
    pairs, N = frozen weights of the decoder layers, A = LoRA parameters, d x V the LM head:
      forward : 2NT (projections) + 2dVS (head, on scored positions only)
                + 4*layers*heads*head_dim*P (QK^T and AV) + 2AT (LoRA down and up)
      backward: 2NT (input gradients only: base weights are frozen, so no weight gradients)
                + 2dVS + 8*layers*heads*head_dim*P (attention backward = 2x forward)
                + 4AT (LoRA input and weight gradients)
      total   = 4NT + 4dVS + 12*layers*heads*head_dim*P + 6AT
    Padding, prompt-position logits, norms, activations, softmax and the optimizer are not
    counted: this is the work any trainer must do, so it is comparable across trainers.
    """
    shapes = projection_shapes(dims)
    n_frozen = dims["layers"] * sum(i * o for i, o in shapes.values())
    n_lora = dims["layers"] * rank * sum(i + o for m, (i, o) in shapes.items() if m in targets)
    attn = dims["layers"] * dims["heads"] * dims["head_dim"]
    tokens = sum(s.tokens for s in steps)
    scored = sum(s.loss_tokens for s in steps)
    pairs = sum(s.attn_pairs for s in steps)
    head = dims["d"] * dims["vocab"]
    return 4 * n_frozen * tokens + 4 * head * scored + 12 * attn * pairs + 6 * n_lora * tokens


# -- orchestration ----------------------------------------------------------------------


def others_share(window_s: float = 3.0) -> float:
    """Share of all CPUs busy over ``window_s`` seconds (this process only sleeps meanwhile)."""
    before = machine_busy_s()
    time.sleep(window_s)
    return (machine_busy_s() - before) / (window_s * (os.cpu_count() or 1))


def wait_for_quiet(threshold: float, max_wait_s: float) -> float:
    """Wait until other processes use less than ``threshold`` of the CPUs; seconds waited."""
    t0 = time.perf_counter()
    while (share := others_share()) >= threshold:
        waited = time.perf_counter() - t0
        if waited > max_wait_s:
            print(f"  machine still {share:.0%} busy after {waited:.0f}s; running anyway")
            break
        if waited < 4:
            print(f"  machine {share:.0%} busy with other work; waiting", flush=True)
    return time.perf_counter() - t0


def run_worker(
    name: str, settings: BenchSettings, spec: str, threads: int, timeout: float
) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TOKENIZERS_PARALLELISM": "false"}
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        cmd = [sys.executable, __file__, "--worker", name, "--model", spec]
        cmd += ["--threads", str(threads), "--result", str(result)]
        cmd += ["--settings-json", json.dumps(asdict(settings))]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not result.exists():
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-6000:])
            raise SystemExit(f"{name}: worker failed with exit code {proc.returncode}")
        return json.loads(result.read_text())


def summarize_run(
    run: dict[str, Any], dims: dict[str, int], settings: BenchSettings, max_others: float
) -> dict[str, Any]:
    """Real tokens/s over the timed steps (2..N), two ways.

    - ``tokens_per_s``: over the steps that other processes left undisturbed (took at most
      ``max_others`` of the CPUs during the step). Long steps are more likely to be disturbed,
      so this leans towards a trainer's shorter batches;
    - ``tokens_per_s_all``: over the whole window, disturbed or not.
    """
    steps = [StepStats(**s) for s in run["steps"]]
    if len(steps) < 2:
        raise SystemExit(f"{run['trainer']}: needs at least 2 steps to time, got {len(steps)}")
    cpus = os.cpu_count() or 1
    timed = steps[1:]
    # (wall seconds, own CPU seconds, undisturbed?) of each timed step
    spans = []
    for before, step in zip(steps[:-1], timed, strict=True):
        dt, own = step.end - before.end, step.cpu - before.cpu
        spans.append((dt, own, (step.busy - before.busy - own) / (dt * cpus) <= max_others))
    clean_steps = [s for s, (_, _, ok) in zip(timed, spans, strict=True) if ok]
    clean_s = sum(dt for dt, _, ok in spans if ok)
    nan = float("nan")
    first, last = steps[0], steps[-1]
    seconds, own_cpu = last.end - first.end, last.cpu - first.cpu
    tokens = sum(s.tokens for s in timed)
    flops = training_flops(dims, settings.lora_rank, list(settings.target_modules), clean_steps)
    return {
        "tokens_per_s": sum(s.tokens for s in clean_steps) / clean_s if clean_steps else nan,
        "tokens_per_s_all": tokens / seconds,
        "flops_per_s": flops / clean_s if clean_steps else nan,
        "timed_steps": len(timed),
        "clean_steps": len(clean_steps),
        "clean_tokens": sum(s.tokens for s in clean_steps),
        "clean_s": clean_s,
        "clean_flops": flops,
        "timed_s": seconds,
        "padding": 1 - sum(s.tokens for s in steps) / sum(s.padded for s in steps),
        "own_cpus": own_cpu / seconds,
        "others": max(0.0, (last.busy - first.busy - own_cpu) / (seconds * cpus)),
        "peak_rss_mb": run["peak_rss_mb"],
        "wall_s": run["wall_s"],
    }


def machine() -> str:
    info = Path("/proc/cpuinfo").read_text()
    names = [line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line]
    bf16 = "AVX512-BF16" if " avx512_bf16" in info else "no native bf16"
    name = names[0] if names else platform.processor() or "unknown CPU"
    return f"{name}, {os.cpu_count()} cores, {bf16}, {platform.system()} {platform.release()}"


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in ("vulntune", *LIBRARIES):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "-"
    return found


def render(report: dict[str, Any]) -> str:
    """The markdown block for benchmarks/RESULTS.md."""
    s = report["summary"]
    lines = [
        f"- date: {report['date']}; machine: {report['machine']}; "
        f"torch threads per run: {report['threads']}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()),
        f"- command: `{report['command']}` ({report['total_min']:.0f} min)",
        f"- model: {report['model']}; data: {report['data']}; {report['settings_line']}",
        "",
        "| trainer | tokens/s, undisturbed steps (pooled) | per run | steps | "
        "tokens/s, whole window: median | per repetition (others' CPU share) | padding | "
        "peak RSS MB | CPUs used | useful GFLOP/s | MFU | vulntune / this: undisturbed, whole |",
        "|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    peak = report.get("peak")
    dtype = "bfloat16" if report.get("precision") == "bf16" else "float32"
    best_peak = max(peak[dtype].values()) if peak and dtype in peak else None
    for name, row in s.items():
        mfu = f"{row['flops_per_s'] / 1e9 / best_peak:.1%}" if best_peak else "-"
        per_run = ", ".join(f"{v:.0f}" for v in row["per_run"])
        whole = ", ".join(f"{v:.0f} ({o:.0%})" for v, o in row["per_rep_all"])
        ratios = "-"
        if "vulntune" in s:
            v = s["vulntune"]
            ratios = (
                f"{v['tokens_per_s'] / row['tokens_per_s']:.2f}x, "
                f"{v['tokens_per_s_all'] / row['tokens_per_s_all']:.2f}x"
            )
        lines.append(
            f"| {name} | {row['tokens_per_s']:.1f} | {per_run} | "
            f"{row['clean_steps']}/{row['timed_steps']} | {row['tokens_per_s_all']:.1f} | "
            f"{whole} | {row['padding']:.1%} | {row['peak_rss_mb']:,.0f} | "
            f"{row['own_cpus']:.2f} | {row['flops_per_s'] / 1e9:.1f} | {mfu} | {ratios} |"
        )
    note = (
        "Real tokens/s: non-padding tokens per second of training-loop time after the first "
        "step (from the end of step 1 to the end of step N). 'Undisturbed steps': the steps of "
        f"every run (retried ones included) during which other processes took <= "
        f"{report['max_others']:.0%} of the CPUs, pooled (their tokens over their seconds); "
        "'steps' counts them. Long steps are more often disturbed, so this leans towards short "
        "batches. 'Whole window': every step as it ran, median over the kept run of each "
        "repetition, with the share of all CPUs other processes took meanwhile. CPUs used: "
        "the run's own CPU seconds per second (median)."
    )
    lines += ["", note]
    if peak and best_peak:
        rates = "; ".join(
            f"{dt}: " + ", ".join(f"{k} {v}" for k, v in r.items()) for dt, r in peak.items()
        )
        lines += ["", f"Matmul peak (torch GEMM, GFLOP/s, best of 5): {rates}."]
        if "vulntune" in s:
            achieved = s["vulntune"]["flops_per_s"] / 1e9
            lines.append(
                f"vulntune achieved {achieved:.1f} GFLOP/s of useful work = MFU "
                f"{achieved / best_peak:.1%} of the {dtype} peak ({best_peak} GFLOP/s); "
                "every trainer ran in that precision."
            )
    for peer, target in TARGETS.items():
        if "vulntune" in s and peer in s:
            ratios = [s["vulntune"][k] / s[peer][k] for k in ("tokens_per_s", "tokens_per_s_all")]
            verdict = "met" if min(ratios) >= target else "NOT met"
            lines.append(
                f"Target vulntune / {peer} >= {target}x: {ratios[0]:.2f}x on undisturbed steps, "
                f"{ratios[1]:.2f}x over whole windows: {verdict}."
            )
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m", help="vulntune base model spec")
    parser.add_argument(
        "--trainers", default=",".join(DEFAULT_TRAINERS), help=f"from {', '.join(PEERS)}"
    )
    parser.add_argument("--reps", type=int, default=3, help="repetitions per trainer")
    parser.add_argument("--examples", type=int, help="a length-stratified subset (default 96)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-steps", type=int, help="cap on optimizer steps")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per run")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16"],
        default="auto",
        help="for every trainer; auto: bf16 where the device has it natively, else fp32",
    )
    parser.add_argument(
        "--dropout-on",
        choices=["input", "rank"],
        default="input",
        help="vulntune's LoRA dropout placement (input = PEFT's, as HF and TRL use)",
    )
    parser.add_argument("--no-peak", action="store_true", help="skip the matmul peak")
    parser.add_argument("--max-others", type=float, default=0.05, help="CPU share of others")
    parser.add_argument("--retries", type=int, default=2, help="re-runs of a disturbed rep")
    parser.add_argument("--max-wait", type=float, default=600, help="seconds to wait for quiet")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument("--markdown", type=Path, help="write the RESULTS.md block here")
    parser.add_argument("--from-json", type=Path, help="re-summarize a saved --json file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--settings-json", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.worker:
        settings = BenchSettings(**json.loads(args.settings_json))
        args.result.write_text(json.dumps(_worker(args.worker, settings, args.model, args.threads)))
        return

    from vulntune.models.resolve import resolve_model

    t_start = time.perf_counter()
    trainers = [t.strip() for t in args.trainers.split(",") if t.strip()]
    unknown = sorted(set(trainers) - set(PEERS))
    if unknown:
        raise SystemExit(f"unknown trainer(s) {unknown}; choose from {', '.join(PEERS)}")
    resolved = resolve_model(args.model)
    import torch

    from vulntune.models.device import resolve_precision

    precision = resolve_precision(args.precision, torch.device(args.device))
    settings = BenchSettings(
        str(resolved.path),
        args.examples,
        args.epochs,
        args.max_steps,
        lora_dropout_on=args.dropout_on,
        precision=precision,
        device=args.device,
    )
    dims = model_dims(json.loads((resolved.path / "config.json").read_text()))
    meta = {
        "command": " ".join(["python", *sys.argv]),
        "model": f"{args.model} ({resolved.revision})",
        "data": _data_facts(resolved.path, args.examples),
    }
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        finish(args, settings, dims, {**saved["meta"], "rerendered": meta["command"]}, saved)
        return
    print(f"model {args.model} at {resolved.path}: {dims}\ndata: {meta['data']}", flush=True)

    def measure(name: str) -> dict[str, Any]:
        wait_for_quiet(args.max_others, args.max_wait)
        return run_worker(name, settings, args.model, args.threads, args.timeout)

    saved: dict[str, Any] = {"meta": meta, "peak": None, "runs": []}
    if not args.no_peak:
        saved["peak"] = measure("peak")["peak"]
        print(f"matmul peak GFLOP/s: {saved['peak']}", flush=True)
    for rep in range(args.reps):
        shift = rep % len(trainers)
        for name in trainers[shift:] + trainers[:shift]:
            for attempt in range(args.retries + 1):
                result = measure(name)
                row = summarize_run(result, dims, settings, args.max_others)
                saved["runs"].append({"rep": rep, "attempt": attempt, **result})
                meta["total_min"] = (time.perf_counter() - t_start) / 60
                if args.json:  # kept up to date, so an interrupted benchmark keeps its data
                    args.json.write_text(json.dumps(saved, indent=1))
                line = (
                    f"rep {rep + 1}/{args.reps} {name:11s} {row['tokens_per_s']:7.1f} tok/s on "
                    f"{row['clean_steps']}/{row['timed_steps']} undisturbed steps, "
                    f"{row['tokens_per_s_all']:.1f} over the whole window;  padding "
                    f"{row['padding']:.1%}  cpus {row['own_cpus']:.2f}  others "
                    f"{row['others']:.1%}  rss {row['peak_rss_mb']:,.0f} MB  "
                    f"wall {row['wall_s']:.0f}s"
                )
                print(line, flush=True)
                if 2 * row["clean_steps"] >= row["timed_steps"]:
                    break
                print(
                    "  mostly disturbed by other processes" + "; again" * (attempt < args.retries)
                )
    finish(args, settings, dims, meta, saved)


def finish(
    args: argparse.Namespace,
    settings: BenchSettings,
    dims: dict[str, int],
    meta: dict[str, Any],
    saved: dict[str, Any],
) -> None:
    """Summarize and print; write the markdown block and the JSON when asked.

    Undisturbed-step throughput pools the undisturbed steps of every attempt (a disturbed
    attempt's clean steps are as good as any); whole-window figures use the kept attempt of
    each repetition (its last).
    """
    every: dict[str, list[dict[str, Any]]] = {}
    kept: dict[tuple[str, int], dict[str, Any]] = {}
    for run in saved["runs"]:
        row = summarize_run(run, dims, settings, args.max_others)
        every.setdefault(run["trainer"], []).append(row)
        kept[(run["trainer"], run["rep"])] = row
    summary = {}
    for name in [n for n in PEERS if n in every]:
        rows = [row for (trainer, _), row in sorted(kept.items()) if trainer == name]
        pooled_s = sum(r["clean_s"] for r in every[name])
        nan = float("nan")
        summary[name] = {
            "tokens_per_s": sum(r["clean_tokens"] for r in every[name]) / pooled_s
            if pooled_s
            else nan,
            "flops_per_s": sum(r["clean_flops"] for r in every[name]) / pooled_s
            if pooled_s
            else nan,
            "per_run": [r["tokens_per_s"] for r in every[name]],
            "clean_steps": sum(r["clean_steps"] for r in every[name]),
            "timed_steps": sum(r["timed_steps"] for r in every[name]),
            "tokens_per_s_all": statistics.median(r["tokens_per_s_all"] for r in rows),
            "per_rep_all": [(r["tokens_per_s_all"], r["others"]) for r in rows],
            "padding": statistics.median(r["padding"] for r in rows),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in every[name]),
            "own_cpus": statistics.median(r["own_cpus"] for r in rows),
            "reps": len(rows),
            "attempts": len(every[name]),
        }
    data = meta["data"]
    limits = f", max {settings.max_steps} steps" if settings.max_steps else ""
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "threads": args.threads,
        "versions": versions(),
        "command": meta["command"],
        "total_min": meta.get("total_min", float("nan")),
        "model": meta["model"],
        "data": f"{data['examples']} built-in examples, {data['tokens']:,} tokens "
        f"({data['min']}-{data['max']} per example), {data['completion']:.0%} of them completion",
        "settings_line": f"batch {settings.batch_size}, lr {settings.learning_rate}, "
        f"{settings.epochs} epoch(s){limits}; every trainer {settings.precision} on "
        f"{settings.device}, LoRA dropout {settings.lora_dropout} on the "
        f"{settings.lora_dropout_on} (vulntune's lora.dropout_on)",
        "precision": settings.precision,
        "max_others": args.max_others,
        "summary": summary,
        "peak": saved["peak"],
    }
    block = render(report)
    print("\n" + block)
    if args.json and not args.from_json:
        args.json.write_text(json.dumps({**saved, "report": report}, indent=1))
    if args.markdown:
        args.markdown.write_text(block + "\n")


def _data_facts(model_dir: Path, limit: int | None) -> dict[str, Any]:
    from transformers import AutoTokenizer

    from throughput_trainers import builtin_examples, encode
    from vulntune.models.prompt_format import prompt_format_for

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    encoded = encode(tokenizer, prompt_format_for(model_dir), builtin_examples(limit))
    lengths = [e.length for e in encoded]
    return {
        "examples": len(encoded),
        "tokens": sum(lengths),
        "min": min(lengths),
        "max": max(lengths),
        "completion": sum(e.n_completion for e in encoded) / sum(lengths),
    }


if __name__ == "__main__":
    main()
