"""The helpers every parser shares: severities, CWE/advisory ids, paths, tool names, kinds."""

from __future__ import annotations

import pytest

from vulntune.findings.common import (
    canonical_tool,
    classify_kind,
    cwe_id,
    extract_cwe_ids,
    extract_vulnerability_ids,
    is_vulnerability_id,
    normalize_path,
    normalize_severity,
    severity_from_level,
    severity_from_score,
    severity_from_word,
    split_versions,
    string_list,
    strip_ci_prefix,
    trivy_artifact_path,
    trivy_dependency_fingerprint,
    trivy_image_scope,
    trivy_location_fingerprint,
    uri_to_path,
)
from vulntune.findings.record import FindingKind, Severity


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (10, Severity.CRITICAL),
        (9.0, Severity.CRITICAL),
        ("9.0", Severity.CRITICAL),
        (8.99, Severity.HIGH),
        ("7.0", Severity.HIGH),
        (6.9, Severity.MEDIUM),
        (4.0, Severity.MEDIUM),
        (3.9, Severity.LOW),
        (0.1, Severity.LOW),
        (0, Severity.INFO),
        (" 5.5 ", Severity.MEDIUM),
    ],
)
def test_cvss_scores_map_on_the_cvss_bands(score, expected):
    assert severity_from_score(score) is expected


@pytest.mark.parametrize("score", [-1, 10.1, "high", "", None, True, float("nan"), [7.0]])
def test_non_scores_are_not_guessed(score):
    assert severity_from_score(score) is None


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("error", Severity.HIGH),
        ("warning", Severity.MEDIUM),
        ("note", Severity.LOW),
        ("none", Severity.INFO),
        ("Error", Severity.HIGH),
        ("fatal", None),
        (None, None),
    ],
)
def test_sarif_levels(level, expected):
    assert severity_from_level(level) is expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("CRITICAL", Severity.CRITICAL),
        ("HIGH", Severity.HIGH),
        ("ERROR", Severity.HIGH),
        ("Important", Severity.HIGH),
        ("MEDIUM", Severity.MEDIUM),
        ("moderate", Severity.MEDIUM),
        ("WARNING", Severity.MEDIUM),
        ("LOW", Severity.LOW),
        ("BestPractice", Severity.LOW),
        ("INFO", Severity.INFO),
        ("Informational", Severity.INFO),
        ("negligible", Severity.INFO),
        ("UNKNOWN", Severity.INFO),
        ("ManualReview", Severity.INFO),
        ("  high ", Severity.HIGH),
        ("very_high", Severity.CRITICAL),
        ("severe", None),
        (3, None),
    ],
)
def test_tool_severity_words(word, expected):
    assert severity_from_word(word) is expected


def test_normalize_severity_takes_words_levels_and_scores_with_a_default():
    assert normalize_severity("note") is Severity.LOW
    assert normalize_severity("7.5") is Severity.HIGH
    assert normalize_severity(9.8) is Severity.CRITICAL
    assert normalize_severity("whatever") is None
    assert normalize_severity("whatever", Severity.MEDIUM) is Severity.MEDIUM
    assert normalize_severity(None, Severity.LOW) is Severity.LOW
    assert normalize_severity(True, Severity.LOW) is Severity.LOW


def test_cwe_ids_from_the_shapes_tools_write():
    assert cwe_id(79) == "CWE-79"
    assert cwe_id("089") == "CWE-89"
    assert cwe_id("external/cwe/cwe-079") == "CWE-79"
    assert cwe_id("CWE-22: Improper Limitation of a Pathname") == "CWE-22"
    assert cwe_id(0) is None
    assert cwe_id("no cwe here") is None
    assert extract_cwe_ids(
        ["CWE-79: Improper Neutralization", "external/cwe/cwe-079", "security"],
        "see cwe_352 and CWE 1321",
        {"cwe": ["CWE-089"]},
        611,
    ) == ["CWE-79", "CWE-352", "CWE-1321", "CWE-89", "CWE-611"]
    # A CWE id inside another word, or a number in free text, is not a CWE reference.
    assert extract_cwe_ids("NOCWE-12 and 79 apples") == []


