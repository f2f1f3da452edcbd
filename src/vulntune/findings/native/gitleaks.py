"""gitleaks' native JSON output (``gitleaks detect|git|dir --report-format json``).

gitleaks 8 writes a list of leaks: ``RuleID``, ``Description``, ``File``, ``StartLine``,
``EndLine``, ``StartColumn``, ``EndColumn``, ``Match`` (the matched text, secret included),
``Secret``, ``Commit``, ``Entropy``, ``Tags``, ``Fingerprint`` and commit metadata (author,
email, date, message). gitleaks 7 wrote a list of ``{"rule", "file", "lineNumber", "line",
"offender", "commit", ...}``. A clean scan is ``[]``.

The secret text goes into the record only as the snippet (``Match``, with ``Secret`` added
when the match does not contain it), so the redaction step finds it in one place. Commit
author, email and message are personal data and are not kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from vulntune.findings.common import disambiguate_ids, normalize_path, string_list
from vulntune.findings.formats import SimpleFormat
from vulntune.findings.native._fields import (
    positive,
    raw_text,
    require_object,
    require_text,
    text,
    unique,
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

NAME: FormatName = "gitleaks-json"

# gitleaks rates nothing: medium, the level SARIF gives a result without one, which is also
# how gitleaks' own SARIF reads, so both reports of one scan agree.
_SEVERITY = Severity.MEDIUM


def matches(doc: Any) -> bool:
    """A list of gitleaks 8 leaks (``RuleID`` with ``Secret``/``Match``) or gitleaks 7 leaks
    (``rule`` with ``offender``). An empty list is claimed too: it is gitleaks' clean scan,
    and an empty list has no findings whichever tool wrote it."""
    if not isinstance(doc, list):
        return False
    return all(_is_v8(entry) or _is_v7(entry) for entry in doc)


def _is_v8(entry: Any) -> bool:
    return (
        isinstance(entry, Mapping) and "RuleID" in entry and ("Secret" in entry or "Match" in entry)
    )


def _is_v7(entry: Any) -> bool:
    return isinstance(entry, Mapping) and "rule" in entry and "offender" in entry


def parse(doc: Any, file: str) -> Iterator[Finding]:
    """Yield one finding per leak."""
    findings = []
    for index, raw in enumerate(doc):
        leak = require_object(raw, file, f"[{index}]")
        if _is_v8(leak):
            findings.append(_v8(leak, index, file))
        else:
            findings.append(_v7(leak, index, file))
    yield from disambiguate_ids(findings)


def _v8(leak: Mapping[str, Any], index: int, file: str) -> Finding:
    rule_id = require_text(leak.get("RuleID"), file, f"[{index}].RuleID")
    location = Location(
        path=normalize_path(leak.get("File")),
        start_line=positive(leak.get("StartLine")),
        start_column=positive(leak.get("StartColumn")),
        end_line=positive(leak.get("EndLine")),
        end_column=positive(leak.get("EndColumn")),
    )
    description = text(leak.get("Description"))
    tags = string_list(leak.get("Tags"))
    commit = text(leak.get("Commit"))
    if commit:
        tags.append(f"commit:{commit}")
    found = _Leak(
        rule_id=rule_id,
        description=description,
        location=location,
        snippet=_snippet(leak.get("Match"), leak.get("Secret")),
        tags=tags,
        help_uri=text(leak.get("Link")),
    )
    return _finding(found, file, index)


def _v7(leak: Mapping[str, Any], index: int, file: str) -> Finding:
    rule = require_text(leak.get("rule"), file, f"[{index}].rule")
    tags = [t.strip() for t in (text(leak.get("tags")) or "").split(",") if t.strip()]
    commit = text(leak.get("commit"))
    if commit:
        tags.append(f"commit:{commit}")
    found = _Leak(
        rule_id=rule,
        description=None,
        location=Location(
            path=normalize_path(leak.get("file")), start_line=positive(leak.get("lineNumber"))
        ),
        snippet=_snippet(leak.get("line"), leak.get("offender")),
        tags=tags,
        help_uri=text(leak.get("leakURL")),
    )
    return _finding(found, file, index)


def _snippet(match: Any, secret: Any) -> str | None:
    match_text, secret_text = raw_text(match), raw_text(secret)
    if match_text and secret_text and secret_text not in match_text:
        return f"{match_text}\n{secret_text}"
    return match_text or secret_text


@dataclass(frozen=True, slots=True)
class _Leak:
    """One leak as either report version describes it."""

    rule_id: str
    description: str | None
    location: Location
    snippet: str | None  # the match, and the secret when the match does not contain it
    tags: list[str]
    help_uri: str | None


def _finding(leak: _Leak, file: str, index: int) -> Finding:
    rule_id, location = leak.rule_id, leak.location
    where = f" in {location.path}" if location.path else ""
    # The message names the rule and the file only: the secret itself stays in the snippet.
    return Finding(
        id=fingerprint("gitleaks", rule_id, location),
        tool="gitleaks",
        rule_id=rule_id,
        severity=_SEVERITY,
        message=f"Secret committed{where}, found by gitleaks rule {rule_id}",
        kind=FindingKind.SECRET,
        origin=Origin(file=file, format=NAME, index=index),
        tool_full_name="gitleaks",
        rule_description=leak.description,
        help_uri=leak.help_uri,
        tags=unique(leak.tags),
        location=location,
        snippet=leak.snippet,
    )


FORMAT = SimpleFormat(NAME, matches, parse)
