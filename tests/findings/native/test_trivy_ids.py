"""Trivy ids, the same from its SARIF and its native JSON: artifact paths and image scopes as
Trivy writes them, and ids in image scans that name the image: the same jar in two images is
two findings, the same image scanned twice (in two files, or under a new tag) is one. Checked
through every way a SARIF file is read (fast path, stream, one pass, decoded document) and
against Trivy's native JSON of the same scans, which must give the same ids."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vulntune.findings.ingest import ingest_paths
from vulntune.findings.native.trivy_ids import (
    trivy_artifact_path,
    trivy_dependency_fingerprint,
    trivy_image_scope,
    trivy_location_fingerprint,
)
from vulntune.findings.parse import parse_document, parse_file
from vulntune.findings.record import Finding
from vulntune.findings.sarif.fast import FastSarif

API = "ghcr.io/acme/api:latest"
WORKER = "ghcr.io/acme/worker:latest"
JAR_ID = ("CVE-2024-12798", "app/app.jar", "ch.qos.logback:logback-core", "1.4.14")


def jar_result() -> dict[str, Any]:
    """The logback result Trivy writes for ``app/app.jar`` (as in the corpus)."""
    return {
        "ruleId": "CVE-2024-12798",
        "ruleIndex": 0,
        "level": "warning",
        "message": {
            "text": "Package: ch.qos.logback:logback-core\nInstalled Version: 1.4.14\n"
            "Vulnerability CVE-2024-12798\nSeverity: MEDIUM\nFixed Version: 1.5.13, 1.3.15"
        },
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "app/app.jar", "uriBaseId": "ROOTPATH"},
                    "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1},
                }
            }
        ],
    }


def trivy_run(image: str | None, properties: Any = None) -> dict[str, Any]:
    """One Trivy run with the jar result; an image scan has ``properties.imageName``."""
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "Trivy",
                "version": "0.65.0",
                "rules": [{"id": "CVE-2024-12798", "name": "LanguageSpecificPackageVulnerability"}],
            }
        },
        "results": [jar_result()],
        "columnKind": "utf16CodeUnits",
        "originalUriBaseIds": {"ROOTPATH": {"uri": "file:///"}},
    }
    if image is not None:
        run["properties"] = {"imageName": image, "repoTags": [image], "repoDigests": None}
    elif properties is not None:
        run["properties"] = properties
    return run


def write_sarif(path: Path, *runs: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"version": "2.1.0", "runs": list(runs)}), encoding="utf-8")
    return path


def native_report(name: str | None, artifact_type: str = "container_image") -> dict[str, Any]:
    """Trivy's native JSON of the same scan as :func:`trivy_run`."""
    report: dict[str, Any] = {
        "SchemaVersion": 2,
        "ArtifactType": artifact_type,
        "Trivy": {"Version": "0.65.0"},
        "Results": [
            {
                "Target": "Java",
                "Class": "lang-pkgs",
                "Type": "jar",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": "CVE-2024-12798",
                        "PkgName": "ch.qos.logback:logback-core",
                        "PkgPath": "app/app.jar",
                        "InstalledVersion": "1.4.14",
                        "FixedVersion": "1.5.13, 1.3.15",
                        "Severity": "MEDIUM",
                    }
                ],
            }
        ],
    }
    if name is not None:
        report["ArtifactName"] = name
    return report


def _fast(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Finding]:
    return list(parse_file(path))


def _stream(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Finding]:
    with monkeypatch.context() as patch:
        patch.setattr(FastSarif, "runs_at", lambda self, offset: None)
        return list(parse_file(path))


def _one_pass(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Finding]:
    return list(parse_file(path, whole_file=True))


def _document(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Finding]:
    return list(parse_document(json.loads(path.read_text(encoding="utf-8")), str(path)))


READERS: dict[str, Callable[[Path, pytest.MonkeyPatch], list[Finding]]] = {
    "fast": _fast,
    "stream": _stream,
    "one-pass": _one_pass,
    "document": _document,
}


@pytest.mark.parametrize("read", READERS.values(), ids=READERS.keys())
def test_the_same_jar_in_two_images_has_two_ids(tmp_path, monkeypatch, read):
    api, worker = read(
        write_sarif(tmp_path / "two.sarif", trivy_run(API), trivy_run(WORKER)), monkeypatch
    )
    assert api.id != worker.id
    assert api.id == trivy_dependency_fingerprint(*JAR_ID, "ghcr.io/acme/api")
    assert worker.id == trivy_dependency_fingerprint(*JAR_ID, "ghcr.io/acme/worker")
    # The place is the file in the image, as Trivy writes it; the image is a tag.
    assert api.location.path == worker.location.path == "app/app.jar"
    assert api.tags[-1] == f"image:{API}" and worker.tags[-1] == f"image:{WORKER}"


