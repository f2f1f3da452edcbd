"""Which revision each report of `vulntune run` belongs to."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vulntune.demo.project import reports_dir
from vulntune.pipeline.inputs import (
    PipelineInputError,
    ReportInput,
    is_git_repository,
    parse_report_arguments,
)


def test_a_folder_of_revision_folders_gives_each_its_revision_and_commit(demo_repo):
    reports = reports_dir("r1").parent
    inputs = parse_report_arguments([str(reports)], demo_repo.path)
    assert [(i.path.name, i.revision) for i in inputs] == [(t, t) for t in demo_repo.tags]
    assert [i.commit for i in inputs] == [r.sha for r in demo_repo.revisions]


def test_rev_equals_path_names_the_revision_of_one_report(demo_repo):
    path = reports_dir("r2") / "bandit.json"
    (one,) = parse_report_arguments([f"r2={path}"], demo_repo.path)
    assert one == ReportInput(path, "r2", demo_repo.revision("r2").sha)
    # A commit id works as well as a tag; without a git source root it is kept as given.
    sha = demo_repo.revision("r3").sha
    (two,) = parse_report_arguments([f"{sha}={path}"], demo_repo.path)
    assert two.commit == sha
    (three,) = parse_report_arguments([f"r2={path}"], None)
    assert three == ReportInput(path, "r2", None)


def test_a_plain_file_or_folder_has_no_revision_here(demo_repo, tmp_path):
    path = reports_dir("r1") / "semgrep.sarif"
    assert parse_report_arguments([str(path)], demo_repo.path) == [ReportInput(path)]
    # Without a git source root, a folder of folders is an ordinary folder.
    reports = reports_dir("r1").parent
    assert parse_report_arguments([str(reports)], None) == [ReportInput(reports)]
    # Subfolders that are not all revisions: an ordinary folder too.
    mixed = tmp_path / "ci"
    shutil.copytree(reports_dir("r1"), mixed / "r1")
    (mixed / "nightly").mkdir()
    assert parse_report_arguments([str(mixed)], demo_repo.path) == [ReportInput(mixed)]


def test_a_path_with_an_equals_sign_that_exists_is_a_path(tmp_path):
    odd = tmp_path / "a=b.json"
    odd.write_text("{}")
    assert parse_report_arguments([str(odd)], None) == [ReportInput(odd)]


@pytest.mark.parametrize(
    ("argument", "problem"),
    [
        ("missing.json", "missing.json: no such report file or folder"),
        ("r1=missing.json", "missing.json: no such report file or folder"),
        ("=x.json", "expected REV=PATH with both parts given"),
        ("r1=", "expected REV=PATH with both parts given"),
    ],
)
def test_bad_arguments_are_refused_by_name(argument, problem, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PipelineInputError, match=problem):
        parse_report_arguments([argument], None)


def test_no_reports_and_unknown_revisions_are_refused(demo_repo):
    with pytest.raises(PipelineInputError, match="no scanner reports given"):
        parse_report_arguments([], demo_repo.path)
    path = reports_dir("r1")
    with pytest.raises(PipelineInputError, match="revision 'r9' is not a commit, tag or branch"):
        parse_report_arguments([f"r9={path}"], demo_repo.path)


def test_git_repository_means_the_top_of_a_working_tree(demo_repo, tmp_path):
    assert is_git_repository(demo_repo.path)
    assert not is_git_repository(demo_repo.path / "api")  # inside one, not its top
    assert not is_git_repository(tmp_path)
    assert not is_git_repository(None)
    assert not is_git_repository(Path(tmp_path / "absent"))
