"""npm audit: v1 advisories, v2 vulnerabilities, and the error report."""

from __future__ import annotations

import pytest

from vulntune.findings.formats import FindingsInputError
from vulntune.findings.native.npm_audit import FORMAT
from vulntune.findings.record import FindingKind, Package, Severity, fingerprint


def parse(doc, file="npm-audit.json"):
    assert FORMAT.matches(doc)
    return list(FORMAT.parse(doc, file))


def test_v1_one_finding_per_advisory_and_installed_version(load):
    old, new, lodash, marked = parse(load("npm-v1.json"))
    assert (old.rule_id, new.rule_id) == ("GHSA-vh95-rmgr-6w4m", "GHSA-vh95-rmgr-6w4m")
    assert (old.package.installed_version, new.package.installed_version) == ("0.0.8", "1.2.0")
    assert old.package.fixed_versions == ["0.2.1", "1.2.3"]  # from ">=0.2.1 <1.0.0 || >=1.2.3"
    assert old.vulnerability_ids == ["GHSA-vh95-rmgr-6w4m", "CVE-2020-7598"]
    assert old.cwe_ids == ["CWE-471"]
    assert old.severity is Severity.LOW
    assert old.kind is FindingKind.DEPENDENCY
    assert old.fix.description == "npm install mkdirp@1.0.4 (a semver-major upgrade)"
    assert old.rule_help == (
        "Upgrade to versions 0.2.1, 1.2.3 or later.\nPatched versions: >=0.2.1 <1.0.0 || >=1.2.3"
    )
    assert old.id == fingerprint(
        "npm-audit",
        "GHSA-vh95-rmgr-6w4m",
        package=Package(name="minimist", ecosystem="npm", installed_version="0.0.8"),
    )
    assert old.id != new.id

    assert lodash.rule_id == "GHSA-p6mc-m468-83gw"  # taken from the advisory URL
    assert lodash.cwe_ids == ["CWE-400", "CWE-1321"]  # cwe as a list
    assert lodash.fix.description == "npm update lodash --depth 1"
    assert lodash.package.fixed_versions == ["4.17.19"]

    assert marked.rule_id == "npm-advisory-812"  # no GitHub advisory id
    assert marked.severity is Severity.MEDIUM
    assert marked.original_severity == "moderate"
    assert marked.package.fixed_versions == []  # "<0.0.0": nothing patched
    assert marked.fix is None  # a "review" action has no command


def test_v2_advisory_objects_only_and_fix_available(load):
    critical, moderate, semver = parse(load("npm-v2.json"))
    # mkdirp is vulnerable only through minimist ("via": ["minimist"]): not a finding of its own.
    assert [f.package.name for f in (critical, moderate, semver)] == [
        "minimist",
        "minimist",
        "semver",
    ]
    assert critical.rule_id == "GHSA-xvch-5gv4-984h"
    assert critical.severity is Severity.CRITICAL
    assert critical.cwe_ids == ["CWE-1321"]
    assert critical.package.installed_version is None  # v2 does not report it
    assert critical.package.fixed_versions == ["0.2.4"]  # from the advisory range "<0.2.4"
    assert critical.fix.description == (
        "npm audit fix --force: upgrade mkdirp to 1.0.4 (a semver-major upgrade)"
    )
    assert critical.tags == ["effects:mkdirp"]
    assert (
        critical.message
        == "GHSA-xvch-5gv4-984h in minimist (<0.2.4): Prototype Pollution in minimist"
    )
    assert moderate.severity is Severity.MEDIUM
    assert semver.package.fixed_versions == ["7.5.2"]
    assert semver.fix.description == "npm audit fix"
    assert semver.tags == ["direct"]


def test_v2_clean_report(load):
    assert parse(load("npm-v2-clean.json")) == []


def test_error_report_is_an_error_naming_file_and_code(load):
    with pytest.raises(FindingsInputError) as info:
        parse(load("npm-error.json"), "ci/npm-audit.json")
    assert str(info.value) == (
        "ci/npm-audit.json: npm audit failed and reported no results (ENOLOCK):"
        " This command requires an existing lockfile."
    )


def test_error_detection_needs_the_npm_error_shape():
    assert not FORMAT.matches({"error": "boom"})
    assert not FORMAT.matches({"error": {"code": "E1"}, "results": []})


def test_unknown_report_version_is_an_error():
    with pytest.raises(FindingsInputError, match="version 3 is not supported"):
        parse({"auditReportVersion": 3, "vulnerabilities": {}})
