"""Ingest orchestration: folder walks, per-file errors, de-duplication, atomic JSONL output."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from vulntune.findings.formats import FindingsInputError
from vulntune.findings.ingest import (
    IngestError,
    ingest_paths,
    merge_duplicates,
    write_jsonl,
)
from vulntune.findings.record import Finding, FindingKind, Location, Origin, Severity

SEMGREP = "semgrep-results-workflow_dispatch-392"  # a folder of the webauthn corpus


def make(id_: str, **kw) -> Finding:
    base = dict(
        id=id_,
        tool="semgrep",
        rule_id="r1",
        severity=Severity.HIGH,
        message="m",
        kind=FindingKind.CODE,
        origin=Origin(file="a.json", format="semgrep-json", index=0),
        # A place: findings without one are also told apart by message (findings.dedup).
        location=Location(path="app.py", start_line=1),
    )
    base.update(kw)
    return Finding(**base)


def fake_parser(table: dict[str, list[Finding] | Exception]):
    """A parse function reading from ``table`` by file name (the orchestration alone)."""

    def parse(path: Path, display: str):
        entry = table[path.name]
        if isinstance(entry, Exception):
            raise entry
        yield from entry

    return parse


# --------------------------------------------------------------------------------------------
# The real corpus, end to end
# --------------------------------------------------------------------------------------------


def test_corpus_folder_end_to_end_exact_counts(scanner_corpus):
    report = ingest_paths([scanner_corpus])
    assert len(report.findings) == 256
    # Semgrep SARIF+JSON (107) and the two Trivy files repeating the two image runs of the
    # third (44 + 40). The same jar in the third's two images is two findings: a Trivy id
    # names the image it was found in.
    assert report.duplicates == 191
    assert len(report.files) == 10 and report.errors == []
    assert sorted(Path(s.file).name for s in report.skipped) == [
        "report_html.html", "report_html.html", "report_md.md", "report_md.md",
    ]  # fmt: skip
    assert {s.reason for s in report.skipped} == {"not a scanner report (not JSON)"}
    assert report.by_tool() == Counter(
        {"semgrep": 107, "trivy": 84, "osv-scanner": 46, "checkov": 10, "zap": 9}
    )
    assert report.by_severity() == Counter(
        {Severity.HIGH: 117, Severity.MEDIUM: 72, Severity.LOW: 61, Severity.INFO: 6}
    )
    gitleaks = next(f for f in report.files if "gitleaks-results.sarif" in f)
    assert report.files[gitleaks] == 0  # read fine, no leaks: still counts as read
    assert len({f.id for f in report.findings}) == 256


def test_semgrep_sarif_and_native_json_of_one_scan_merge_to_107(webauthn_corpus):
    semgrep = webauthn_corpus / SEMGREP
    sarif_only = ingest_paths([semgrep / "semgrep.sarif"])
    json_only = ingest_paths([semgrep / "semgrep-results.json"])
    both = ingest_paths([semgrep])
    assert len(sarif_only.findings) == len(json_only.findings) == 107
    assert {f.id for f in sarif_only.findings} == {f.id for f in json_only.findings}
    assert len(both.findings) == 107 and both.duplicates == 107
    merged = both.findings[0]
    # The SARIF record is the richer one (snippet, rule text); the JSON adds its tags.
    assert merged.origin.format == "sarif" and merged.snippet and merged.rule_help
    json_first = json_only.findings[0]
    assert set(json_first.tags) <= set(merged.tags)
    # Same result given twice (folder + file inside it) is read once.
    twice = ingest_paths([semgrep, semgrep / "semgrep.sarif"])
    assert len(twice.files) == 2 and len(twice.findings) == 107


def test_unreadable_files_are_reported_and_the_others_still_go_through(tmp_path, webauthn_corpus):
    shutil.copy(webauthn_corpus / SEMGREP / "semgrep.sarif", tmp_path / "good.sarif")
    (tmp_path / "broken.json").write_text('{"runs": [{"tool": ')
    (tmp_path / "other.json").write_text('{"hello": "world"}')
    (tmp_path / "empty.sarif").write_text("")
    (tmp_path / "notes.md").write_text("# CI notes\n")
    report = ingest_paths([tmp_path, tmp_path / "missing.sarif"])
    assert len(report.findings) == 107 and list(report.files) == [str(tmp_path / "good.sarif")]
    errors = {Path(e.file).name: e.problem for e in report.errors}
    assert set(errors) == {"broken.json", "other.json", "missing.sarif"}
    assert "No such file" in errors["missing.sarif"]
    assert "not a recognised scanner report" in errors["other.json"]
    assert {Path(s.file).name: s.reason for s in report.skipped} == {
        "empty.sarif": "empty file", "notes.md": "not a scanner report (not JSON)",
    }  # fmt: skip


def test_explicitly_named_non_reports_are_errors_not_skips(tmp_path):
    (tmp_path / "report.html").write_text("<html></html>")
    report = ingest_paths([tmp_path / "report.html"])
    assert report.skipped == [] and len(report.errors) == 1
    assert report.errors[0].file == str(tmp_path / "report.html")
    assert "not a JSON document" in report.errors[0].problem


# --------------------------------------------------------------------------------------------
# Orchestration with a stand-in parser
# --------------------------------------------------------------------------------------------


def test_walk_is_sorted_recursive_and_skips_hidden_and_symlinked_folders(tmp_path):
    for rel in ["b/2.json", "a/1.json", "a/c/3.json", ".git/x.json", "a/.hidden.json", "z.json"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    (tmp_path / "linked").symlink_to(tmp_path / "b")
    seen: list[str] = []

    def parse(path: Path, display: str):
        seen.append(os.path.relpath(display, tmp_path))
        return iter(())

    report = ingest_paths([tmp_path], parse=parse)
    assert seen == ["a/1.json", "a/c/3.json", "b/2.json", "z.json"]
    assert report.errors == [] and len(report.files) == 4


def test_duplicates_are_merged_across_files_in_first_seen_order(tmp_path):
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text("{}")
    a = [make("1", snippet=None, tags=["x"]), make("2")]
    b = [make("1", snippet="code()", tags=["y", "x"], cwe_ids=["CWE-89"]), make("3")]
    parse = fake_parser({"a.json": a, "b.json": b})
    report = ingest_paths([tmp_path / "b.json", tmp_path / "a.json"], parse=parse)
    assert [f.id for f in report.findings] == ["1", "3", "2"]
    assert report.duplicates == 1
    assert report.files == {str(tmp_path / "b.json"): 2, str(tmp_path / "a.json"): 2}
    first = report.findings[0]
    assert first.snippet == "code()" and first.tags == ["y", "x"] and first.cwe_ids == ["CWE-89"]


def test_partial_file_contributes_nothing(tmp_path):
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "b.json").write_text("{}")

    def parse(path: Path, display: str):
        yield make(f"{path.name}-1")
        if path.name == "b.json":
            raise FindingsInputError(display, "truncated at byte 10")
        yield make(f"{path.name}-2")

    report = ingest_paths([tmp_path], parse=parse)
    assert [f.id for f in report.findings] == ["a.json-1", "a.json-2"]
    assert [(Path(e.file).name, e.problem) for e in report.errors] == [
        ("b.json", "truncated at byte 10")
    ]


def test_exclude_leaves_out_the_previous_output(tmp_path):
    (tmp_path / "findings.jsonl").write_text('{"id": "x"}\n')
    (tmp_path / "r.json").write_text("{}")
    report = ingest_paths([tmp_path], exclude=[tmp_path / "findings.jsonl"],
                          parse=fake_parser({"r.json": [make("1")]}))  # fmt: skip
    assert list(report.files) == [str(tmp_path / "r.json")] and report.errors == []


def test_source_root_must_be_a_directory(tmp_path):
    with pytest.raises(IngestError, match="not a directory"):
        ingest_paths([tmp_path], source_root=tmp_path / "nope")


def test_context_problems_are_collected_once_per_finding(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "r.json").write_text("{}")
    outside = make("1", location=Location(path="/etc/passwd", start_line=1))
    parse = fake_parser({"r.json": [outside, outside]})
    report = ingest_paths([tmp_path / "r.json"], source_root=tmp_path / "src", parse=parse)
    assert [(p.finding_id, p.kind) for p in report.context_problems] == [("1", "outside-root")]
    assert report.findings[0].context is None and report.duplicates == 1


def test_secret_findings_redact_other_findings_too(tmp_path):
    secret = "Quokka-Lantern-Meridian-5150"
    (tmp_path / "r.json").write_text("{}")
    leak = make("s", tool="gitleaks", kind=FindingKind.SECRET, snippet=f"KEY={secret}")
    other = make("o", message=f"value {secret} is hard-coded")
    report = ingest_paths([tmp_path / "r.json"], parse=fake_parser({"r.json": [other, leak]}))
    assert secret not in "".join(f.to_json() for f in report.findings)
    assert all(f.redacted for f in report.findings)


# --------------------------------------------------------------------------------------------
# Merging and writing
# --------------------------------------------------------------------------------------------


def test_merge_prefers_the_richer_record_and_fills_gaps():
    poor = make("1", tags=["a"], origin=Origin("x.json", "semgrep-json", 3))
    rich = make("1", tags=["b", "a"], snippet="s()", rule_help="h", cwe_ids=["CWE-1"],
                origin=Origin("x.sarif", "sarif", 0))  # fmt: skip
    merged = merge_duplicates(poor, rich)
    assert merged.origin.format == "sarif" and merged.snippet == "s()"
    assert merged.tags == ["b", "a"] and merged.cwe_ids == ["CWE-1"]
    poor.help_uri = "https://x"
    assert merge_duplicates(poor, rich).help_uri == "https://x"
    assert merge_duplicates(rich, rich) is rich


def test_write_jsonl_round_trips_and_is_atomic(tmp_path):
    out = tmp_path / "findings.jsonl"
    findings = [make("1", message="ünïcode \ud83d lone surrogate"), make("2")]
    assert write_jsonl(findings, out) == 2
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [Finding.from_dict(json.loads(line)) for line in lines] == findings

    def exploding():
        yield make("3")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_jsonl(exploding(), out)
    assert out.read_text(encoding="utf-8").splitlines() == lines  # old file intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.jsonl"]  # no temp left


def test_write_jsonl_errors_name_the_output(tmp_path):
    (tmp_path / "adir").mkdir()
    with pytest.raises(IngestError, match=r"adir: cannot write the findings"):
        write_jsonl([make("1")], tmp_path / "adir")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(IngestError, match=r"afile/out.jsonl: cannot write the findings"):
        write_jsonl([make("1")], tmp_path / "afile" / "out.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile"]


def test_write_jsonl_creates_missing_parent_folders(tmp_path):
    assert write_jsonl([make("1")], tmp_path / "no" / "such" / "findings.jsonl") == 1
    assert (tmp_path / "no" / "such" / "findings.jsonl").read_text().count("\n") == 1


def _sarif_with_provenance(path: Path, revision: str | None) -> Path:
    run: dict = {
        "tool": {"driver": {"name": "Semgrep OSS", "rules": [{"id": "r1"}]}},
        "results": [
            {
                "ruleId": "r1",
                "message": {"text": "bad"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": "app.py"},
                            "region": {"startLine": 3},
                        }
                    }
                ],
            }
        ],
    }
    if revision is not None:
        run["versionControlProvenance"] = [
            {"repositoryUri": "https://example.invalid/repo.git"},  # no revisionId: skipped
            {"repositoryUri": "https://example.invalid/repo.git", "revisionId": revision},
        ]
    path.write_text(json.dumps({"version": "2.1.0", "runs": [run]}))
    return path


def test_the_revision_comes_from_sarif_provenance_or_the_caller(tmp_path):
    report = _sarif_with_provenance(tmp_path / "a.sarif", "0123abcd")
    assert [f.origin.revision for f in ingest_paths([report]).findings] == ["0123abcd"]
    overridden = ingest_paths([report], revision="v2").findings
    assert [f.origin.revision for f in overridden] == ["v2"]
    plain = _sarif_with_provenance(tmp_path / "b.sarif", None)
    assert [f.origin.revision for f in ingest_paths([plain]).findings] == [None]


def test_findings_of_different_revisions_are_never_merged(tmp_path):
    (tmp_path / "r1").mkdir()
    (tmp_path / "r2").mkdir()
    old = _sarif_with_provenance(tmp_path / "r1" / "s.sarif", "r1sha")
    new = _sarif_with_provenance(tmp_path / "r2" / "s.sarif", "r2sha")
    report = ingest_paths([old, new])
    assert report.duplicates == 0
    assert sorted(f.origin.revision for f in report.findings) == ["r1sha", "r2sha"]
    assert len({f.id for f in report.findings}) == 1  # the same weakness, seen twice
    # The same revision twice is one finding, as before.
    assert len(ingest_paths([old, old.parent]).findings) == 1
