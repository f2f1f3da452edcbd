"""The demo's scanner reports: present for every revision, valid, consistent with the demo
repository, and read by the current ingest into exactly the findings pinned here."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest

from vulntune.demo.project import DemoRepository, build_demo_repository, reports_dir
from vulntune.findings.ingest import IngestReport, ingest_paths

SCHEMA = Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json"
FAKE_AWS_KEY_ID = "AKIAQZ3T5KDEMO7FAKEZ"  # the planted, obviously fake key id

REAL_TOOL_REPORTS = {"bandit.json", "checkov.sarif", "semgrep.sarif"}
HAND_WRITTEN = {"gitleaks.json", "osv-scanner.json"}
FILES = {
    "r1": REAL_TOOL_REPORTS | HAND_WRITTEN,
    "r2": REAL_TOOL_REPORTS,
    "r3": REAL_TOOL_REPORTS,
    "r4": REAL_TOOL_REPORTS,
    "r5": REAL_TOOL_REPORTS,
    "r6": REAL_TOOL_REPORTS | HAND_WRITTEN,
}

# Findings per tool that vulntune.findings.ingest.ingest_paths gives for each revision's
# reports, with the demo repository checked out at that revision as the source root.
COUNTS = {
    "r1": {"bandit": 24, "checkov": 13, "gitleaks": 2, "osv-scanner": 4, "semgrep": 21},
    "r2": {"bandit": 21, "checkov": 12, "semgrep": 18},
    "r3": {"bandit": 19, "checkov": 9, "semgrep": 15},
    "r4": {"bandit": 19, "checkov": 9, "semgrep": 15},
    "r5": {"bandit": 17, "checkov": 9, "semgrep": 15},
    "r6": {"bandit": 16, "checkov": 9, "gitleaks": 1, "semgrep": 15},
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRepository:
    return build_demo_repository(tmp_path_factory.mktemp("demo") / "tinyparcel")


@pytest.fixture(scope="module")
def ingested(demo: DemoRepository) -> dict[str, IngestReport]:
    reports = {}
    for tag in demo.tags:
        subprocess.run(["git", "checkout", "--quiet", tag], cwd=demo.path, check=True)
        reports[tag] = ingest_paths([reports_dir(tag)], demo.path)
    subprocess.run(["git", "checkout", "--quiet", "main"], cwd=demo.path, check=True)
    return reports


def checkout(demo: DemoRepository, tag: str, path: str) -> str:
    return subprocess.run(
        ["git", "show", f"{tag}:{path}"], cwd=demo.path, capture_output=True, text=True, check=True
    ).stdout


def test_every_revision_has_its_reports(demo: DemoRepository) -> None:
    assert set(FILES) == set(demo.tags)
    for revision in demo.revisions:
        assert revision.reports == reports_dir(revision.tag)
        assert {p.name for p in reports_dir(revision.tag).iterdir()} == FILES[revision.tag]


def test_reports_are_json_and_sarif_is_valid_sarif_2_1_0() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    for tag, names in FILES.items():
        for name in names:
            doc = json.loads((reports_dir(tag) / name).read_text(encoding="utf-8"))
            if name.endswith(".sarif"):
                errors = [e.message for e in validator.iter_errors(doc)]
                assert errors == [], f"{tag}/{name}: {errors[:3]}"
                assert doc["version"] == "2.1.0"


def test_pinned_finding_counts_per_tool(ingested: dict[str, IngestReport]) -> None:
    assert {tag: dict(report.by_tool()) for tag, report in ingested.items()} == COUNTS
    for tag, report in ingested.items():
        assert report.errors == [] and report.skipped == [], tag
        assert {Path(name).name for name in report.files} == FILES[tag]
        assert report.duplicates == 0, tag


def test_every_finding_gets_code_or_manifest_context(ingested: dict[str, IngestReport]) -> None:
    for tag, report in ingested.items():
        assert report.context_problems == [], tag
        missing = [(f.tool, f.rule_id) for f in report.findings if f.context is None]
        assert missing == [], tag


def test_the_planted_fake_key_is_redacted_everywhere(ingested: dict[str, IngestReport]) -> None:
    assert FAKE_AWS_KEY_ID in (reports_dir("r1") / "gitleaks.json").read_text()
    for tag, report in ingested.items():
        text = json.dumps([dataclasses.asdict(f) for f in report.findings], default=str)
        assert FAKE_AWS_KEY_ID not in text, tag
    leaks = [f for f in ingested["r1"].findings if f.tool == "gitleaks"]
    assert {f.location.path for f in leaks} == {".github/workflows/ci.yml", "infra/main.tf"}
    for leak in leaks:
        assert leak.context is not None
        assert any("«redacted:aws-access-token:" in line for line in leak.context.lines)


def test_gitleaks_locations_follow_gitleaks_arithmetic(demo: DemoRepository) -> None:
    """StartColumn is the offset from the previous newline + 1 (gitleaks counts the newline
    itself), EndColumn the end offset from it; lines are 1-based."""
    for tag in ("r1", "r6"):
        for leak in json.loads((reports_dir(tag) / "gitleaks.json").read_text()):
            lines = checkout(demo, tag, leak["File"]).split("\n")
            line = lines[leak["StartLine"] - 1]
            shift = 1 if leak["StartLine"] > 1 else 0
            start = leak["StartColumn"] - 1 - shift
            assert line[start : leak["EndColumn"] - shift] == leak["Match"] == leak["Secret"]
            assert leak["Fingerprint"] == f"{leak['File']}:{leak['RuleID']}:{leak['StartLine']}"


def test_osv_packages_are_the_versions_the_manifests_pin(demo: DemoRepository) -> None:
    prefix = "/home/runner/work/tinyparcel/tinyparcel/"
    seen = []
    for tag in ("r1", "r6"):
        report = json.loads((reports_dir(tag) / "osv-scanner.json").read_text())
        for result in report["results"]:
            manifest = result["source"]["path"].removeprefix(prefix)
            text = checkout(demo, tag, manifest)
            for entry in result["packages"]:
                package = entry["package"]
                name, version = package["name"], package["version"]
                if manifest.endswith("requirements.txt"):
                    assert re.search(rf"^{re.escape(name)}=={re.escape(version)}$", text, re.M)
                elif manifest.endswith("gradle.lockfile"):
                    assert f"{name}:{version}=" in text
                else:
                    lock = json.loads(text)
                    assert lock["packages"][f"node_modules/{name}"]["version"] == version
                ids = {v["id"] for v in entry["vulnerabilities"]}
                assert {i for g in entry["groups"] for i in g["ids"]} == ids
                seen.append((tag, name, version, sorted(ids)))
    assert seen == [
        ("r1", "PyYAML", "5.3.1", ["GHSA-8q59-q68h-6hv4", "PYSEC-2021-142"]),
        ("r1", "node-fetch", "2.6.0", ["GHSA-r683-j2x4-v87g", "GHSA-w7rc-rwvf-8q5r"]),
        ("r1", "org.yaml:snakeyaml", "1.33", ["GHSA-mjmj-j48q-9wg2"]),
    ]


def test_dependency_findings_point_at_the_declaring_lines(
    ingested: dict[str, IngestReport],
) -> None:
    deps = {
        f.rule_id: (f.package.name, f.package.fixed_versions, f.context.path, f.context.lines)
        for f in ingested["r1"].findings
        if f.tool == "osv-scanner" and f.package is not None and f.context is not None
    }
    assert deps == {
        "GHSA-8q59-q68h-6hv4": ("PyYAML", ["5.4"], "api/requirements.txt", ["PyYAML==5.3.1"]),
        "GHSA-w7rc-rwvf-8q5r": (
            "node-fetch",
            ["2.6.1"],
            "web/package-lock.json",
            ['        "node-fetch": "2.6.0"'],
        ),
        "GHSA-r683-j2x4-v87g": (
            "node-fetch",
            ["2.6.7"],
            "web/package-lock.json",
            ['        "node-fetch": "2.6.0"'],
        ),
        "GHSA-mjmj-j48q-9wg2": (
            "org.yaml:snakeyaml",
            ["2.0"],
            "worker/gradle.lockfile",
            ["org.yaml:snakeyaml:1.33=runtimeClasspath"],
        ),
    }


def test_findings_fixed_by_the_history_disappear_from_the_reports(
    ingested: dict[str, IngestReport],
) -> None:
    def keys(tag: str) -> set[tuple[str, str, str | None]]:
        return {
            (f.tool, f.rule_id, f.location.path if f.location else None)
            for f in ingested[tag].findings
        }

    gone = keys("r1") - keys("r6")
    assert {
        ("bandit", "B301", "api/imports.py"),  # r5 deletes the function
        ("bandit", "B201", "api/app.py"),  # r6: debug mode from the environment
        ("bandit", "B324", "api/auth.py"),  # r3: scrypt
        ("semgrep", "kotlin-snakeyaml-unsafe-constructor",
         "worker/src/main/kotlin/tinyparcel/worker/LabelJob.kt"),  # r2
        ("osv-scanner", "GHSA-8q59-q68h-6hv4", "api/requirements.txt"),  # r2: PyYAML 5.4
        ("checkov", "CKV2_GHA_1", ".github/workflows/ci.yml"),  # r3: read-only token
        ("gitleaks", "aws-access-token", ".github/workflows/ci.yml"),  # r3: key id from secrets
    } <= gone  # fmt: skip
