"""CWE ids, advisory ids (CVE, GHSA, ...) and the small text helpers parsers read them with.

Part of the parser helper interface re-exported by :mod:`vulntune.findings.common`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

# "CWE-79", "cwe_79", "CWE 79", "external/cwe/cwe-079" (CodeQL), "CWE:79".
_CWE_RE = re.compile(r"(?<![A-Za-z0-9])cwe[-_:/ ]?0*(\d{1,5})(?!\d)", re.IGNORECASE)


def cwe_id(value: Any) -> str | None:
    """One CWE reference (``79``, ``"79"``, ``"CWE-079"``, ``"external/cwe/cwe-79"``) in the
    canonical form ``"CWE-79"``; None when the value is not a CWE reference."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return f"CWE-{value}" if value > 0 else None
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return f"CWE-{int(text)}" if int(text) > 0 else None
        match = _CWE_RE.search(text)
        if match:
            return f"CWE-{int(match.group(1))}"
    return None


def extract_cwe_ids(*values: Any) -> list[str]:
    """All CWE ids mentioned in strings, lists/tuples of strings (nested), or dicts (their
    values), canonical (``"CWE-79"``), de-duplicated in order of first mention.

    Bare numbers are only taken as CWE ids when passed directly (not inside free text).
    """
    found: dict[str, None] = {}
    for value in values:
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            single = (
                cwe_id(value) if not isinstance(value, str) or value.strip().isdigit() else None
            )
            if single:
                found.setdefault(single)
                continue
        for text in iter_strings(value):
            for match in _CWE_RE.finditer(text):
                found.setdefault(f"CWE-{int(match.group(1))}")
    return list(found)


_CVE = r"(?i:CVE-\d{4}-\d{4,})"
# GitHub advisories: "GHSA-" then three groups of 4 of [2-9cfghjmpqrvwx], canonical lowercase.
_GHSA = r"(?i:GHSA(?:-[23456789cfghjmpqrvwx]{4}){3})"
_OTHER = (
    r"(?:PYSEC|GO|RUSTSEC|OSV|GSD|MAL|SNYK|RHSA|RLSA|ALSA|DSA|DLA|USN|ALAS\d*|BIT)"
    r"-[0-9A-Za-z][0-9A-Za-z:._-]*\d"
)
_VULN_ID_RE = re.compile(rf"\b(?:(?P<cve>{_CVE})|(?P<ghsa>{_GHSA})|(?P<other>{_OTHER}))\b")


def _canonical_vulnerability_id(match: re.Match[str]) -> str:
    if match.group("cve"):
        return match.group("cve").upper()
    if match.group("ghsa"):
        return "GHSA" + match.group("ghsa")[4:].lower()
    return match.group("other")


def extract_vulnerability_ids(*values: Any) -> list[str]:
    """CVE, GHSA and other advisory ids (PYSEC, GO, RUSTSEC, OSV, SNYK, RHSA, DSA, USN, ...)
    found in strings or nested lists/dicts of strings: canonical case, de-duplicated, in
    order of appearance."""
    found: dict[str, None] = {}
    for value in values:
        # Plain strings, the common case, skip the generator of iter_strings.
        for text in (value,) if type(value) is str else iter_strings(value):
            if "-" in text:
                for match in _VULN_ID_RE.finditer(text):
                    found.setdefault(_canonical_vulnerability_id(match))
    return list(found)


def is_vulnerability_id(value: Any) -> bool:
    """True when the whole string is one advisory id (e.g. a Trivy rule id ``CVE-2023-1234``)."""
    return isinstance(value, str) and _VULN_ID_RE.fullmatch(value.strip()) is not None


def iter_strings(value: Any) -> Iterator[str]:
    """Every string inside ``value``: itself, or the items of lists/tuples/sets and the values
    of dicts, recursively."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from iter_strings(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from iter_strings(item)


def string_list(value: Any) -> list[str]:
    """A tags-like field as a list of non-empty strings: a list keeps its string items, a
    single string becomes a one-item list, anything else an empty list."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, (list, tuple)):
        return [item for item in value if isinstance(item, str) and item.strip()]
    return []


def split_versions(value: Any) -> list[str]:
    """A "fixed version" field (``"1.2.3, 1.3.0"``, ``["1.2.3"]``, ``""``) as a list of
    versions, in order, without empties or duplicates."""
    found: dict[str, None] = {}
    for text in iter_strings(value):
        for part in re.split(r"[,;|]|\s+\|\|\s+", text):
            part = part.strip()
            if part:
                found.setdefault(part)
    return list(found)
