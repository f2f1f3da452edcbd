"""OSV-Scanner native JSON: one finding per vulnerability group, fixed versions, severity."""

from __future__ import annotations

import json
from collections import Counter

from vulntune.findings.native.osv import FORMAT, fixed_versions
from vulntune.findings.record import FindingKind, Location, Package, Severity, fingerprint


def parse(doc, file="osv.json"):
    assert FORMAT.matches(doc)
    return list(FORMAT.parse(doc, file))


def test_one_finding_per_group_with_aliases_merged(load):
    findings = parse(load("osv-groups.json"))
    assert [f.rule_id for f in findings] == [
        "GHSA-g3rq-g295-4j3m",
        "GHSA-h5c8-rqwp-cp95",
        "GHSA-fghv-69vj-qj49",
        "GHSA-2222-3333-4444",
    ]
    redos = findings[0]
    assert redos.vulnerability_ids == ["GHSA-g3rq-g295-4j3m", "PYSEC-2021-66", "CVE-2020-28493"]
    assert redos.kind is FindingKind.DEPENDENCY
    assert redos.location == Location(path="backend/requirements.txt")  # CI prefix stripped
    assert redos.package == Package(
        name="Jinja2", ecosystem="PyPI", installed_version="2.11.2", fixed_versions=["2.11.3"]
    )
    assert redos.cwe_ids == ["CWE-400"]
    assert redos.tags == ["source:lockfile", "dependency-group:prod"]
    assert redos.message == (
        "GHSA-g3rq-g295-4j3m in Jinja2 2.11.2: Jinja2 ReDoS vulnerability in urlize filter"
    )
    assert redos.id == fingerprint(
        "osv-scanner",
        "GHSA-g3rq-g295-4j3m",
        Location(path="backend/requirements.txt"),
        Package(name="Jinja2", ecosystem="PyPI", installed_version="2.11.2"),
    )


def test_severity_is_the_group_score_not_the_cvss_vector(load):
    redos, xmlattr, smuggling, several = parse(load("osv-groups.json"))
    assert (redos.severity, redos.original_severity) == (Severity.MEDIUM, "5.3")
    assert (several.severity, several.original_severity) == (Severity.CRITICAL, "9.1")
    # No group score: the advisory's own word.
    assert (xmlattr.severity, xmlattr.original_severity) == (Severity.MEDIUM, "MODERATE")
    assert (smuggling.severity, smuggling.original_severity) == (Severity.LOW, "LOW")


def test_fixed_version_comes_from_the_range_holding_the_installed_version(load):
    _, xmlattr, smuggling, several = parse(load("osv-groups.json"))
    assert xmlattr.package.fixed_versions == ["3.1.3"]
    # Two affected entries; the one whose versions list 4.1.101.Final is used.
    assert smuggling.package.fixed_versions == ["4.1.125.Final"]
    # One range with two introduced..fixed spans: the 4.1 line's fix.
    assert several.package.fixed_versions == ["4.1.108.Final"]


def test_fixed_versions_skip_commit_ranges_and_keep_all_when_undecidable():
    vuln = {
        "affected": [
            {
                "package": {"name": "x"},
                "ranges": [
                    {"type": "GIT", "events": [{"introduced": "0"}, {"fixed": "abc123"}]},
                    {"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.0"}]},
                ],
            },
            {"package": {"name": "other"}, "ranges": [{"events": [{"fixed": "9.9"}]}]},
        ]
    }
    assert fixed_versions([vuln], "x", None) == ["1.2.0"]


def test_empty_report(load):
    assert parse(load("osv-empty.json")) == []


def test_corpus_report_one_finding_per_group(webauthn_corpus):
    path = webauthn_corpus / "osv-scanner-results-workflow_dispatch-392" / "osv-results.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    findings = parse(doc, str(path))
    # 4 lockfiles, 32 vulnerable package entries, 46 vulnerability groups.
    assert len(doc["results"]) == 4
    assert sum(len(r["packages"]) for r in doc["results"]) == 32
    assert len(findings) == 46
    assert len({f.id for f in findings}) == 46
    assert Counter(f.location.path for f in findings) == {
        "android-test-client/app/gradle.lockfile": 3,
        "webauthn-server/gradle.lockfile": 22,
        "webauthn-test-credentials-service/gradle.lockfile": 15,
        "webauthn-test-lib/gradle.lockfile": 6,
    }
    assert Counter(f.severity for f in findings) == {
        Severity.MEDIUM: 26,
        Severity.HIGH: 12,
        Severity.LOW: 8,
    }

    by_key = {
        (f.location.path, f.package.name, f.package.installed_version, f.rule_id): f
        for f in findings
    }
    core = by_key[
        (
            "webauthn-server/gradle.lockfile",
            "ch.qos.logback:logback-core",
            "1.3.5",
            "GHSA-6v67-2wr5-gvf4",
        )
    ]
    assert core.package.ecosystem == "Maven"
    assert core.package.fixed_versions == ["1.3.15"]  # not 1.5.13, the fix of the 1.4 line
    assert (core.severity, core.original_severity) == (Severity.LOW, "2.4")
    assert core.vulnerability_ids == ["GHSA-6v67-2wr5-gvf4", "CVE-2024-12801"]
    newer = by_key[
        (
            "webauthn-server/gradle.lockfile",
            "ch.qos.logback:logback-core",
            "1.4.14",
            "GHSA-6v67-2wr5-gvf4",
        )
    ]
    assert newer.package.fixed_versions == ["1.5.13"]
    smuggling = by_key[
        (
            "webauthn-server/gradle.lockfile",
            "io.netty:netty-codec-http",
            "4.1.101.Final",
            "GHSA-fghv-69vj-qj49",
        )
    ]
    assert (smuggling.severity, smuggling.original_severity) == (Severity.LOW, "LOW")
    assert smuggling.package.fixed_versions == ["4.1.125.Final"]
    jackson = findings[0]
    assert jackson.package.name == "com.fasterxml.jackson.core:jackson-core"
    assert jackson.package.installed_version == "2.14.0-rc2"
    assert jackson.package.fixed_versions == ["2.15.0"]
    assert (jackson.severity, jackson.original_severity) == (Severity.HIGH, "8.7")
