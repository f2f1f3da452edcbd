"""Fixtures for the findings tests: the SARIF fixture folder and a SARIF generator (the scanner
corpus is tests/conftest.py's ``webauthn_corpus``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

SARIF_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sarif"


@pytest.fixture
def sarif_fixture() -> Callable[[str], Path]:
    """Path of one file in tests/findings/fixtures/sarif."""
    return lambda name: SARIF_FIXTURES / name


@pytest.fixture
def sarif_generator() -> Callable[..., int]:
    """:func:`write_generated_sarif`, for tests that need a large SARIF file."""
    return write_generated_sarif


def write_generated_sarif(path: Path, min_bytes: int, tool_last: bool = True) -> int:
    """Write a synthetic SARIF file of at least ``min_bytes`` with ``tool`` (and the URI
    bases) after ``results`` when ``tool_last``; returns the number of results written.

    Results cycle through 40 rules and 97 files, carry some non-ASCII text, and result
    ``1000k + 1`` repeats the place of result ``1000k`` with another end (a shared id)."""
    rules = [
        {
            "id": f"gen.rule-{n}",
            "name": f"GeneratedRule{n}",
            "shortDescription": {"text": f"Generated rule {n}"},
            "defaultConfiguration": {"level": ("error", "warning", "note")[n % 3]},
            "properties": {"tags": ["security", f"external/cwe/cwe-{n + 20:03d}"]},
        }
        for n in range(40)
    ]
    tool = json.dumps({"driver": {"name": "Semgrep OSS", "semanticVersion": "1.0", "rules": rules}})
    bases = json.dumps({"%SRCROOT%": {"uri": "file:///home/runner/work/app/app/"}})
    count = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('{"version": "2.1.0", "runs": [{')
        if not tool_last:
            out.write(f'"tool": {tool}, "originalUriBaseIds": {bases}, ')
        out.write('"results": [')
        written = 0
        while written < min_bytes:
            # Result 1000k+1 repeats the rule, file and start of result 1000k, not its end.
            base = count - 1 if count % 1000 == 1 else count
            line = 1 + base % 5000
            result = {
                "ruleId": f"gen.rule-{base % 40}",
                "ruleIndex": base % 40,
                "message": {"text": f"Finding {count}: untrusted data reaches a sink — ✓"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {
                                "uri": f"src/module_{base % 97}/file%20{base % 13}.py",
                                "uriBaseId": "%SRCROOT%",
                            },
                            "region": {
                                "startLine": line,
                                "startColumn": 5,
                                "endLine": line + (1 if count == base else 2),
                                "endColumn": 40,
                                "snippet": {"text": f"    value_{count} = eval(request.args['q'])"},
                            },
                        }
                    }
                ],
            }
            text = json.dumps(result, ensure_ascii=False)
            out.write(("," if count else "") + text)
            written += len(text)
            count += 1
        out.write("]")
        if tool_last:
            out.write(f', "tool": {tool}, "originalUriBaseIds": {bases}')
        out.write("}]}")
    return count
