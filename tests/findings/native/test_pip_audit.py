"""pip-audit native JSON: the current report and the pre-2.0 bare list."""

from __future__ import annotations

import pytest

from vulntune.findings.formats import FindingsInputError
from vulntune.findings.native.pip_audit import FORMAT
from vulntune.findings.record import FindingKind, Package, Severity, fingerprint


def parse(doc, file="pip-audit.json"):
    assert FORMAT.matches(doc)
    return list(FORMAT.parse(doc, file))


def test_dependencies_with_vulns(load):
    redos, xmlattr, requests = parse(load("pip-audit.json"))
    assert redos.rule_id == "PYSEC-2021-66"
    assert redos.kind is FindingKind.DEPENDENCY
    assert redos.package == Package(
        name="jinja2", ecosystem="PyPI", installed_version="2.11.2", fixed_versions=["2.11.3"]
    )
    assert redos.vulnerability_ids == ["PYSEC-2021-66", "CVE-2020-28493", "GHSA-g3rq-g295-4j3m"]
    assert redos.severity is Severity.MEDIUM  # pip-audit has no severity
    assert redos.original_severity is None
    assert redos.message.startswith("PYSEC-2021-66 in jinja2 2.11.2: This affects the package")
    assert redos.id == fingerprint(
        "pip-audit",
        "PYSEC-2021-66",
        package=Package(name="jinja2", ecosystem="PyPI", installed_version="2.11.2"),
    )
    assert xmlattr.package.fixed_versions == ["3.1.3"]
    assert requests.package.fixed_versions == []
    assert requests.message == "GHSA-9wx4-h78v-vm56 in requests 2.31.0"  # empty description


def test_legacy_bare_list(load):
    findings = parse(load("pip-audit-legacy.json"))
    assert [(f.rule_id, f.package.fixed_versions) for f in findings] == [
        ("PYSEC-2019-179", ["1.0"]),
        ("PYSEC-2018-66", ["0.12.3"]),
    ]


def test_clean_report_is_claimed():
    assert parse({"dependencies": [], "fixes": []}) == []


def test_vuln_without_id_is_an_error():
    doc = {"dependencies": [{"name": "x", "version": "1", "vulns": [{"fix_versions": []}]}]}
    with pytest.raises(FindingsInputError, match=r"dependencies\[0\]\.vulns\[0\]\.id"):
        parse(doc)
