"""Tool names -> tool families, and what kind of finding a tool's rule reports."""

from __future__ import annotations

import pytest

from vulntune.findings.record import FindingKind
from vulntune.findings.tools import canonical_tool, classify_kind


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Semgrep OSS", "semgrep"),
        ("Semgrep PRO", "semgrep"),
        ("CodeQL", "codeql"),
        ("Trivy", "trivy"),
        ("Checkov", "checkov"),
        ("gitleaks", "gitleaks"),
        ("Bandit", "bandit"),
        ("Microsoft.DevSkim.CLI", "devskim"),
        ("osv-scanner", "osv-scanner"),
        ("OWASP ZAP", "zap"),
        ("ZAP by Checkmarx", "zap"),
        ("pip-audit", "pip-audit"),
        ("My Custom Linter 2", "my-custom-linter-2"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_tool_families(name, expected):
    assert canonical_tool(name) == expected


@pytest.mark.parametrize(
    ("tool", "rule_id", "rule_name", "has_package", "expected"),
    [
        ("trivy", "CVE-2016-2781", "OsPackageVulnerability", True, FindingKind.DEPENDENCY),
        ("trivy", "DS002", "Misconfiguration", False, FindingKind.CONFIG),
        ("trivy", "aws-access-key-id", "Secret", False, FindingKind.SECRET),
        ("trivy", "AVD-AWS-0086", None, False, FindingKind.CONFIG),
        ("trivy", "github-pat", None, False, FindingKind.SECRET),
        ("trivy", "GHSA-35jh-r3h4-6jhm", None, False, FindingKind.DEPENDENCY),
        ("checkov", "CKV2_GHA_1", None, False, FindingKind.CONFIG),
        ("checkov", "CKV_SECRET_2", None, False, FindingKind.SECRET),
        ("checkov", "CVE-2022-1234", None, False, FindingKind.DEPENDENCY),
        ("semgrep", "python.lang.security.audit.eval-detected", None, False, FindingKind.CODE),
        ("semgrep", "generic.secrets.security.detected-aws-key", None, False, FindingKind.SECRET),
        (
            "semgrep",
            "dockerfile.security.missing-user.missing-user",
            None,
            False,
            FindingKind.CONFIG,
        ),
        ("semgrep", "ssc-1234", None, False, FindingKind.DEPENDENCY),
        ("gitleaks", "aws-access-token", None, False, FindingKind.SECRET),
        ("codeql", "js/sql-injection", None, False, FindingKind.CODE),
        ("zap", "10038", None, False, FindingKind.WEB),
        ("unknown", "CVE-2023-0001", None, False, FindingKind.DEPENDENCY),
        ("codeql", "CVE-2023-0001", None, False, FindingKind.CODE),
        ("unknown", "rule-1", None, True, FindingKind.DEPENDENCY),
    ],
)
def test_kinds(tool, rule_id, rule_name, has_package, expected):
    assert classify_kind(tool, rule_id, rule_name, has_package) is expected
