"""Public vulnerable -> fixed pairs (``--pairs FILE``): CVEfixes / SVEN / Big-Vul exports.

A pairs file is JSONL (one object a line) or CSV (a header row; by the ``.csv`` suffix).
A record has the code before and after the fix and, optionally, its language, CWE, CVE,
file and function name, and a severity; :class:`PairColumns` names the columns (the
defaults are those of ``benchmarks/data/pairs.jsonl``). A malformed record (bad JSON, no
code before or after, both the same) is reported by file and line and skipped.

A pair gives a Stage-2 example: the prompt shows the code before (:func:`render_code_prompt`
with the language and ``Location: <file>:<first changed line>``), the reference is the diff
from before to after with the file's path (``<function><ext>`` without one). With a usable
CWE it also gives a Stage-1 example: the CWE, the pair's severity (else MITRE's likelihood
of exploit), the category of the CWE, and the CWE's description and consequences. The two
examples of one pair share a split group.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vulntune.datasets.analysis_examples import impact
from vulntune.datasets.completions import AnalysisCompletion, CodeFixCompletion
from vulntune.datasets.cwe_catalogue import CweCatalogue, parse_cwe_id
from vulntune.datasets.finding_keys import digest
from vulntune.datasets.fixes.common import first_difference
from vulntune.datasets.records import DatasetExample, ExampleMeta, ExampleSet, InputProblem
from vulntune.datasets.render import DEFAULT_MAX_CODE_LINES, render_code_prompt
from vulntune.datasets.secret_guard import SecretGuard
from vulntune.datasets.sentences import pick_sentences, sentences
from vulntune.datasets.taxonomy import ANALYSIS_SEVERITIES, AnalysisSeverity, category_for_cwe
from vulntune.datasets.unified_diff import make_diff
from vulntune.errors import VulntuneError

_EXTENSIONS = {
    "c": ".c", "c++": ".cpp", "cpp": ".cpp", "c#": ".cs", "go": ".go", "java": ".java",
    "javascript": ".js", "kotlin": ".kt", "php": ".php", "python": ".py", "ruby": ".rb",
    "rust": ".rs", "typescript": ".ts", "swift": ".swift", "scala": ".scala",
}  # fmt: skip
_LIKELIHOOD = {"High": "high", "Medium": "medium", "Low": "low"}
_SAFE_NAME = re.compile(r"[^\w.-]+")


class PairsFileError(VulntuneError):
    """A pairs file that cannot be read at all."""


@dataclass(frozen=True, slots=True)
class PairColumns:
    """The column (JSON key or CSV header) of each field of a pair record."""

    code_before: str = "code_before"
    code_after: str = "code_after"
    language: str = "language"
    cwe: str = "cwe"
    cve: str = "cve"
    file: str = "file"
    function: str = "function"
    severity: str = "severity"


@dataclass(frozen=True, slots=True)
class PairRecord:
    """One vulnerable -> fixed pair and where it was read."""

    source: str  # "file:line"
    before: str
    after: str
    language: str | None = None
    cwe: str | None = None
    cve: str | None = None
    file: str | None = None
    function: str | None = None
    severity: str | None = None


def read_pairs(
    path: Path, columns: PairColumns | None = None
) -> tuple[list[PairRecord], list[InputProblem]]:
    """The records of a pairs file and the problems of its malformed lines."""
    columns = columns or PairColumns()
    records: list[PairRecord] = []
    problems: list[InputProblem] = []
    for line, raw in _rows(path):
        if isinstance(raw, str):
            problems.append(InputProblem(str(path), line, raw))
            continue
        before, after = raw.get(columns.code_before), raw.get(columns.code_after)
        if not isinstance(before, str) or not before.strip():
            problems.append(InputProblem(str(path), line, f"no {columns.code_before!r} text"))
            continue
        if not isinstance(after, str):
            problems.append(InputProblem(str(path), line, f"no {columns.code_after!r} text"))
            continue
        if before.strip() == after.strip():
            problems.append(
                InputProblem(str(path), line, "the code before and after the fix is the same")
            )
            continue

        def text(key: str, record: dict[str, Any] = raw) -> str | None:
            value = record.get(key)
            return str(value).strip() or None if isinstance(value, (str, int, float)) else None

        records.append(
            PairRecord(
                source=f"{path.name}:{line}",
                before=before,
                after=after,
                language=text(columns.language),
                cwe=text(columns.cwe),
                cve=text(columns.cve),
                file=text(columns.file),
                function=text(columns.function),
                severity=text(columns.severity),
            )
        )
    return records, problems


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, record or problem) for every record of the file."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise PairsFileError(f"{path}: cannot read the pairs file: {exc.strerror}") from None
    with handle:
        if path.suffix.lower() == ".csv":
            reader = csv.DictReader(handle)
            start = 2
            try:
                for row in reader:
                    yield start, dict(row)
                    start = reader.line_num + 1
            except csv.Error as exc:
                yield reader.line_num, f"not valid CSV: {exc}"
            return
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                yield number, f"invalid JSON: {exc}"
                continue
            yield number, value if isinstance(value, dict) else "not a JSON object"


def pair_examples(
    records: list[PairRecord],
    catalogue: CweCatalogue,
    guard: SecretGuard,
    *,
    max_code_lines: int = DEFAULT_MAX_CODE_LINES,
) -> tuple[ExampleSet, list[InputProblem]]:
    """The examples of ``records`` and the records that give none (as problems)."""
    out = ExampleSet()
    skipped: list[InputProblem] = []
    for record in records:
        file, _, line = record.source.rpartition(":")
        before = record.before.rstrip("\n") + "\n"
        after = record.after.rstrip("\n") + "\n" if record.after.strip() else ""
        lines = before.rstrip("\n").split("\n")
        if len(lines) > max_code_lines:
            problem = f"the code before has {len(lines)} lines, more than {max_code_lines}"
            skipped.append(InputProblem(file, int(line), problem))
            continue
        group = "pair-" + digest(record.before, record.after)
        path = _path(record)
        first = min(first_difference(lines, after.split("\n")), len(lines))
        prompt = render_code_prompt(
            "codefix", lines, language=record.language, path=path, line=first
        )
        sentence = (
            f"Apply the fix of {record.cve}." if record.cve else "Rewrite the code as its fix does."
        )
        completion = CodeFixCompletion(sentence, make_diff(path, before, after)).text()
        cwe = _cwe(record, catalogue)
        meta = ExampleMeta(
            group=group,
            fix_source="pair",
            cwe=f"CWE-{cwe}" if cwe else record.cwe,
            cwe_source="pair" if record.cwe else None,
            language=record.language,
            path=path,
            source=record.source,
        )
        if not (guard.is_clean(prompt) and guard.is_clean(completion)):
            problem = "left out: its code holds a value that looks like a secret"
            skipped.append(InputProblem(file, int(line), problem))
            continue
        example_id = f"pair-cf-{digest(record.before, record.after)}"
        out.examples.append(DatasetExample(example_id, "codefix", prompt, completion, "pair", meta))
        if cwe is not None:
            analysis = _analysis(record, cwe, lines, catalogue, guard, group)
            if analysis is not None:
                out.examples.append(analysis)
    return out, skipped


def _path(record: PairRecord) -> str:
    if record.file and not record.file.startswith("/") and ".." not in record.file.split("/"):
        return record.file.replace("\\", "/")
    name = _SAFE_NAME.sub("_", record.function or "snippet").strip("_") or "snippet"
    return name + _EXTENSIONS.get((record.language or "").lower(), ".txt")


def _cwe(record: PairRecord, catalogue: CweCatalogue) -> int | None:
    cwe = parse_cwe_id(record.cwe)
    if cwe is None:
        return None
    entry = catalogue.get(cwe)
    if entry is None or entry.kind != "weakness" or catalogue.deprecated(cwe):
        return None
    return cwe


def _severity(record: PairRecord, likelihood: str | None) -> AnalysisSeverity | None:
    value = (record.severity or "").lower()
    if value in ANALYSIS_SEVERITIES:
        return value  # type: ignore[return-value]
    try:
        score = float(value)
    except ValueError:
        return _LIKELIHOOD.get(likelihood or "")  # type: ignore[return-value]
    return "critical" if score >= 9 else "high" if score >= 7 else "medium" if score >= 4 else "low"


def _analysis(
    record: PairRecord,
    cwe: int,
    lines: list[str],
    catalogue: CweCatalogue,
    guard: SecretGuard,
    group: str,
) -> DatasetExample | None:
    entry = catalogue.get(cwe)
    assert entry is not None
    severity = _severity(record, entry.likelihood)
    category = category_for_cwe(cwe, catalogue)
    if severity is None or category is None:
        return None
    root = " ".join(pick_sentences([sentences(entry.description)], limit=1, max_chars=320))
    completion = AnalysisCompletion(
        cwe_id=cwe,
        cwe_name=entry.name,
        severity=severity,
        category=category,
        root_cause=root or f"{entry.name}.",
        impact=impact(entry, root),
    ).text()
    prompt = render_code_prompt("analysis", lines, language=record.language, path=_path(record))
    if not (guard.is_clean(prompt) and guard.is_clean(completion)):
        return None
    meta = ExampleMeta(
        group=group,
        cwe=f"CWE-{cwe}",
        cwe_source="pair",
        severity=severity,
        category=category,
        language=record.language,
        path=_path(record),
        source=record.source,
    )
    example_id = f"pair-an-{digest(record.before, record.after)}"
    return DatasetExample(example_id, "analysis", prompt, completion, "pair", meta)
