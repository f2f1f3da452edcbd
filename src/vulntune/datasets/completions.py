"""The two completion layouts of ``builtin/README.md`` as typed records: write and read.

Writing is strict: :meth:`AnalysisCompletion.text` and :meth:`CodeFixCompletion.text`
give exactly the README's layout, and the records refuse values that would break it.
Reading is lenient, because it reads what a small model wrote: :func:`parse_analysis` and
:func:`parse_codefix` never raise, take what they can recognise and say what is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from vulntune.datasets.cwe_catalogue import parse_cwe_id
from vulntune.datasets.taxonomy import (
    ANALYSIS_CATEGORIES,
    ANALYSIS_SEVERITIES,
    AnalysisSeverity,
    Category,
)
from vulntune.errors import VulntuneError


class CompletionError(VulntuneError):
    """A completion record with a value that the layout cannot hold."""


def _one_line(field: str, value: str) -> None:
    if not value or value != value.strip() or "\n" in value or "\r" in value:
        raise CompletionError(
            f"{field} must be one non-empty line without surrounding whitespace, not {value!r}"
        )


# --------------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------------

ANALYSIS_KEYS = ("Classification", "Severity", "Category", "Root cause", "Impact")


@dataclass(frozen=True, slots=True)
class AnalysisCompletion:
    """A Stage-1 target: the CWE (id and MITRE name), severity, category, root cause and
    impact. Raises CompletionError for a value outside the closed sets or on several lines."""

    cwe_id: int
    cwe_name: str
    severity: AnalysisSeverity
    category: Category
    root_cause: str
    impact: str

    def __post_init__(self) -> None:
        if self.cwe_id < 1:
            raise CompletionError(f"cwe_id must be a positive CWE number, not {self.cwe_id}")
        if self.severity not in ANALYSIS_SEVERITIES:
            raise CompletionError(f"severity {self.severity!r} is not one of {ANALYSIS_SEVERITIES}")
        if self.category not in ANALYSIS_CATEGORIES:
            raise CompletionError(f"category {self.category!r} is not one of {ANALYSIS_CATEGORIES}")
        for field in ("cwe_name", "root_cause", "impact"):
            _one_line(field, getattr(self, field))

    def text(self) -> str:
        """The five lines of the layout, without a final newline."""
        return "\n".join(
            (
                f"Classification: CWE-{self.cwe_id} {self.cwe_name}",
                f"Severity: {self.severity}",
                f"Category: {self.category}",
                f"Root cause: {self.root_cause}",
                f"Impact: {self.impact}",
            )
        )


@dataclass(frozen=True, slots=True)
class ParsedAnalysis:
    """What :func:`parse_analysis` recognised; a field is None when it was missing or not
    well-formed. ``complete``: all five lines were there and well-formed."""

    cwe_id: int | None = None
    cwe_name: str | None = None
    severity: AnalysisSeverity | None = None
    category: Category | None = None
    root_cause: str | None = None
    impact: str | None = None

    @property
    def complete(self) -> bool:
        """All five lines were there and well-formed."""
        return None not in (
            self.cwe_id,
            self.cwe_name,
            self.severity,
            self.category,
            self.root_cause,
            self.impact,
        )


# A key at the start of a line, after optional list markers or emphasis ("- **Severity:**").
_KEY_LINE = re.compile(
    r"^[\s>*_#-]*(classification|severity|category|root[ _-]?cause|impact)[\s*_]*:"
    r"(?:\s*(?:\*{1,2}|_{1,2})(?=\s))?(.*)$",
    re.I,
)
_CLASSIFICATION = re.compile(r"(cwe[\s_:-]*\d+)\s*(?:[:\-–—]\s*)?(.*)", re.I)


def parse_analysis(text: str) -> ParsedAnalysis:
    """Read an analysis completion as a model wrote it. Keys are recognised in any order,
    in any case, after list markers or markdown emphasis; the first occurrence of a key
    wins; values are stripped of surrounding whitespace and emphasis; lines without a known
    key (chatter) are ignored. Severity and category must be one of the closed set (case
    and spaces forgiven: "High", "path traversal"); the classification needs ``CWE-<n>``
    and a name. Never raises."""
    values: dict[str, str] = {}
    for line in str(text).splitlines():
        match = _KEY_LINE.match(line)
        if match is None:
            continue
        key = match.group(1).lower().replace("_", " ").replace("-", " ")
        key = "root cause" if key.startswith("root") else key
        value = _unwrap(match.group(2))
        if value and key not in values:
            values[key] = value
    cwe_id, cwe_name = _classification(values.get("classification"))
    return ParsedAnalysis(
        cwe_id=cwe_id,
        cwe_name=cwe_name,
        severity=cast(
            AnalysisSeverity | None, _closed(values.get("severity"), ANALYSIS_SEVERITIES)
        ),
        category=cast(Category | None, _closed(values.get("category"), ANALYSIS_CATEGORIES)),
        root_cause=values.get("root cause"),
        impact=values.get("impact"),
    )


def _unwrap(value: str) -> str:
    """``value`` stripped, without markdown emphasis or code marks wrapped around all of it."""
    value = value.strip()
    for mark in ("**", "__", "*", "`"):
        if len(value) > 2 * len(mark) and value.startswith(mark) and value.endswith(mark):
            return value[len(mark) : -len(mark)].strip()
    return value


def _classification(value: str | None) -> tuple[int | None, str | None]:
    match = _CLASSIFICATION.match(value or "")
    if match is None:
        return None, None
    name = match.group(2).strip()
    return parse_cwe_id(match.group(1)), name or None


def _closed(value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    word = "-".join(value.strip(" .").lower().replace("_", " ").split())
    return word if word in allowed else None


# --------------------------------------------------------------------------------------------
# Code fix
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeFixCompletion:
    """A Stage-2 target: one sentence and one unified diff (as :func:`make_diff` writes
    it). Raises CompletionError for a sentence on several lines or an empty diff."""

    sentence: str
    diff: str

    def __post_init__(self) -> None:
        _one_line("sentence", self.sentence)
        if not self.diff.strip():
            raise CompletionError("diff must not be empty")
        if any(line.startswith("```") for line in self.diff.split("\n")):
            raise CompletionError("diff must not contain a ``` fence line")

    def text(self) -> str:
        """``Fix: <sentence>`` and the diff in one ```diff block, without a final newline."""
        return f"Fix: {self.sentence}\n```diff\n{self.diff.removesuffix(chr(10))}\n```"


@dataclass(frozen=True, slots=True)
class ParsedCodeFix:
    """What :func:`parse_codefix` recognised: the fix sentence and the diff text (ending
    with a newline), each None when missing."""

    sentence: str | None = None
    diff: str | None = None

    @property
    def complete(self) -> bool:
        """Both the sentence and the diff were found."""
        return self.sentence is not None and self.diff is not None


_FIX_LINE = re.compile(r"^[\s>*_#-]*fix[\s*_]*:(?:\s*(?:\*{1,2}|_{1,2})(?=\s))?(.*)$", re.I)
_FENCE = re.compile(r"^( {0,3})(```+|~~~+)[ \t]*([\w+-]*)\s*$")
_DIFF_START = re.compile(r"^(--- |diff --git |@@ )")


