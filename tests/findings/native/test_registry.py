"""The FORMATS list: detection by content, and what every native parser guarantees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vulntune.findings.common import canonical_tool
from vulntune.findings.formats import FindingsInputError
from vulntune.findings.native.registry import FORMATS
from vulntune.findings.record import Finding, FormatName

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "native"

EXPECTED = {
    "bandit": "bandit-json",
    "checkov": "checkov-json",
    "gitleaks": "gitleaks-json",
    "npm": "npm-audit-json",
    "osv": "osv-scanner-json",
    "pip-audit": "pip-audit-json",
    "semgrep": "semgrep-json",
    "trivy": "trivy-json",
    "zap": "zap-json",
}
ERROR_REPORTS = {"npm-error.json", "semgrep-fatal.json"}


def test_the_format_names_are_the_closed_set_a_finding_records():
    names = [f.name for f in FORMATS]
    assert sorted(names) == sorted(EXPECTED.values())
    assert {*names, "sarif"} == set(get_args(FormatName)) and len(names) == len(set(names))


FIXTURE_FILES = sorted(p.name for p in FIXTURES.glob("*.json"))


def _expected_format(name: str) -> str:
    stem = name.removesuffix(".json")
    return next(
        fmt for tool, fmt in EXPECTED.items() if stem == tool or stem.startswith(tool + "-")
    )


def test_format_names_are_unique_and_every_tool_is_listed():
    names = [f.name for f in FORMATS]
    assert names == [
        "trivy-json",
        "semgrep-json",
        "bandit-json",
        "osv-scanner-json",
        "checkov-json",
        "zap-json",
        "npm-audit-json",
        "pip-audit-json",
        "gitleaks-json",
    ]


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_each_fixture_is_claimed_by_exactly_its_own_format(name, load):
    claimed = [f.name for f in FORMATS if f.matches(load(name))]
    assert claimed == [_expected_format(name)]


@pytest.mark.parametrize("name", [n for n in FIXTURE_FILES if n not in ERROR_REPORTS])
def test_every_parser_keeps_the_record_contract(name, load):
    fmt = next(f for f in FORMATS if f.name == _expected_format(name))
    findings = list(fmt.parse(load(name), f"in/{name}"))
    assert len({f.id for f in findings}) == len(findings)
    assert [f.origin.index for f in findings] == list(range(len(findings)))
    for finding in findings:
        assert finding.origin.file == f"in/{name}"
        assert finding.origin.format == fmt.name
        assert canonical_tool(finding.tool) == finding.tool
        assert finding.message.strip()
        assert Finding.from_dict(json.loads(json.dumps(finding.to_dict()))) == finding
        if finding.location is not None and finding.location.path is not None:
            assert "\\" not in finding.location.path
            assert not finding.location.path.startswith("/home/runner/")


def test_no_native_format_claims_sarif_or_other_corpus_files(webauthn_corpus):
    for path in sorted(webauthn_corpus.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix in (".html", ".md"):
            doc: object = text
        else:
            doc = json.loads(text)
        claimed = [f.name for f in FORMATS if f.matches(doc)]
        if path.suffix == ".sarif" or path.suffix in (".html", ".md"):
            assert claimed == [], path
        else:
            assert len(claimed) == 1, path


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"results": []},
        {"error": "x"},
        {"site": []},
        {"vulnerabilities": []},
        [{"name": "x"}],
        [1, 2],
        "text",
        42,
        None,
    ],
)
def test_ambiguous_or_foreign_documents_are_not_claimed(doc):
    assert [f.name for f in FORMATS if f.matches(doc)] == []


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value, prefix=()):
    """Every (path, value) inside a JSON value, depth first."""
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*prefix, i))


def _replace(value, path, new):
    if not path:
        return new
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[path[0]] = _replace(value[path[0]], path[1:], new)
    return copy


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_reports_fail_only_with_a_clear_input_error(data):
    """Any value in any fixture replaced by any JSON value: a parser may reject the document
    with FindingsInputError, but never crash with another exception."""
    name = data.draw(st.sampled_from(FIXTURE_FILES))
    doc = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    paths = [p for p, _ in _paths(doc)]
    path = data.draw(st.sampled_from(paths))
    damaged = _replace(doc, path, data.draw(_json))
    for fmt in FORMATS:
        if fmt.matches(damaged):
            try:
                list(fmt.parse(damaged, "damaged.json"))
            except FindingsInputError as error:
                assert str(error).startswith("damaged.json: ")
            break


def test_fixture_dir_is_where_the_tests_expect_it():
    assert Path(FIXTURES).is_dir() and len(FIXTURE_FILES) >= 25