def test_advisory_ids_are_found_and_canonicalised():
    text = (
        "cve-2021-44228 (see GHSA-JFH8-C2JP-5V3Q), PYSEC-2021-19, GO-2022-0493, "
        "RUSTSEC-2021-0078 and CVE-2021-44228 again; not GHSA-abcd-efgh-ijkl"
    )
    assert extract_vulnerability_ids(text, ["CVE-2014-0160"]) == [
        "CVE-2021-44228",
        "GHSA-jfh8-c2jp-5v3q",
        "PYSEC-2021-19",
        "GO-2022-0493",
        "RUSTSEC-2021-0078",
        "CVE-2014-0160",
    ]
    assert is_vulnerability_id("CVE-2016-2781")
    assert is_vulnerability_id("GHSA-35jh-r3h4-6jhm")
    assert not is_vulnerability_id("CKV2_GHA_1")
    assert not is_vulnerability_id("CVE-2016-2781 extra")


def test_string_lists_and_version_lists():
    assert string_list(["a", "", 3, "b"]) == ["a", "b"]
    assert string_list("x") == ["x"]
    assert string_list(None) == []
    assert split_versions("1.5.13, 1.3.15") == ["1.5.13", "1.3.15"]
    assert split_versions(["2.0.1", "2.0.1", ""]) == ["2.0.1"]
    assert split_versions("") == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/home/runner/work/shop/shop/app/main.py", "app/main.py"),
        ("/Users/runner/work/shop/shop/app/main.py", "app/main.py"),
        ("/home/ci/actions-runner/_work/shop/shop/app/main.py", "app/main.py"),
        ("D:/a/shop/shop/src/App.cs", "src/App.cs"),
        ("D:/a/1/s/src/App.cs", "src/App.cs"),
        ("/__w/shop/shop/app/main.py", "app/main.py"),
        ("/__w/1/s/app/main.py", "app/main.py"),
        ("/github/workspace/app/main.py", "app/main.py"),
        ("/home/vsts/work/1/s/app/main.py", "app/main.py"),
        ("/builds/acme/shop/app/main.py", "app/main.py"),
        ("/var/jenkins_home/workspace/shop-ci/app/main.py", "app/main.py"),
        ("/var/lib/jenkins/workspace/shop-ci/app/main.py", "app/main.py"),
        ("/home/jenkins/agent/workspace/shop-ci/app/main.py", "app/main.py"),
        ("C:/Jenkins/workspace/shop-ci/app/main.py", "app/main.py"),
        ("/home/circleci/project/app/main.py", "app/main.py"),
        ("/opt/atlassian/pipelines/agent/build/app/main.py", "app/main.py"),
        ("/opt/shop/app/main.py", "/opt/shop/app/main.py"),
        ("app/main.py", "app/main.py"),
    ],
)
def test_ci_checkout_prefixes_are_stripped(path, expected):
    assert strip_ci_prefix(path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("src\\app\\main.py", "src/app/main.py"),
        ("./src/./app//main.py", "src/app/main.py"),
        ("src/app/../lib/x.py", "src/lib/x.py"),
        ("../outside/x.py", "../outside/x.py"),
        ("c:\\Users\\dev\\x.py", "C:/Users/dev/x.py"),
        ("D:\\a\\shop\\shop\\src\\x.py", "src/x.py"),
        ("/github/workspace/src/x.py", "src/x.py"),
        ("/etc/passwd", "/etc/passwd"),
        ("src/100%25.py", "src/100%25.py"),  # a plain path is not percent-decoded
        ("  ", None),
        (None, None),
    ],
)
def test_normalize_path(path, expected):
    assert normalize_path(path) == expected


def test_uri_to_path_decodes_file_uris_and_resolves_bases():
    bases = {
        "%SRCROOT%": {"uri": "file:///home/runner/work/shop/shop/"},
        "SUB": {"uri": "services/api/", "uriBaseId": "%SRCROOT%"},
        "ROOTPATH": {"uri": "file:///"},
        "PLAIN": "file:///srv/code/",
        "LOOP": {"uri": "x/", "uriBaseId": "LOOP"},
    }
    assert uri_to_path("src/a%20b.py", "%SRCROOT%", bases) == "src/a b.py"
    assert uri_to_path("handler.py", "SUB", bases) == "services/api/handler.py"
    # A base at the file system root says nothing: Trivy image names stay as written.
    assert uri_to_path("library/alpine", "ROOTPATH", bases) == "library/alpine"
    assert uri_to_path("x.py", "PLAIN", bases) == "/srv/code/x.py"
    assert uri_to_path("x.py", "UNKNOWN", bases) == "x.py"
    assert uri_to_path("x.py", "LOOP", bases).endswith("x.py")
    assert uri_to_path("file:///C:/Users/dev/x.py") == "C:/Users/dev/x.py"
    assert uri_to_path("file://C:/Users/dev/x.py") == "C:/Users/dev/x.py"
    assert uri_to_path("file://localhost/github/workspace/x.py") == "x.py"
    assert uri_to_path("file://fileserver/share/x.py") == "//fileserver/share/x.py"
    assert uri_to_path("file:///home/runner/work/caf%C3%A9/caf%C3%A9/caf%C3%A9.py") == "café.py"
    assert uri_to_path("https://example.com/a%20b") == "https://example.com/a b"
    assert (
        uri_to_path("/absolute/base/ignored.py", "%SRCROOT%", bases) == "/absolute/base/ignored.py"
    )
    assert uri_to_path("") is None
    assert uri_to_path(None) is None


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


