"""``stats.json``: what a dataset holds and what was left out, by reason.

Per task and split: example counts by tool, kind, category, severity and fix source, and
the length percentiles of prompts and completions (characters always; tokens of the base
model's tokenizer when ``--base-model`` is given; only the tokenizer is loaded). Examples
from the CWE catalogue are counted apart (``catalogue``). Every finding that gave no example
for a task is counted by reason (``dropped``), and malformed input records are listed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from vulntune.datasets.records import (
    SPLITS,
    TASKS,
    DatasetExample,
    DroppedFinding,
    InputProblem,
    Split,
)
from vulntune.datasets.render import PROMPT_FORMAT_VERSION, Task

STATS_FORMAT = "vulntune-dataset-stats-v1"
PERCENTILES = (50, 90, 95, 99, 100)

Tokenizer = Callable[[str], int]  # text -> number of tokens


def load_token_counter(base_model: str) -> Tokenizer:
    """A function counting the tokens of a text with ``base_model``'s tokenizer (the model
    is resolved, its weights are not loaded)."""
    from transformers import AutoTokenizer

    from vulntune.models.output import quiet_library_output
    from vulntune.models.resolve import resolve_model

    resolved = resolve_model(base_model)
    quiet_library_output()
    tokenizer = AutoTokenizer.from_pretrained(resolved.path)

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    return count


def percentiles(values: Sequence[int]) -> dict[str, int]:
    """Nearest-rank percentiles ``p50 ... p100`` of ``values`` ({} when empty)."""
    if not values:
        return {}
    ordered = sorted(values)
    out = {}
    for p in PERCENTILES:
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        out[f"p{p}"] = ordered[rank - 1]
    return out


def _counts(examples: Sequence[DatasetExample], field: str) -> dict[str, int]:
    counter: Counter[str] = Counter()
    for example in examples:
        value = getattr(example.meta, field)
        counter[value if value is not None else "none"] += 1
    return dict(sorted(counter.items()))


def _lengths(
    examples: Sequence[DatasetExample], tokens: Tokenizer | None
) -> dict[str, dict[str, int]]:
    out = {
        "prompt_chars": percentiles([len(e.prompt) for e in examples]),
        "completion_chars": percentiles([len(e.completion) for e in examples]),
    }
    if tokens is not None:
        out["prompt_tokens"] = percentiles([tokens(e.prompt) for e in examples])
        out["completion_tokens"] = percentiles([tokens(e.completion) for e in examples])
        out["total_tokens"] = percentiles([tokens(e.prompt + e.completion) for e in examples])
    return out


def split_stats(examples: Sequence[DatasetExample], tokens: Tokenizer | None) -> dict[str, Any]:
    """The counts and lengths of one task's split."""
    own = [e for e in examples if e.origin != "catalogue"]
    return {
        "examples": len(examples),
        "catalogue": len(examples) - len(own),
        "by_origin": dict(sorted(Counter(e.origin for e in examples).items())),
        "by_tool": _counts(own, "tool"),
        "by_kind": _counts(own, "kind"),
        "by_category": _counts(examples, "category"),
        "by_severity": _counts(own, "severity"),
        "by_fix_source": _counts(examples, "fix_source"),
        "lengths": _lengths(examples, tokens),
    }


def build_stats(
    splits: dict[Task, dict[Split, list[DatasetExample]]],
    dropped: Sequence[DroppedFinding],
    *,
    findings: int,
    findings_by_tool: dict[str, int],
    problems: Sequence[InputProblem],
    settings: dict[str, Any],
    tokens: Tokenizer | None,
    base_model: str | None,
) -> dict[str, Any]:
    """The whole ``stats.json`` document."""
    tasks: dict[str, Any] = {}
    for task in TASKS:
        per_split = {split: split_stats(splits[task][split], tokens) for split in SPLITS}
        reasons = Counter(d.reason for d in dropped if d.task == task)
        by_tool: dict[str, Counter[str]] = {}
        for d in dropped:
            if d.task == task:
                by_tool.setdefault(d.tool, Counter())[d.reason] += 1
        tasks[task] = {
            "examples": sum(s["examples"] for s in per_split.values()),
            "catalogue": sum(s["catalogue"] for s in per_split.values()),
            "splits": per_split,
            "dropped": dict(sorted(reasons.items())),
            "dropped_by_tool": {t: dict(sorted(c.items())) for t, c in sorted(by_tool.items())},
        }
    return {
        "format": STATS_FORMAT,
        "prompt_format_version": PROMPT_FORMAT_VERSION,
        "findings": findings,
        "findings_by_tool": dict(sorted(findings_by_tool.items())),
        "tokenizer": base_model,
        "settings": settings,
        "tasks": tasks,
        "input_problems": [str(p) for p in problems],
    }
