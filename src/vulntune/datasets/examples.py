"""Training examples: reading, validating and splitting prompt/completion JSONL files.

Two line shapes are accepted, one JSON object per line:

* ``{"prompt": "...", "completion": "...", "system": "...?", "id": "...?"}``
* ``{"messages": [{"role": "user", "content": "..."}, ..., {"role": "assistant", ...}],
  "id": "...?"}`` -- the last message is the completion the model learns to write.

Every problem is reported with the file and the line number, all of them at once (up to a
limit), so a user fixes a data file in one pass. The records themselves (`Example`, `Message`)
live in `vulntune.conversation`, below every package, and are re-exported here.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from vulntune.conversation import ROLES, Example, Message
from vulntune.errors import VulntuneError

_MAX_REPORTED = 10

__all__ = [
    "ROLES",
    "DataFormatError",
    "Example",
    "Message",
    "example_from_obj",
    "examples_to_jsonl",
    "read_examples",
    "split_examples",
]


class DataFormatError(VulntuneError):
    """A data file with lines that are not valid examples."""


def _content_id(messages: Sequence[Message]) -> str:
    canonical = json.dumps([[m.role, m.content] for m in messages], ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def example_from_obj(obj: Any) -> Example:
    """Build an Example from one decoded JSON line; ValueError says what is wrong."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    if "messages" in obj:
        raw = obj["messages"]
        if not isinstance(raw, list) or not raw:
            raise ValueError("'messages' must be a non-empty list")
        messages = []
        for i, m in enumerate(raw):
            if not isinstance(m, dict) or not isinstance(m.get("content"), str):
                raise ValueError(f"messages[{i}] needs a string 'content'")
            if m.get("role") not in ROLES:
                raise ValueError(f"messages[{i}] has role {m.get('role')!r}; use one of {ROLES}")
            messages.append(Message(m["role"], m["content"]))
    elif "prompt" in obj or "completion" in obj:
        for key in ("prompt", "completion"):
            if not isinstance(obj.get(key), str):
                raise ValueError(f"missing or non-string {key!r}")
        system = obj.get("system")
        if system is not None and not isinstance(system, str):
            raise ValueError("'system' must be a string")
        messages = [Message("system", system)] if system else []
        messages += [Message("user", obj["prompt"]), Message("assistant", obj["completion"])]
    else:
        raise ValueError("needs 'prompt' and 'completion', or 'messages'")
    if messages[-1].role != "assistant" or not messages[-1].content.strip():
        raise ValueError("the last message must be a non-empty assistant completion")
    if not any(m.role == "user" and m.content.strip() for m in messages[:-1]):
        raise ValueError("needs a non-empty user prompt before the completion")
    ex_id = obj.get("id")
    bad_type = isinstance(ex_id, bool) or not isinstance(ex_id, str | int)  # bool is an int
    if ex_id is not None and (bad_type or str(ex_id) == ""):
        raise ValueError("'id' must be a non-empty string or integer")
    return Example(str(ex_id) if ex_id is not None else _content_id(messages), tuple(messages))


def read_examples(path: Path) -> list[Example]:
    """Read and validate a JSONL examples file; raise DataFormatError listing bad lines."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataFormatError(f"{path}: no such data file") from None
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise DataFormatError(f"{path}: cannot read: {exc.strerror}") from None
    examples: list[Example] = []
    problems: list[str] = []
    first_line_of: dict[str, int] = {}
    # Split on "\n" only: str.splitlines() also splits on U+2028, U+0085 and friends, which
    # JSON strings may hold raw (examples_to_jsonl writes them so) and which code contains.
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            example = example_from_obj(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{lineno}: invalid JSON ({exc.msg}, column {exc.colno})")
            continue
        except ValueError as exc:
            problems.append(f"{path}:{lineno}: {exc}")
            continue
        if example.id in first_line_of:
            first = first_line_of[example.id]
            problems.append(f"{path}:{lineno}: duplicate id {example.id!r} (first on line {first})")
            continue
        first_line_of[example.id] = lineno
        examples.append(example)
    if problems:
        shown = problems[:_MAX_REPORTED]
        more = f" (and {len(problems) - len(shown)} more)" if len(problems) > len(shown) else ""
        raise DataFormatError(f"{len(problems)} bad line(s){more}:\n  " + "\n  ".join(shown))
    if not examples:
        raise DataFormatError(f"{path}: contains no examples")
    return examples


def examples_to_jsonl(examples: Iterable[Example]) -> str:
    """Serialise examples in the canonical ``messages`` shape, one per line."""
    return "".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in examples)


def split_examples(
    examples: Sequence[Example], validation_fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """Seeded train/validation split. With a non-zero fraction and at least two examples the
    validation set gets at least one example and training keeps at least one."""
    order = list(examples)
    random.Random(seed).shuffle(order)
    n_val = round(len(order) * validation_fraction)
    if validation_fraction > 0 and len(order) >= 2:
        n_val = min(max(n_val, 1), len(order) - 1)
    else:
        n_val = 0
    return order[n_val:], order[:n_val]
