"""benchmarks/data/pairs.jsonl: the vulnerable->fixed pairs of the quality benchmark, in the
`--pairs` shape (CVEfixes/SVEN/Big-Vul style records)."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

PAIRS = Path(__file__).parents[2] / "benchmarks" / "data" / "pairs.jsonl"
LANGUAGES = {"C", "Go", "Java", "JavaScript", "Kotlin", "PHP", "Python", "TypeScript"}
FIELDS = {"language", "cwe", "file", "function", "code_before", "code_after"}


def load() -> list[dict[str, str]]:
    records = []
    for number, line in enumerate(PAIRS.read_text(encoding="utf-8").splitlines(), start=1):
        record = json.loads(line)
        assert isinstance(record, dict), f"line {number}"
        records.append(record)
    return records


def test_every_line_is_a_pair_record_with_the_expected_fields() -> None:
    for number, record in enumerate(load(), start=1):
        assert set(record) == FIELDS, f"line {number}"
        assert all(isinstance(record[f], str) and record[f].strip() for f in FIELDS), number
        assert record["language"] in LANGUAGES, number
        assert re.fullmatch(r"CWE-[1-9]\d*", record["cwe"]), number
        assert re.fullmatch(r"[\w./-]+\.\w+", record["file"]), number
        assert re.fullmatch(r"\w+", record["function"]), number
        assert record["function"] in record["code_before"], number
        assert record["function"] in record["code_after"], number


def test_counts_spread_over_languages_and_cwes() -> None:
    records = load()
    assert len(records) >= 60
    languages = Counter(r["language"] for r in records)
    cwes = Counter(r["cwe"] for r in records)
    assert len(languages) >= 5
    assert len(cwes) >= 20
    assert max(cwes.values()) <= 6
    assert len({(r["file"], r["function"]) for r in records}) == len(records)


def test_each_pair_is_a_real_change_of_a_short_function() -> None:
    for number, record in enumerate(load(), start=1):
        before, after = record["code_before"], record["code_after"]
        assert before != after, number
        assert before.endswith("\n") and after.endswith("\n"), number
        for code in (before, after):
            assert 5 <= code.count("\n") <= 30, number
            assert "\t" not in code or record["language"] == "Go", number


def test_python_pairs_parse() -> None:
    python = [r for r in load() if r["language"] == "Python"]
    assert python
    for record in python:
        ast.parse(record["code_before"])
        ast.parse(record["code_after"])


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node for a syntax check")
def test_javascript_pairs_parse(tmp_path: Path) -> None:
    javascript = [r for r in load() if r["language"] == "JavaScript"]
    assert javascript
    # One `node --check` for all: each side becomes the body of its own function, so that
    # the snippets' top-level declarations do not collide.
    bodies = [
        f"function pair{index}_{side}() {{\n{record[side]}}}\n"
        for index, record in enumerate(javascript)
        for side in ("code_before", "code_after")
    ]
    source = tmp_path / "pairs.js"
    source.write_text("".join(bodies), encoding="utf-8")
    done = subprocess.run(["node", "--check", str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