@pytest.mark.parametrize("read", READERS.values(), ids=READERS.keys())
def test_runs_that_are_no_image_scan_keep_their_ids(tmp_path, monkeypatch, read):
    runs = [
        trivy_run(None),  # trivy fs / repo: no properties
        trivy_run(None, {"imageName": "  "}),
        trivy_run(None, ["not", "an", "object"]),
        trivy_run(None, {"other": {"imageName": API}}),
    ]
    found = read(write_sarif(tmp_path / "fs.sarif", *runs), monkeypatch)
    assert {f.id for f in found} == {trivy_dependency_fingerprint(*JAR_ID)}
    assert all(not any(t.startswith("image:") for t in f.tags) for f in found)


def test_image_name_is_read_only_from_trivy_runs(tmp_path):
    run = trivy_run(API)
    run["tool"]["driver"]["name"] = "Grype"
    (finding,) = parse_file(write_sarif(tmp_path / "grype.sarif", run))
    assert not any(t.startswith("image:") for t in finding.tags)


def test_irregular_run_properties_read_the_same_on_the_fast_path_and_the_stream(
    tmp_path, monkeypatch
):
    # A repeated "properties" or "imageName" key: the last one counts, in both readers.
    text = json.dumps({"version": "2.1.0", "runs": [trivy_run(None)]})
    twice = text.replace(
        '"columnKind"',
        f'"properties": {{"imageName": "{WORKER}"}}, '
        f'"properties": {{"imageName": "x/y:1", "imageName": "{API}"}}, "columnKind"',
    )
    path = tmp_path / "twice.sarif"
    path.write_text(twice, encoding="utf-8")
    (fast,) = _fast(path, monkeypatch)
    assert fast == _stream(path, monkeypatch)[0] == _one_pass(path, monkeypatch)[0]
    assert fast.id == trivy_dependency_fingerprint(*JAR_ID, "ghcr.io/acme/api")


def test_the_same_image_in_two_files_and_under_a_new_tag_is_one_finding(tmp_path):
    write_sarif(tmp_path / "both.sarif", trivy_run(API), trivy_run(WORKER))
    write_sarif(tmp_path / "api.sarif", trivy_run(API))
    write_sarif(tmp_path / "api-next.sarif", trivy_run("ghcr.io/acme/api:1.5.0"))
    report = ingest_paths([tmp_path])
    assert len(report.findings) == 2 and report.duplicates == 2
    api = next(f for f in report.findings if f"image:{WORKER}" not in f.tags)
    # The merged record says which tags of the image it was found in.
    assert {t for t in api.tags if t.startswith("image:")} == {
        f"image:{API}",
        "image:ghcr.io/acme/api:1.5.0",
    }


def test_native_json_of_an_image_scan_has_the_ids_of_its_sarif(tmp_path):
    sarif = list(parse_file(write_sarif(tmp_path / "two.sarif", trivy_run(API), trivy_run(WORKER))))
    native = [
        finding
        for name in (API, WORKER)
        for finding in parse_document(native_report(name), f"{name}.json")
    ]
    assert [f.id for f in native] == [f.id for f in sarif]
    assert [f.tags[-1] for f in native] == [f"image:{API}", f"image:{WORKER}"]


@pytest.mark.parametrize(
    "report",
    [
        native_report("acme/api", artifact_type="filesystem"),
        native_report("https://github.com/acme/api", artifact_type="repository"),
        native_report(None),
    ],
    ids=["filesystem", "repository", "image-without-name"],
)
def test_native_reports_of_other_scans_keep_their_ids(report):
    (finding,) = parse_document(report, "trivy.json")
    assert finding.id == trivy_dependency_fingerprint(*JAR_ID)
    assert not any(t.startswith("image:") for t in finding.tags)


def test_legacy_list_has_no_image_to_scope_by():
    legacy = native_report(API)["Results"]
    (finding,) = parse_document(legacy, "trivy.json")
    assert finding.id == trivy_dependency_fingerprint(*JAR_ID)


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
