"""Does a LoRA configuration learn which CWE a finding is? A teacher-forced check (issue 10).

Trains LoRA adapters on a run's Stage-1 training split (``RUN/data/stage1-train.jsonl``) with a
plain loop (AdamW, warm-up then cosine, gradients clipped at ``--max-grad-norm`` as Stage 1's are
at 1.0, batches of ``--batch-size``, loss on the completion only, the run's prompt formatting)
and reports, every ``--every`` epochs, on how many training and test
examples the model's most likely tokens at the CWE id's position are exactly the reference id
(given the prompt and ``Classification: CWE-``). That isolates the one decision the structured
decoder cannot make for the model: everything after the id (the catalogue name, root cause and
impact) follows from it.

- ``--target line`` trains on the classification line alone, ``full`` on the whole completion,
  as Stage 1 does, ``drill`` on the whole completion plus one classification drill per example
  in the same epochs (the same finding under ``Classify this security finding.``, answered with
  the classification line alone);
- ``--then-full N`` trains the last N of the ``--epochs`` on the whole completion (a curriculum:
  the line first, the rest after);
- ``--line-weight W`` weighs the classification line's tokens W times the rest of the
  completion in the loss (a weighted mean; 1 is Stage 1's plain mean);
- ``--layout name-first`` writes the line as ``Classification: <name> (CWE-<id>)`` and counts
  a hit only when the name and the id are both the reference's.

    flock /tmp/vulntune-heavy.lock .venv/bin/python benchmarks/cwe_id_learning.py \\
        --run RUN --last-layers 30 --learning-rate 3e-3 --epochs 8 --target full

Each report is printed as one JSON line (the settings, the epoch, the last batch loss, the
counts) so the numbers in RESULTS.md can be traced to a command.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from vulntune.conversation import Message
from vulntune.errors import VulntuneError
from vulntune.models.loading import load_model_and_tokenizer
from vulntune.models.prompt_format import PromptFormatter, prompt_format_for
from vulntune.models.resolve import resolve_model
from vulntune.runs.config import LoraSettings
from vulntune.training.batching import collate
from vulntune.training.encoding import IGNORE_INDEX, EncodedExample
from vulntune.training.loop import lr_multiplier
from vulntune.training.lora import attach_lora

_ID = re.compile(r"^Classification: CWE-(\d+)")
_LINE = re.compile(r"^Classification: CWE-(\d+) (.+)$")


@dataclass(frozen=True)
class Encoded:
    prompt: list[int]
    completion: list[int]
    id_span: tuple[int, int]  # completion token positions of the CWE id's digits
    line_end: int  # completion tokens up to the end of the classification line


def load_split(run: Path, split: str) -> list[dict[str, str]]:
    """The Stage-1 examples of one split; ValueError names the file and the problem."""
    path = run / "data" / f"stage1-{split}.jsonl"
    if not path.is_file():
        raise ValueError(f"{path}: not found (is {run} a vulntune run directory?)")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            row = json.loads(line)
            prompt, completion = row["prompt"], row["completion"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a prompt/completion example ({exc})") from exc
        if _ID.match(completion):
            rows.append({"prompt": prompt, "completion": completion})
    if not rows:
        raise ValueError(f"{path}: no example whose completion starts with a CWE id")
    return rows


def name_first(completion: str) -> str:
    """``Classification: CWE-78 <name>`` rewritten as ``Classification: <name> (CWE-78)``."""
    line, sep, rest = completion.partition("\n")
    match = _LINE.match(line)
    assert match is not None  # load_split keeps only such examples
    return f"Classification: {match.group(2)} (CWE-{match.group(1)}){sep}{rest}"


def encode(
    formatter: PromptFormatter, example: dict[str, str], target: str, layout: str = "id-first"
) -> Encoded:
    """Token ids of one example and where its CWE id's digits are in the completion (with
    ``layout`` name-first: the name and the id, everything after ``Classification: ``)."""
    tokenizer = formatter.tokenizer
    completion = example["completion"]
    if layout == "name-first":
        completion = name_first(completion)
    if target == "line":
        completion = completion.split("\n", 1)[0]
    completion += tokenizer.eos_token
    prompt_text = formatter.prompt_text([Message("user", example["prompt"])])
    prompt = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    tokens = tokenizer(completion, add_special_tokens=False, return_offsets_mapping=True)
    if layout == "name-first":
        # To the end of the line: catalogue names can hold parentheses of their own.
        line = completion.split("\n", 1)[0].removesuffix(tokenizer.eos_token)
        lo, hi = len("Classification: "), len(line)
    else:
        match = _ID.match(completion)
        assert match is not None  # load_split keeps only such examples
        lo, hi = match.span(1)
    offsets = tokens["offset_mapping"]
    inside = [i for i, (s, e) in enumerate(offsets) if s < hi and e > lo]
    newline = completion.find("\n")
    line_end = len(offsets) if newline < 0 else sum(1 for s, _ in offsets if s < newline)
    return Encoded(prompt, tokens["input_ids"], (inside[0], inside[-1] + 1), line_end)


def drill(example: dict[str, str]) -> dict[str, str]:
    """The classification drill of one analysis example: its prompt under another task line,
    so that the model does not learn to stop after the classification when asked for an
    analysis, answered with the classification line alone."""
    _, rest = example["prompt"].split("\n", 1)
    line = example["completion"].split("\n", 1)[0]
    return {"prompt": f"Classify this security finding.\n{rest}", "completion": line}


def id_hits(model: torch.nn.Module, items: list[Encoded]) -> int:
    """Examples whose argmax tokens at the id's positions are exactly the reference id."""
    model.eval()
    hits = 0
    with torch.no_grad():
        for item in items:
            a, b = item.id_span
            ids = torch.tensor([item.prompt + item.completion[:b]])
            logits = model(input_ids=ids).logits[0]
            start = len(item.prompt) + a - 1  # the logits at t predict token t + 1
            predicted = logits[start : start + (b - a)].argmax(-1).tolist()
            hits += predicted == item.completion[a:b]
    model.train()
    return hits


