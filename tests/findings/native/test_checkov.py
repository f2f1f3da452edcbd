"""Checkov native JSON: a single report, a list of reports, and the bare summary."""

from __future__ import annotations

from vulntune.findings.native.checkov import FORMAT
from vulntune.findings.record import FindingKind, Location, Severity, fingerprint


def parse(doc, file="checkov.json"):
    assert FORMAT.matches(doc)
    return list(FORMAT.parse(doc, file))


def test_single_report_failed_checks_only(load):
    permissions, injection = parse(load("checkov-single.json"))
    assert permissions.rule_id == "CKV2_GHA_1"
    assert permissions.kind is FindingKind.CONFIG
    assert permissions.tool_version == "3.2.470"
    # Checkov writes "/.github/..." for a file under the scanned directory.
    assert permissions.location == Location(
        path=".github/workflows/docker-security-scan.yml", start_line=88, end_line=89
    )
    assert permissions.severity is Severity.HIGH  # null severity: Checkov's SARIF says "error"
    assert permissions.original_severity is None
    assert permissions.message == (
        "Ensure top-level permissions are not set to write-all\nResource: on(Docker Security Scan)"
    )
    assert permissions.snippet == "permissions:\n  contents: write"
    assert permissions.help_uri.endswith("/ckv2-gha-1")
    assert "framework:github_actions" in permissions.tags
    # The SARIF identity: check id, path and start line.
    assert permissions.id == fingerprint(
        "checkov",
        "CKV2_GHA_1",
        Location(path=".github/workflows/docker-security-scan.yml", start_line=88),
    )
    assert injection.severity is Severity.HIGH
    assert injection.original_severity == "HIGH"
    assert injection.rule_help == "Untrusted input flows into a run step"


def test_list_of_reports_with_secrets_and_sca(load):
    bucket, secret, sca = parse(load("checkov-list.json"))
    assert bucket.location.path == "main.tf"
    assert bucket.kind is FindingKind.CONFIG
    assert secret.kind is FindingKind.SECRET
    assert secret.snippet == "aws_access_key_id = AKIAIOSF************"
    assert sca.kind is FindingKind.DEPENDENCY
    assert sca.vulnerability_ids == ["CVE-2020-28493"]
    assert (sca.package.name, sca.package.installed_version) == ("jinja2", "2.11.2")
    assert sca.package.fixed_versions == ["2.11.3"]
    assert sca.severity is Severity.MEDIUM
    assert [f.origin.index for f in (bucket, secret, sca)] == [0, 1, 2]


def test_bare_summary_is_a_clean_scan(load):
    assert parse(load("checkov-nothing.json")) == []


def test_real_absolute_path_is_kept():
    doc = {
        "check_type": "terraform",
        "results": {
            "failed_checks": [
                {
                    "check_id": "CKV_AWS_1",
                    "file_path": "/srv/iac/main.tf",
                    "file_abs_path": "/srv/iac/main.tf",
                    "file_line_range": [3, 9],
                }
            ]
        },
    }
    (finding,) = parse(doc)
    assert finding.location.path == "/srv/iac/main.tf"
