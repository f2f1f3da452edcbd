"""Trivy native JSON: current and legacy reports, secrets, misconfigurations, licenses, k8s."""

from __future__ import annotations

import pytest

from vulntune.findings.formats import FindingsInputError
from vulntune.findings.native.trivy import FORMAT
from vulntune.findings.native.trivy_ids import (
    trivy_dependency_fingerprint,
    trivy_location_fingerprint,
)
from vulntune.findings.record import FindingKind, Location, Severity


def parse(doc, file="trivy.json"):
    assert FORMAT.matches(doc)
    return list(FORMAT.parse(doc, file))


def test_image_report_os_and_language_packages(load):
    coreutils, unscored, logback = parse(load("trivy-image.json"))

    assert coreutils.rule_id == "CVE-2016-2781"
    assert coreutils.kind is FindingKind.DEPENDENCY
    assert coreutils.tool_version == "0.65.0"
    assert coreutils.severity is Severity.LOW
    assert coreutils.original_severity == "LOW"
    # Trivy's SARIF places image packages at the repository without registry and tag.
    assert coreutils.location == Location(path="example/webapp")
    assert coreutils.package.name == "coreutils"
    assert coreutils.package.ecosystem == "ubuntu"
    assert coreutils.package.installed_version == "9.4-3ubuntu6"
    assert coreutils.package.fixed_versions == []
    assert coreutils.package.purl.startswith("pkg:deb/ubuntu/coreutils@9.4-3ubuntu6")
    assert coreutils.cwe_ids == ["CWE-20"]
    assert "status:will_not_fix" in coreutils.tags
    assert coreutils.help_uri == "https://avd.aquasec.com/nvd/cve-2016-2781"
    assert coreutils.message == (
        "CVE-2016-2781 in coreutils 9.4-3ubuntu6: coreutils: Non-privileged session can escape"
        " to the parent session in chroot"
    )
    # An image scan: ids name the image repository (registry, no tag), findings the image.
    assert coreutils.id == trivy_dependency_fingerprint(
        "CVE-2016-2781", "example/webapp", "coreutils", "9.4-3ubuntu6", "ghcr.io/example/webapp"
    )
    assert coreutils.tags == [
        "os-pkgs",
        "ubuntu",
        "status:will_not_fix",
        "image:ghcr.io/example/webapp:1.4.2",
    ]

    assert unscored.severity is Severity.INFO  # UNKNOWN: not scored yet
    assert unscored.original_severity == "UNKNOWN"

    assert logback.location.path == "app/app.jar"  # PkgPath wins over the "Java" target
    assert logback.id == trivy_dependency_fingerprint(
        "CVE-2024-12798",
        "app/app.jar",
        "ch.qos.logback:logback-core",
        "1.3.5",
        "ghcr.io/example/webapp",
    )
    assert logback.package.ecosystem == "Maven"
    assert logback.package.fixed_versions == ["1.5.13", "1.3.15"]
    assert logback.vulnerability_ids == ["CVE-2024-12798", "GHSA-pr98-23f8-jwxv"]
    assert [f.origin.index for f in (coreutils, unscored, logback)] == [0, 1, 2]


def test_legacy_top_level_list(load):
    openssl, lodash = parse(load("trivy-legacy.json"))
    assert openssl.location.path == "library/alpine"  # legacy OS result: no Class, OS Type
    assert openssl.package.ecosystem == "alpine"
    assert openssl.package.fixed_versions == ["1.1.1d-r0"]
    assert openssl.severity is Severity.MEDIUM
    assert lodash.location.path == "app/package-lock.json"
    assert lodash.package.ecosystem == "npm"
    assert lodash.severity is Severity.HIGH
    # No artifact name in a legacy report: ids are not scoped by an image.
    assert lodash.id == trivy_dependency_fingerprint(
        "CVE-2020-8203", "app/package-lock.json", "lodash", "4.17.15"
    )


def test_secrets_keep_the_masked_match_only_as_snippet(load):
    aws, pat = parse(load("trivy-secret.json"))
    assert aws.kind is FindingKind.SECRET
    assert aws.rule_id == "aws-access-key-id"
    assert aws.severity is Severity.CRITICAL
    assert aws.location == Location(path="deploy/settings.env", start_line=3, end_line=3)
    assert aws.snippet == "AWS_ACCESS_KEY_ID=********************"
    assert aws.message == "Secret found: AWS Access Key ID"
    assert aws.id == trivy_location_fingerprint("aws-access-key-id", "deploy/settings.env", 3)
    assert pat.snippet.startswith("GITHUB_TOKEN=ghp_")


def test_misconfigurations_only_failures_and_licenses(load):
    dockerfile, bucket, bash, agpl = parse(load("trivy-config.json"))

    assert dockerfile.rule_id == "DS002"  # the PASS check DS001 is not a finding
    assert dockerfile.kind is FindingKind.CONFIG
    assert dockerfile.location == Location(path="Dockerfile")
    assert dockerfile.rule_help == "Add 'USER <non root user name>' line to the Dockerfile"
    # No line in the report: Trivy's SARIF writes line 1, and the ids agree.
    assert dockerfile.id == trivy_location_fingerprint("DS002", "Dockerfile", 1)
    # A filesystem scan: no image in the id or the tags.
    assert not any(tag.startswith("image:") for tag in dockerfile.tags)

    assert bucket.location == Location(path="terraform/main.tf", start_line=12, end_line=15)
    assert bucket.snippet.splitlines()[0] == 'resource "aws_s3_bucket" "logs" {'
    assert "resource:aws_s3_bucket.logs" in bucket.tags

    assert bash.rule_id == "bash:GPL-3.0-or-later"  # the rule id Trivy's SARIF uses
    assert bash.kind is FindingKind.DEPENDENCY
    assert bash.package.name == "bash"
    assert agpl.rule_id == ":AGPL-3.0"
    assert agpl.kind is FindingKind.CONFIG
    assert agpl.location.path == "vendor/lib/COPYING"


def test_clean_scan_without_results(load):
    assert parse(load("trivy-clean.json")) == []


def test_kubernetes_report(load):
    (finding,) = parse(load("trivy-k8s.json"))
    assert finding.location.path == "library/nginx"
    assert finding.package.ecosystem == "debian"


def test_vulnerability_without_package_name_is_an_error():
    doc = {
        "SchemaVersion": 2,
        "Results": [{"Target": "x", "Vulnerabilities": [{"VulnerabilityID": "CVE-1"}]}],
    }
    with pytest.raises(
        FindingsInputError, match=r"Results\[0\]\.Vulnerabilities\[0\]\.PkgName \(CVE-1\)"
    ):
        parse(doc)


def test_results_must_be_a_list():
    with pytest.raises(FindingsInputError, match="Results must be a JSON array"):
        parse({"SchemaVersion": 2, "ArtifactName": "x", "Results": {"Target": "x"}})
