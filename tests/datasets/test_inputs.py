"""Inputs of `vulntune datasets`: findings files and scanner reports told apart by content."""

from __future__ import annotations

from pathlib import Path

import pytest

from vulntune.datasets.inputs import DatasetInputError, is_findings_file, load_inputs
from vulntune.demo import reports_dir
from vulntune.findings.ingest import ingest_paths, write_jsonl


def test_findings_files_and_reports_together(tmp_path: Path) -> None:
    findings = tmp_path / "findings.jsonl"
    write_jsonl(ingest_paths([reports_dir("r2")], None, revision="r2").findings, findings)
    assert is_findings_file(findings)
    assert not is_findings_file(reports_dir("r1") / "bandit.json")
    loaded = load_inputs([findings, reports_dir("r1")], None, "r1")
    assert loaded.findings_files == [str(findings)]
    assert len(loaded.findings) == 51 + 64
    assert {f.origin.revision for f in loaded.findings} == {"r1", "r2"}


def test_missing_and_unreadable_inputs_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetInputError, match=r"nothing\.json: no such file"):
        load_inputs([tmp_path / "nothing.json"])
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    with pytest.raises(DatasetInputError, match=r"bad\.json: neither a findings file"):
        load_inputs([bad])


def test_an_empty_findings_file_is_no_error(tmp_path: Path) -> None:
    empty = tmp_path / "clean-scan.jsonl"
    empty.write_text("")
    loaded = load_inputs([empty])
    assert loaded.findings == [] and loaded.findings_files == [str(empty)]
