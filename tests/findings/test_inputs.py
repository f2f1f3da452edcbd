"""Archives in an ingest: the compressed corpus, a zip of it and the plain folder give the same
findings; members are named ``archive!member`` in errors and skips (issue 7, item 3)."""

from __future__ import annotations

import gzip
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from vulntune.findings.ingest import ingest_paths
from vulntune.findings.inputs import FileError, SkippedFile
from vulntune.io.archives import MIB, ArchiveLimits

from ..corpus_data import CORPUS_DATA, WEBAUTHN

REPORT = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Scanner"}}, "results": [
    {"ruleId": "R1", "message": {"text": "m"},
     "locations": [{"physicalLocation": {"artifactLocation": {"uri": "app.py"},
                                         "region": {"startLine": 3}}}]}]}]}  # fmt: skip


def comparable(report, root: str) -> list[dict]:
    """The findings as dicts, their origin file relative to the corpus, compressed or not."""
    out = []
    for finding in report.findings:
        data = finding.to_dict()
        name = data["origin"]["file"].replace("!", "/").removesuffix(".gz")
        data["origin"]["file"] = name[name.index(root) :]
        out.append(data)
    return sorted(out, key=lambda d: (d["id"], d["origin"]["file"]))


def zip_folder(folder: Path, path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for dirpath, dirnames, filenames in sorted(os.walk(folder)):
            dirnames.sort()
            for name in sorted(filenames):
                file = Path(dirpath) / name
                archive.write(file, file.relative_to(folder.parent).as_posix())
    return path


def test_the_corpus_and_a_zip_of_it_give_the_same_findings(webauthn_corpus, tmp_path):
    folder = ingest_paths([webauthn_corpus])
    zipped = ingest_paths([zip_folder(webauthn_corpus, tmp_path / "artifact.zip")])
    assert len(folder.findings) == 256
    assert comparable(zipped, WEBAUTHN) == comparable(folder, WEBAUTHN)
    assert zipped.duplicates == folder.duplicates
    assert [s.reason for s in zipped.skipped] == [s.reason for s in folder.skipped]
    assert all(s.file.startswith(f"{tmp_path / 'artifact.zip'}!") for s in zipped.skipped)


def test_the_compressed_corpus_in_the_repository_is_read_as_it_is(webauthn_corpus):
    """tests/data/corpus keeps its large reports gzip-compressed: ingest reads them directly."""
    stored = ingest_paths([CORPUS_DATA / WEBAUTHN])
    assert any(name.endswith(".sarif.gz") for name in stored.files)
    assert comparable(stored, WEBAUTHN) == comparable(ingest_paths([webauthn_corpus]), WEBAUTHN)


def test_a_tar_gz_of_the_corpus_gives_the_same_findings(webauthn_corpus, tmp_path):
    path = tmp_path / "artifact.tgz"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(webauthn_corpus, arcname=WEBAUTHN)
    tarred = ingest_paths([path])
    assert comparable(tarred, WEBAUTHN) == comparable(ingest_paths([webauthn_corpus]), WEBAUTHN)


def test_member_errors_and_skips_name_archive_and_member(tmp_path):
    path = tmp_path / "ci.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("semgrep/report.html", "<html><body>report</body></html>")
        archive.writestr("broken/results.sarif", '{"version": "2.1.0", "runs": [')
        archive.writestr("../escape.sarif", json.dumps(REPORT))
        archive.writestr("good/results.sarif.gz", gzip.compress(json.dumps(REPORT).encode()))
    report = ingest_paths([path])
    assert report.files == {f"{path}!good/results.sarif.gz": 1}
    assert report.findings[0].origin.file == f"{path}!good/results.sarif.gz"
    assert report.skipped == [
        SkippedFile(f"{path}!semgrep/report.html", "not a scanner report (not JSON)")
    ]
    assert [e.file for e in report.errors] == [
        f"{path}!broken/results.sarif",
        f"{path}!../escape.sarif",
    ]
    assert report.errors[1].problem == "a '..' path that leaves the archive: refused"


def test_an_archive_of_html_reports_only_reads_nothing(tmp_path):
    path = tmp_path / "zap.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("report_html.html", "<html></html>")
        archive.writestr("report_md.md", "# ZAP report")
    report = ingest_paths([path])
    assert report.files == {} and report.errors == []
    assert [s.file for s in report.skipped] == [f"{path}!report_html.html", f"{path}!report_md.md"]


def test_a_zip_bomb_is_an_error_and_other_inputs_still_count(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.sarif", b" " * (3 * MIB))
    (tmp_path / "ok.sarif").write_text(json.dumps(REPORT))
    report = ingest_paths([bomb, tmp_path / "ok.sarif"], archive_limits=ArchiveLimits.total_mib(2))
    assert len(report.findings) == 1
    (error,) = report.errors
    assert error.file == f"{bomb}!zeros.sarif" and "zip bomb" in error.problem


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\x1f\x8b\x08\x00" + b"\0" * 6, "truncated"),  # a gzip header and nothing else
        (b"PK\x05\x06" + b"\0" * 18, "the archive is empty"),
    ],
)
def test_unreadable_archives_are_one_error_each(tmp_path, content, problem):
    path = tmp_path / "x.bin"
    path.write_bytes(content)
    report = ingest_paths([path])
    assert report.findings == [] and len(report.errors) == 1
    assert report.errors[0].file == str(path) and problem in report.errors[0].problem


def test_a_report_named_zip_is_read_as_a_report(tmp_path):
    path = tmp_path / "results.zip"
    path.write_text(json.dumps(REPORT))
    assert len(ingest_paths([path]).findings) == 1
    (tmp_path / "notes.zip").write_text("not an archive, not a report")
    assert ingest_paths([tmp_path / "notes.zip"]).errors == [
        FileError(str(tmp_path / "notes.zip"), "not a JSON document: it starts with 'n'")
    ]
