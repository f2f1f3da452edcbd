"""The real SARIF files of the webauthn-server-ci corpus: exact counts and spot checks."""

from __future__ import annotations

from collections import Counter

import pytest

from vulntune.findings.parse import detect_format, parse_file
from vulntune.findings.record import FindingKind, Location, Package, Severity

TRIVY = "docker-security-scan-results-trivy-action"
COUNTS = {
    "checkov-results-workflow_dispatch-392/checkov-results.sarif": 10,
    f"{TRIVY}/docker-security-scan-results.sarif": 84,  # two runs: 44 + 40
    f"{TRIVY}/test-credentials-comprehensive.sarif": 40,
    f"{TRIVY}/webauthn-comprehensive.sarif": 44,
    "semgrep-results-workflow_dispatch-392/semgrep.sarif": 107,
    # A file in a directory that is itself named results.sarif.
    "gitleaks-results.sarif/work/mpo-api-authn-server/mpo-api-authn-server/results.sarif": 0,
}


@pytest.mark.parametrize(("name", "count"), COUNTS.items())
def test_finding_counts(webauthn_corpus, name, count):
    path = webauthn_corpus / name
    assert detect_format(path) == "sarif"
    found = list(parse_file(path, name))
    assert len(found) == count
    assert [f.origin.index for f in found] == list(range(count))
    assert {f.origin.format for f in found} <= {"sarif"}


def test_checkov(webauthn_corpus):
    found = list(parse_file(webauthn_corpus / next(iter(COUNTS))))
    first = found[0]
    assert (first.tool, first.tool_version, first.rule_id) == ("checkov", "3.2.470", "CKV2_GHA_1")
    assert first.rule_name == "Ensure top-level permissions are not set to write-all"
    assert (first.severity, first.original_severity, first.kind) == (
        Severity.HIGH,
        "error",
        FindingKind.CONFIG,
    )
    assert first.location == Location(".github/workflows/android-e2e-tests.yml", 166, None, 167)
    assert first.snippet is None  # Checkov writes an empty snippet
    assert first.rule_help == (
        "Ensure top-level permissions are not set to write-all\n"
        "Resource: on(Android E2E Tests - Emulator)"
    )
    assert len({f.id for f in found}) == 10


def test_trivy_two_runs_and_packages_from_message_text(webauthn_corpus):
    found = list(parse_file(webauthn_corpus / TRIVY / "docker-security-scan-results.sarif"))
    assert Counter(f.origin.run_index for f in found) == {0: 44, 1: 40}
    assert Counter(f.rule_name for f in found) == {
        "OsPackageVulnerability": 62,
        "LanguageSpecificPackageVulnerability": 22,
    }
    assert {f.kind for f in found} == {FindingKind.DEPENDENCY}
    assert Counter(f.severity for f in found) == {
        Severity.LOW: 43,
        Severity.MEDIUM: 36,
        Severity.HIGH: 5,
    }
    coreutils = found[0]
    assert (coreutils.rule_id, coreutils.severity, coreutils.original_severity) == (
        "CVE-2016-2781",
        Severity.LOW,
        "LOW",
    )
    assert coreutils.package == Package(name="coreutils", installed_version="9.4-3ubuntu6")
    # Image packages sit at the image repository; a ROOTPATH of file:/// adds nothing.
    assert coreutils.location.path == "hitoshura25/webauthn-server"
    assert found[44].location.path == "hitoshura25/webauthn-test-credentials-service"
    logback = found[31]
    assert (logback.rule_id, logback.severity, logback.vulnerability_ids) == (
        "CVE-2024-12798",
        Severity.MEDIUM,
        ["CVE-2024-12798"],
    )
    assert logback.package == Package(
        name="ch.qos.logback:logback-core",
        installed_version="1.4.14",
        fixed_versions=["1.5.13", "1.3.15"],
    )
    assert logback.location == Location(
        "app/app.jar", 1, 1, 1, 1, "app/app.jar: ch.qos.logback:logback-core@1.4.14"
    )
    assert logback.help_uri == "https://avd.aquasec.com/nvd/cve-2024-12798"
    # Each run names its image (properties.imageName), which scopes the ids: the same jar
    # (logback CVE-2024-12798 and CVE-2024-12801) in the two images is two findings each.
    registry = "image:ghcr.io/hitoshura25/"
    assert found[31].tags[-1] == registry + "webauthn-server:latest"
    assert found[75].tags[-1] == registry + "webauthn-test-credentials-service:latest"
    for first, second in ((found[31], found[75]), (found[32], found[76])):
        assert (first.rule_id, first.location, first.package) == (
            second.rule_id,
            second.location,
            second.package,
        )
        assert first.id != second.id
    assert [f.rule_id for f in found[31:33]] == ["CVE-2024-12798", "CVE-2024-12801"]
    assert len({f.id for f in found}) == 84


def test_the_same_image_scanned_in_two_files_gives_the_same_ids(webauthn_corpus):
    combined = list(parse_file(webauthn_corpus / TRIVY / "docker-security-scan-results.sarif"))
    server = list(parse_file(webauthn_corpus / TRIVY / "webauthn-comprehensive.sarif"))
    credentials = list(parse_file(webauthn_corpus / TRIVY / "test-credentials-comprehensive.sarif"))
    assert [f.id for f in server] == [f.id for f in combined[:44]]
    assert [f.id for f in credentials] == [f.id for f in combined[44:]]


def test_semgrep(webauthn_corpus):
    found = list(parse_file(webauthn_corpus / next(k for k in COUNTS if "semgrep" in k)))
    assert {(f.tool, f.tool_full_name, f.tool_version) for f in found} == {
        ("semgrep", "Semgrep OSS", "1.135.0")
    }
    assert Counter(f.severity for f in found) == {
        Severity.HIGH: 90,
        Severity.MEDIUM: 9,
        Severity.LOW: 8,
    }
    assert Counter(c for f in found for c in f.cwe_ids) == {
        "CWE-285": 88,
        "CWE-613": 7,
        "CWE-134": 4,
        "CWE-323": 4,
        "CWE-78": 2,
        "CWE-926": 1,
        "CWE-353": 1,
    }
    exported = found[0]
    assert exported.rule_id == "java.android.security.exported_activity.exported_activity"
    assert (exported.severity, exported.original_severity) == (Severity.MEDIUM, "warning")
    assert exported.cwe_ids == ["CWE-926"]
    assert exported.location == Location(
        "android-test-client/app/src/main/AndroidManifest.xml", 21, 9, 26, 69
    )
    assert exported.snippet.startswith("        <activity\n")
    assert exported.help_uri == (
        "https://semgrep.dev/r/java.android.security.exported_activity.exported_activity"
    )
    bypass = found[1]
    assert (bypass.rule_id, bypass.severity, bypass.cwe_ids) == (
        "semgrep-rules.webauthn-credential-validation-bypass",
        Severity.HIGH,
        ["CWE-285"],
    )
    assert bypass.location.path.endswith("/testclient/WebAuthnViewModel.kt")
    assert (bypass.location.start_line, bypass.location.start_column) == (212, 9)
    # Two matches start at the same place and end apart: 107 distinct ids all the same.
    assert len({f.id for f in found}) == 107
