"""Public vulnerable -> fixed pairs: read JSONL and CSV, report bad lines, make examples."""

from __future__ import annotations

import json
from pathlib import Path

from vulntune.datasets.fixes.pairs import PairColumns, pair_examples, read_pairs
from vulntune.datasets.secret_guard import SecretGuard

from ..helpers import applies_to_prompt

BEFORE = (
    "def find(cursor, owner):\n"
    "    cursor.execute(\"SELECT * FROM t WHERE o = '%s'\" % owner)\n"
    "    return cursor.fetchall()\n"
)
AFTER = (
    "def find(cursor, owner):\n"
    '    cursor.execute("SELECT * FROM t WHERE o = %s", (owner,))\n'
    "    return cursor.fetchall()\n"
)


def _write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def test_a_pair_gives_a_fix_and_an_analysis_example(tmp_path, catalogue) -> None:
    record = {"language": "Python", "cwe": "CWE-89", "cve": "CVE-2099-0001", "file": "app/db.py",
              "function": "find", "code_before": BEFORE, "code_after": AFTER}  # fmt: skip
    records, problems = read_pairs(_write_jsonl(tmp_path / "p.jsonl", [record]))
    assert problems == []
    made, skipped = pair_examples(records, catalogue, SecretGuard())
    assert skipped == []
    fix, analysis = made.examples
    assert fix.prompt == (
        "Fix this security finding.\nLanguage: Python\nLocation: app/db.py:2\nCode:\n"
        + BEFORE.rstrip("\n")
    )
    assert fix.completion.startswith("Fix: Apply the fix of CVE-2099-0001.\n```diff\n")
    assert "-    cursor.execute(\"SELECT * FROM t WHERE o = '%s'\" % owner)\n" in fix.completion
    assert applies_to_prompt(fix.prompt, fix.completion)
    assert fix.meta.fix_source == "pair" and fix.meta.source == "p.jsonl:1"
    assert analysis.completion.splitlines()[:3] == [
        "Classification: CWE-89 Improper Neutralization of Special Elements used in an SQL "
        "Command ('SQL Injection')",
        "Severity: high",  # MITRE's likelihood of exploit for CWE-89: High
        "Category: injection",
    ]
    assert "CWE" not in analysis.prompt
    assert fix.group == analysis.group


def test_malformed_records_are_reported_by_line_and_skipped(tmp_path, catalogue) -> None:
    good = {"code_before": BEFORE, "code_after": AFTER}
    path = _write_jsonl(
        tmp_path / "p.jsonl",
        [good, "{not json", "[1, 2]", {"code_after": AFTER}, {"code_before": BEFORE},
         {"code_before": BEFORE, "code_after": BEFORE}, good],
    )  # fmt: skip
    records, problems = read_pairs(path)
    assert [r.source for r in records] == ["p.jsonl:1", "p.jsonl:7"]
    assert [(p.line, p.problem.split(":")[0]) for p in problems] == [
        (2, "invalid JSON"),
        (3, "not a JSON object"),
        (4, "no 'code_before' text"),
        (5, "no 'code_after' text"),
        (6, "the code before and after the fix is the same"),
    ]
    assert all(p.file == str(path) for p in problems)


def test_csv_with_configured_columns(tmp_path, catalogue) -> None:
    import csv

    path = tmp_path / "bigvul.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["lang", "CWE ID", "func_before", "func_after"])
        writer.writerow(["C", "CWE-787", "int f(char *s) {\n  strcpy(buf, s);\n}\n",
                         "int f(char *s) {\n  strncpy(buf, s, sizeof buf - 1);\n}\n"])  # fmt: skip
        writer.writerow(["C", "CWE-787", "", "x"])
    columns = PairColumns(
        language="lang", cwe="CWE ID", code_before="func_before", code_after="func_after"
    )
    records, problems = read_pairs(path, columns)
    # The first record's cells span lines 2-8: the second record starts on line 9.
    assert [(p.line, p.problem) for p in problems] == [(9, "no 'func_before' text")]
    (record,) = records
    assert record.language == "C" and record.cwe == "CWE-787"
    made, _ = pair_examples(records, catalogue, SecretGuard())
    fix = next(e for e in made.examples if e.task == "codefix")
    assert "Location: snippet.c:2" in fix.prompt
    assert applies_to_prompt(fix.prompt, fix.completion)


def test_the_benchmark_pairs_file_gives_examples_that_apply(catalogue) -> None:
    path = Path(__file__).parents[3] / "benchmarks" / "data" / "pairs.jsonl"
    records, problems = read_pairs(path)
    assert len(records) == 71 and problems == []
    made, skipped = pair_examples(records, catalogue, SecretGuard())
    fixes = [e for e in made.examples if e.task == "codefix"]
    assert len(fixes) + len(skipped) == 71
    assert all(applies_to_prompt(e.prompt, e.completion) for e in fixes)
