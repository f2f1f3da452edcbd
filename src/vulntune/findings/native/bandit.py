"""Bandit's native JSON output (``bandit -r . -f json``).

Shape: ``{"errors": [...], "generated_at", "metrics": {...}, "results": [{"filename",
"test_id", "test_name", "issue_severity", "issue_confidence", "issue_cwe": {"id", "link"},
"issue_text", "line_number", "line_range", "col_offset", "end_col_offset", "code",
"more_info"}]}``. ``col_offset`` is 0-based (Python's AST), so the start column is
``col_offset + 1``, as in Bandit's SARIF. ``code`` holds numbered source lines
(``"12 import pickle\\n13 ..."``) around the issue; the snippet is the lines of
``line_range``. ``errors`` lists files Bandit could not parse; the other files' results are
still valid, so they do not fail the report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from vulntune.findings.common import (
    disambiguate_ids,
    extract_cwe_ids,
    normalize_path,
    normalize_severity,
)
from vulntune.findings.formats import SimpleFormat
from vulntune.findings.native._fields import (
    integer,
    items,
    mapping,
    positive,
    require_list,
    require_object,
    require_text,
    text,
)
from vulntune.findings.record import (
    Finding,
    FindingKind,
    FormatName,
    Location,
    Origin,
    Severity,
    fingerprint,
)

NAME: FormatName = "bandit-json"

_CODE_LINE_RE = re.compile(r"^(\d+)[ \t]?(.*)$")


def matches(doc: Any) -> bool:
    """A Bandit report: ``results`` entries with ``test_id``; an empty report is recognised
    by ``generated_at`` and ``metrics``, which Bandit always writes."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("results"), list):
        return False
    results = doc["results"]
    if results:
        return any(isinstance(r, Mapping) and "test_id" in r for r in results)
    return "generated_at" in doc and isinstance(doc.get("metrics"), Mapping)


def parse(doc: Any, file: str) -> Iterator[Finding]:
    """Yield one finding per Bandit result."""
    results = require_list(doc.get("results"), file, "results")
    findings = [_finding(result, index, file) for index, result in enumerate(results)]
    yield from disambiguate_ids(findings)


def _finding(raw: Any, index: int, file: str) -> Finding:
    result = require_object(raw, file, f"results[{index}]")
    test_id = require_text(result.get("test_id"), file, f"results[{index}].test_id")
    line = positive(result.get("line_number"))
    line_range = [n for n in (integer(x) for x in items(result.get("line_range"))) if n]
    col = integer(result.get("col_offset"))
    end_col = integer(result.get("end_col_offset"))
    location = Location(
        path=normalize_path(result.get("filename")),
        start_line=line,
        start_column=col + 1 if col is not None and col >= 0 else None,
        end_line=max(line_range) if line_range else line,
        end_column=end_col + 1 if end_col is not None and end_col >= 0 else None,
    )
    original = text(result.get("issue_severity"))
    # UNDEFINED is Bandit's "no severity set"; read it like a missing level in SARIF.
    severity = normalize_severity(original, default=Severity.MEDIUM) or Severity.MEDIUM
    cwe = mapping(result.get("issue_cwe"))
    confidence = text(result.get("issue_confidence"))
    test_name = text(result.get("test_name"))
    return Finding(
        id=fingerprint("bandit", test_id, location),
        tool="bandit",
        rule_id=test_id,
        severity=severity,
        message=text(result.get("issue_text")) or test_name or test_id,
        kind=FindingKind.CODE,
        origin=Origin(file=file, format=NAME, index=index),
        tool_full_name="Bandit",
        rule_name=test_name,
        original_severity=original,
        help_uri=text(result.get("more_info")),
        cwe_ids=extract_cwe_ids(cwe.get("id")) if integer(cwe.get("id")) else [],
        tags=[f"confidence:{confidence}"] if confidence else [],
        location=location,
        snippet=_snippet(result.get("code"), line_range or ([line] if line else [])),
    )


def _snippet(code: Any, lines: list[int]) -> str | None:
    """The lines of ``lines`` from Bandit's numbered ``code``; the whole text when it is not
    numbered the way Bandit numbers it."""
    if not isinstance(code, str) or not code.strip():
        return None
    numbered: dict[int, str] = {}
    for raw in code.splitlines():
        match = _CODE_LINE_RE.match(raw)
        if match is None:
            return code
        numbered[int(match.group(1))] = match.group(2)
    wanted = [numbered[n] for n in sorted(set(lines)) if n in numbered]
    return "\n".join(wanted) if wanted else code


FORMAT = SimpleFormat(NAME, matches, parse)