def parse_codefix(text: str) -> ParsedCodeFix:
    """Read a code-fix completion as a model wrote it: the first ``Fix:`` line (markdown
    markers forgiven) and the first fenced block (``diff``, ``patch``, ``udiff`` or no
    language; a missing closing fence means "to the end"). Without any fence, the diff runs
    from the first ``--- ``, ``diff --git`` or ``@@`` line to the end. Never raises."""
    # Split on "\n" only: a "\r" inside the diff belongs to the patched file's lines.
    lines = str(text).split("\n")
    sentence = None
    for line in lines:
        match = _FIX_LINE.match(line)
        if match and match.group(1).strip():
            sentence = _unwrap(match.group(1)) or None
            break
    return ParsedCodeFix(sentence=sentence, diff=_diff_block(lines))


def codefix_answer_closed(text: str) -> bool:
    """True once the first diff block :func:`parse_codefix` reads has its closing fence on a
    finished line: nothing written after it changes the diff parsed, so generation may stop
    there. (Only a ``Fix:`` line written after the block would be lost; the layout puts it
    before.) An empty block, the loop small models fall into (```` ```\n```\n ````),
    counts as closed."""
    lines = text.split("\n")[:-1]  # the last piece is not a finished line yet
    fence = _diff_fence(lines)
    if fence is None:
        return False
    index, closing = fence
    return any(closing.match(line) for line in lines[index + 1 :])


def _diff_fence(lines: list[str]) -> tuple[int, re.Pattern[str]] | None:
    """The first fence line opening a diff block (``diff``, ``patch``, ``udiff`` or no
    language), with the pattern of the line that closes it; None when there is none."""
    for index, line in enumerate(lines):
        fence = _FENCE.match(line)
        if fence and fence.group(3).lower() in ("", "diff", "patch", "udiff"):
            # The closing fence is indented no deeper than the opening one, so a diff's
            # context line " ```" (a fence inside a patched Markdown file) does not close it.
            closing = re.compile(rf"^ {{0,{len(fence.group(1))}}}{fence.group(2)[0]}{{3,}}\s*$")
            return index, closing
    return None


def _diff_block(lines: list[str]) -> str | None:
    body: list[str] | None = None
    fence = _diff_fence(lines)
    if fence is not None:
        index, closing = fence
        body = []
        for inner in lines[index + 1 :]:
            if closing.match(inner):
                break
            body.append(inner)
    if body is None:
        start = next((i for i, line in enumerate(lines) if _DIFF_START.match(line)), None)
        body = lines[start:] if start is not None else []
    while body and body[-1] in ("", "\r"):  # " " is an empty context line: kept
        body.pop()
    return "".join(line + "\n" for line in body) if body else None