@pytest.mark.parametrize(
    ("target", "os_package", "expected"),
    [
        ("hitoshura25/webauthn-server (ubuntu 24.04)", True, "hitoshura25/webauthn-server"),
        ("docker.io/library/alpine:3.19 (alpine 3.19.1)", True, "library/alpine"),
        ("alpine:3.10", True, "library/alpine"),
        ("ghcr.io/acme/api@sha256:abcd (debian 12.5)", True, "acme/api"),
        ("localhost:5000/team/app:dev (alpine 3.18.4)", True, "team/app"),
        ("app\\package-lock.json", False, "app/package-lock.json"),
    ],
)
def test_trivy_artifact_path_matches_what_trivy_writes_into_sarif(target, os_package, expected):
    assert trivy_artifact_path(target, os_package) == expected


DIGEST = "sha256:" + "4c9b83a8" * 8


@pytest.mark.parametrize(
    ("image_name", "expected"),
    [
        # Registry kept, tag and digest dropped: a new tag of one image keeps its ids.
        ("ghcr.io/hitoshura25/webauthn-server:latest", "ghcr.io/hitoshura25/webauthn-server"),
        (f"ghcr.io/hitoshura25/webauthn-server@{DIGEST}", "ghcr.io/hitoshura25/webauthn-server"),
        (f"GHCR.io/acme/api:1.2@{DIGEST}", "ghcr.io/acme/api"),
        ("localhost:5000/team/app:dev", "localhost:5000/team/app"),
        ("localhost/app", "localhost/app"),
        # Docker Hub written any of the ways Docker accepts is one repository.
        ("alpine", "docker.io/library/alpine"),
        ("alpine:3.19", "docker.io/library/alpine"),
        ("docker.io/library/alpine:3.19", "docker.io/library/alpine"),
        ("index.docker.io/library/alpine", "docker.io/library/alpine"),
        ("bitnami/nginx:1.25", "docker.io/bitnami/nginx"),
        # Not an image reference (an archive given to --input): as written, "/" separators.
        ("image.tar", "image.tar"),
        ("C:\\images\\app.tar.gz", "C:/images/app.tar.gz"),
        ("/tmp/Build Output/app", "/tmp/Build Output/app"),
        ("acme/api@sha256:short", "acme/api@sha256:short"),
        ("  ", None),
        (None, None),
        (["ghcr.io/acme/api"], None),
    ],
)
def test_trivy_image_scope_is_the_image_repository(image_name, expected):
    assert trivy_image_scope(image_name) == expected


def test_trivy_ids_without_an_image_are_the_unscoped_ids():
    jar = ("CVE-2024-12798", "app/app.jar", "ch.qos.logback:logback-core", "1.4.14")
    assert trivy_dependency_fingerprint(*jar) == trivy_dependency_fingerprint(*jar, None)
    assert len({trivy_dependency_fingerprint(*jar, scope) for scope in (None, "a/b", "a/c")}) == 3
    secret = ("aws-access-key-id", "deploy/settings.env", 3)
    assert trivy_location_fingerprint(*secret) == trivy_location_fingerprint(*secret, None)
    assert trivy_location_fingerprint("DS002", "Dockerfile", None) == trivy_location_fingerprint(
        "DS002", "Dockerfile", 1
    )
    assert trivy_location_fingerprint(
        "DS002", "Dockerfile", None, "a/b"
    ) == trivy_location_fingerprint("DS002", "Dockerfile", 1, "a/b")
    assert len({trivy_location_fingerprint(*secret, scope) for scope in (None, "a/b", "a/c")}) == 3
