"""Similar training findings written into analysis prompts (opt-in: ``similar`` > 0).

Which CWE a scanner's rule stands for is a fact of the project's own history, and a 135M model
learns it slowly from its weights: with adapters on all layers it took eight epochs on the
classification line alone (benchmarks/RESULTS.md, "teacher-forced"). A rule seen once in
training is the best evidence for the next finding of that rule, so with ``similar = k`` each
analysis prompt gets, just before its ``Code:`` block, up to k lines

    Similar finding: bandit B501: Call to requests with verify=False ... -> CWE-295 <name>

naming the training examples nearest to it and the CWE each was classified as (a line that
would repeat one already written is skipped for the next nearest). The model
learns when to follow them (the same rule) and when not to (a different weakness in
similar-looking code).

Nearness is the cosine of TF-IDF word vectors over the prompt's tool, rule, language, message
(its words count twice) and code, identifiers also split into their parts (``innerHTML`` ->
``inner``, ``html``), with sub-linear term counts and the tool and rule also one word of their
own. The location is left out: findings in the same file share its words whatever their
weakness (leaving it out found the right CWE first for 27 rather than 26 of the 75 training
examples of benchmarks/quality.py's data, each left out in turn; the message's weight and the
split identifiers brought it to 28, and within the first two to 38 rather than 32). Except
that findings of the same tool and rule always come first: the same rule is the strongest
evidence there is, and code around a finding can look more like another rule's finding in the
same file than like the same rule's elsewhere. Ties go to the smaller example id. An example
is never its own neighbour, nor is one of its own group (a near-duplicate of it); test and
validation prompts get neighbours from the training split only, and so does `vulntune analyze`
from the run's training split, so every prompt sees what a new finding would see.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from vulntune.datasets.records import DatasetExample
from vulntune.datasets.render import read_prompt
from vulntune.errors import VulntuneError

SIMILAR_KEY = "Similar finding"
MAX_SIMILAR = 5
_MESSAGE_CHARS = 100
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+|\d+")
_CAMEL_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# The tool's words about the finding say most about which weakness it is: they count twice.
_MESSAGE_WEIGHT = 2
_CLASSIFICATION = re.compile(r"^Classification: (CWE-\d+[^\n]*)")


class SimilarFindingsError(VulntuneError, ValueError):
    """A memory of training findings cannot be built or read."""


@dataclass(frozen=True)
class _Entry:
    id: str
    group: str
    summary: str  # "bandit B501: <message>" or "Go internal/api/documents.go"
    label: str  # "CWE-295 Improper Certificate Validation"


Fields = dict[str, str]


def prompt_fields(prompt: str) -> tuple[Fields, str]:
    """A prompt's ``Key: value`` lines (first of each key, similar lines left out) and its
    code block ("" without one)."""
    values, code = read_prompt(prompt)
    values.pop(SIMILAR_KEY, None)
    return values, code or ""


def _rule(values: Fields) -> str | None:
    return f"{values.get('Tool', '')}:{values['Rule']}" if "Rule" in values else None


def _identifier_parts(word: str) -> list[str]:
    """``innerHTML`` -> ``inner``, ``html``; ``execCommand`` -> ``exec``, ``command``."""
    return [p.lower() for p in _CAMEL_PART.findall(word) if len(p) > 1]


def _words(values: Fields, code: str) -> Counter[str]:
    words: Counter[str] = Counter()
    for text, weight in (
        (values.get("Tool", ""), 1),
        (values.get("Rule", ""), 1),
        (values.get("Language", ""), 1),
        (values.get("Message", ""), _MESSAGE_WEIGHT),
        (code, 1),
    ):
        for word in _WORD.findall(text):
            words[word.lower()] += weight
            parts = _identifier_parts(word)
            if len(parts) > 1:
                for part in parts:
                    words[part] += weight
    if (rule := _rule(values)) is not None:
        words[f"rule={rule}".lower()] += 1
    return words


def _summary(values: Fields) -> str:
    if "Rule" in values:
        who = " ".join(v for v in (values.get("Tool"), values["Rule"]) if v)
        message = values.get("Message", "")
        if len(message) > _MESSAGE_CHARS:
            message = message[: _MESSAGE_CHARS - 3].rstrip() + "..."
        return f"{who}: {message}" if message else who
    where = values.get("Location", "").split(":")[0]
    return " ".join(v for v in (values.get("Language"), where) if v) or "code"


class SimilarFindings:
    """The training analysis examples as a memory that writes neighbours into prompts."""

    def __init__(self, examples: Iterable[tuple[str, str, str, str]], k: int) -> None:
        """``examples``: (id, group, prompt, completion) of the training analysis split; those
        whose completion has no ``Classification: CWE-`` line are left out."""
        if not 1 <= k <= MAX_SIMILAR:
            raise SimilarFindingsError(f"similar must be between 1 and {MAX_SIMILAR}, not {k}")
        self.k = k
        rows = []
        for id_, group, prompt, completion in examples:
            match = _CLASSIFICATION.match(completion)
            if match:
                rows.append((id_, group, prompt, match.group(1).strip()))
        rows.sort(key=lambda row: row[0])  # index order is id order: ties go to the smaller id
        fields = [prompt_fields(prompt) for _, _, prompt, _ in rows]
        counts = [_words(values, code) for values, code in fields]
        documents: Counter[str] = Counter()
        for words in counts:
            documents.update(words.keys())
        total = len(rows)
        self._idf = {w: math.log((total + 1) / (n + 1)) + 1.0 for w, n in documents.items()}
        self._entries = [
            _Entry(id_, group, _summary(values), label)
            for (id_, group, _, label), (values, _) in zip(rows, fields, strict=True)
        ]
        # An inverted index (word -> entries holding it, and their weights), so that a prompt
        # is scored against only the entries that share a word with it, in numpy.
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for index, words in enumerate(counts):
            for word, weight in self._vector(words).items():
                entry_ids, weights = postings.setdefault(word, ([], []))
                entry_ids.append(index)
                weights.append(weight)
        self._postings = {
            w: (np.array(i, dtype=np.int64), np.array(v)) for w, (i, v) in postings.items()
        }
        self._by_rule = _index_lists(_rule(values) for values, _ in fields)
        self._by_group = _index_lists(group for _, group, _, _ in rows)
        self._by_id = {entry.id: index for index, entry in enumerate(self._entries)}

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def from_examples(cls, examples: Sequence[DatasetExample], k: int) -> SimilarFindings:
        """A memory of ``examples`` (the analysis training split of a dataset)."""
        return cls(((e.id, e.group, e.prompt, e.completion) for e in examples), k)

    @classmethod
    def from_jsonl(cls, path: Path, k: int) -> SimilarFindings:
        """A memory of a training file (``analysis-train.jsonl``, a run's
        ``stage1-train.jsonl``); SimilarFindingsError names the file, line and problem."""
        rows = []
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise SimilarFindingsError(f"{path}: cannot read training findings ({exc})") from exc
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                group = row.get("meta", {}).get("group") or row["id"]
                rows.append((str(row["id"]), str(group), row["prompt"], row["completion"]))
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
                raise SimilarFindingsError(
                    f"{path}:{number}: not a training example ({type(exc).__name__}: {exc})"
                ) from exc
        return cls(rows, k)

    def _vector(self, words: Counter[str]) -> dict[str, float]:
        vector = {w: (1.0 + math.log(n)) * self._idf.get(w, 0.0) for w, n in words.items()}
        norm = math.sqrt(sum(v * v for v in vector.values()))
        return {w: v / norm for w, v in vector.items() if v} if norm else {}

    def nearest(self, prompt: str, *, own_id: str = "", own_group: str = "") -> list[str]:
        """The lines for ``prompt``: its k nearest entries, nearest first."""
        size = len(self._entries)
        scores = np.zeros(size)
        values, code = prompt_fields(prompt)
        for word, weight in self._vector(_words(values, code)).items():
            if word in self._postings:
                entry_ids, weights = self._postings[word]
                scores[entry_ids] += weight * weights
        same_rule = np.zeros(size, dtype=bool)
        rule = _rule(values)
        if rule is not None and rule in self._by_rule:
            same_rule[self._by_rule[rule]] = True
        allowed = same_rule | (scores > 0.0)
        if own_id in self._by_id:
            allowed[self._by_id[own_id]] = False
        if own_group and own_group in self._by_group:
            allowed[self._by_group[own_group]] = False
        candidates = np.flatnonzero(allowed)
        # Same rule first, then the higher score, then the smaller id (index order).
        order = np.lexsort((candidates, -scores[candidates], ~same_rule[candidates]))
        lines: list[str] = []
        for i in candidates[order].tolist():
            entry = self._entries[i]
            line = f"{SIMILAR_KEY}: {entry.summary} -> {entry.label}"
            if line not in lines:  # the same advisory in two lockfiles says nothing new
                lines.append(line)
                if len(lines) == self.k:
                    break
        return lines

    def add_to(self, prompt: str, *, own_id: str = "", own_group: str = "") -> str:
        """``prompt`` with its similar-finding lines before its ``Code:`` block (at the end
        when it has none)."""
        lines = self.nearest(prompt, own_id=own_id, own_group=own_group)
        if not lines:
            return prompt
        head, sep, code = prompt.partition("\nCode:\n")
        return "\n".join([head, *lines]) + (sep + code if sep else "")


def _index_lists(keys: Iterable[str | None]) -> dict[str, list[int]]:
    """key -> the indices it occurs at (None keys left out)."""
    out: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        if key is not None:
            out.setdefault(key, []).append(index)
    return out


def with_similar(
    splits: dict[str, list[DatasetExample]], k: int
) -> dict[str, list[DatasetExample]]:
    """Analysis ``splits`` (split -> examples) with ``k`` similar training findings in every
    prompt; ``k`` = 0 returns them as they are."""
    if k == 0:
        return splits
    memory = SimilarFindings.from_examples(splits.get("train", []), k)
    return {
        split: [
            replace(e, prompt=memory.add_to(e.prompt, own_id=e.id, own_group=e.group))
            for e in examples
        ]
        for split, examples in splits.items()
    }