def train(args: argparse.Namespace) -> list[dict[str, object]]:
    """Train as ``args`` say; one report per ``args.every`` epochs (and after the last)."""
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    train_rows, test_rows = load_split(args.run, "train"), load_split(args.run, "test")
    model_dir = resolve_model(args.base_model).path
    loaded = load_model_and_tokenizer(model_dir)
    model, tokenizer = loaded.model, loaded.tokenizer
    formatter = PromptFormatter(tokenizer, prompt_format_for(model_dir))
    target = "full" if args.target == "drill" else args.target
    layout = args.layout
    train_set = [encode(formatter, r, target, layout) for r in train_rows]
    test_set = [encode(formatter, r, target, layout) for r in test_rows]
    if args.target == "drill":
        train_set += [encode(formatter, drill(r), "line", layout) for r in train_rows]
    lora = LoraSettings(rank=16, alpha=32.0, last_layers=args.last_layers)
    model = attach_lora(model, lora)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.learning_rate, weight_decay=0.0)
    steps = args.epochs * math.ceil(len(train_set) / args.batch_size)
    schedule = lr_multiplier("cosine", max(1, int(0.1 * steps)), steps)  # Stage 1's, 10% warmup
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    reports: list[dict[str, object]] = []
    step, started, loss = 0, time.perf_counter(), torch.tensor(float("nan"))
    model.train()
    full_set = [encode(formatter, r, "full", layout) for r in train_rows]
    trained_on = args.target
    for epoch in range(1, args.epochs + 1):
        if epoch == args.epochs - args.then_full + 1:
            train_set, trained_on = full_set, "full"  # the whole completion from here on
        order = list(range(len(train_set)))
        rng.shuffle(order)
        for first in range(0, len(order), args.batch_size):
            rows = [train_set[i] for i in order[first : first + args.batch_size]]
            batch = collate(
                [EncodedExample("", r.prompt + r.completion, len(r.prompt)) for r in rows], pad
            )
            ids, mask, labels = batch.input_ids, batch.attention_mask, batch.labels
            weights = (labels != IGNORE_INDEX).float()
            for r, row in enumerate(rows):
                weights[r, len(row.prompt) : len(row.prompt) + row.line_end] = args.line_weight
            lr = args.learning_rate * schedule(step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
            if args.line_weight == 1.0:
                loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), labels[:, 1:])
            else:
                per_token = torch.nn.functional.cross_entropy(
                    logits.transpose(1, 2), labels[:, 1:], reduction="none"
                )
                loss = (per_token * weights[:, 1:]).sum() / weights[:, 1:].sum()
            loss.backward()
            if args.max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(params, args.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad()
            step += 1
        if epoch % args.every == 0 or epoch == args.epochs:
            report = {
                "last_layers": args.last_layers, "learning_rate": args.learning_rate,
                "target": args.target, "layout": args.layout, "line_weight": args.line_weight,
                "max_grad_norm": args.max_grad_norm, "then_full": args.then_full,
                "epoch": epoch, "trained_on": trained_on, "steps": step,
                "last_loss": round(loss.item(), 4),
                "train_hits": id_hits(model, train_set), "train": len(train_set),
                "test_hits": id_hits(model, test_set), "test": len(test_set),
                "seconds": round(time.perf_counter() - started, 1),
            }  # fmt: skip
            print(json.dumps(report), flush=True)
            reports.append(report)
    return reports


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="a vulntune run directory")
    parser.add_argument("--base-model", default="smollm2-135m")
    parser.add_argument("--last-layers", type=int, default=12, help="adapters on the last N")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--target", choices=("line", "full", "drill"), default="full")
    parser.add_argument(
        "--layout",
        choices=("id-first", "name-first"),
        default="id-first",
        help="name-first writes the classification as '<name> (CWE-<id>)' and counts a hit "
        "when name and id are both right",
    )
    parser.add_argument(
        "--line-weight", type=float, default=1.0, help="loss weight of the classification line"
    )
    parser.add_argument(
        "--max-grad-norm", type=float, default=1.0, help="gradient clipping; 0 switches it off"
    )
    parser.add_argument(
        "--then-full",
        type=int,
        default=0,
        help="train the last N of --epochs on the whole completion (after --target's)",
    )
    parser.add_argument("--every", type=int, default=2, help="report every N epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("last_layers", "epochs", "batch_size", "every"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not args.learning_rate > 0:
        parser.error("--learning-rate must be positive")
    if not args.max_grad_norm >= 0:
        parser.error("--max-grad-norm must be 0 (off) or positive")
    if not 0 <= args.then_full <= args.epochs:
        parser.error("--then-full must be between 0 and --epochs")
    if not args.line_weight > 0:
        parser.error("--line-weight must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        train(args)
    except (ValueError, VulntuneError) as exc:
        print(f"cwe_id_learning.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
