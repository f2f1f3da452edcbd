"""The demo repository: built from package data, the same commits everywhere, and a history
whose commits do what their messages say."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from vulntune.demo import project
from vulntune.demo.project import DemoProjectError, DemoRepository, build_demo_repository
from vulntune.errors import VulntuneError

# Pinned: the commit ids depend only on the files, messages, identities and dates stored in
# the package. A change here means the demo history changed (then regenerate the reports).
EXPECTED_SHAS = {
    "r1": "9182c25db2a3d2c3213fe088e9647489ecf1ebf3",
    "r2": "537bd35010121500b9fd89eef3ec0fc72ff8d5c4",
    "r3": "71eda9c9b2815b9f1dd14f77fbab1f091a4af30e",
    "r4": "542cc52a62f58b689e5dd3bc823a9bfb9f92dbae",
    "r5": "7fbcea024405c40145b799d2cc780df0658f3660",
    "r6": "90e9e54e6b500cc31386f90ebb2e7b74eb6294c1",
}

R1_FILES = {
    ".github/workflows/ci.yml",
    "README.md",
    "api/Dockerfile",
    "api/app.py",
    "api/auth.py",
    "api/db.py",
    "api/imports.py",
    "api/requirements.txt",
    "api/settings.py",
    "docs/snapshots.md",
    "infra/main.tf",
    "web/Dockerfile",
    "web/lib/carrier.js",
    "web/lib/thumbnails.js",
    "web/package-lock.json",
    "web/package.json",
    "web/server.js",
    "worker/build.gradle.kts",
    "worker/gradle.lockfile",
    "worker/settings.gradle.kts",
    "worker/src/main/kotlin/tinyparcel/worker/LabelJob.kt",
    "worker/src/main/kotlin/tinyparcel/worker/LabelStore.kt",
    "worker/src/main/kotlin/tinyparcel/worker/Main.kt",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def show(repo: Path, tag: str, path: str) -> str:
    return git(repo, "show", f"{tag}:{path}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRepository:
    return build_demo_repository(tmp_path_factory.mktemp("demo") / "tinyparcel")


def test_six_tagged_revisions_with_pinned_commit_ids(demo: DemoRepository) -> None:
    assert demo.tags == ("r1", "r2", "r3", "r4", "r5", "r6")
    assert {r.tag: r.sha for r in demo.revisions} == EXPECTED_SHAS
    for revision in demo.revisions:
        assert git(demo.path, "rev-parse", f"{revision.tag}^{{commit}}").strip() == revision.sha
    assert git(demo.path, "rev-parse", "HEAD").strip() == EXPECTED_SHAS["r6"]
    assert git(demo.path, "status", "--porcelain") == ""


def test_building_twice_gives_the_same_commits(demo: DemoRepository, tmp_path: Path) -> None:
    again = build_demo_repository(tmp_path / "again")
    assert again.revisions == demo.revisions


def test_the_users_git_configuration_does_not_leak_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[core]\n\tautocrlf = true\n[user]\n\tname = Someone Else\n[commit]\n\tgpgsign = true\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Someone Else")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2001-01-01T00:00:00Z")
    built = build_demo_repository(tmp_path / "repo")
    assert {r.tag: r.sha for r in built.revisions} == EXPECTED_SHAS


def test_revisions_carry_messages_authors_dates_and_reports(demo: DemoRepository) -> None:
    first = demo.revision("r1")
    assert first.subject == ("Initial import: parcel API, web front end, label worker, deployment")
    assert first.message.endswith("\n") and "security group" in first.message
    assert first.reports is not None and (first.reports / "bandit.json").is_file()
    log = git(demo.path, "log", "--format=%an <%ae>|%cn|%aI|%cI", "r3", "-1").strip()
    assert log == (
        "Marek Olsen <marek@tinyparcel.example>|Marek Olsen|"
        "2025-03-18T11:05:00+01:00|2025-03-18T11:05:00+01:00"
    )
    with pytest.raises(DemoProjectError, match="no revision 'r9'"):
        demo.revision("r9")


def test_each_revision_has_the_expected_files(demo: DemoRepository) -> None:
    def files(tag: str) -> set[str]:
        return set(git(demo.path, "ls-tree", "-r", "--name-only", tag).split())

    assert files("r1") == R1_FILES
    for tag in ("r2", "r3", "r4"):
        assert files(tag) == R1_FILES
    # r5 deletes the snapshot documentation together with the endpoint.
    assert files("r5") == files("r6") == R1_FILES - {"docs/snapshots.md"}
    changed = {
        "r2": {
            ".github/workflows/ci.yml",
            "api/auth.py",
            "api/db.py",
            "api/imports.py",
            "api/requirements.txt",
            "web/server.js",
            "worker/build.gradle.kts",
            "worker/gradle.lockfile",
            "worker/src/main/kotlin/tinyparcel/worker/LabelJob.kt",
            "worker/src/main/kotlin/tinyparcel/worker/LabelStore.kt",
        },
        "r3": {
            ".github/workflows/ci.yml",
            "api/Dockerfile",
            "api/app.py",
            "api/auth.py",
            "web/lib/carrier.js",
            "web/lib/thumbnails.js",
            "web/package-lock.json",
            "web/package.json",
        },
        "r4": {"api/app.py"},
        "r5": {"api/app.py", "api/imports.py", "docs/snapshots.md"},
        "r6": {"api/app.py"},
    }
    for tag, paths in changed.items():
        previous = f"r{int(tag[1:]) - 1}"
        assert set(git(demo.path, "diff", "--name-only", previous, tag).split()) == paths, tag


def test_the_history_really_fixes_findings(demo: DemoRepository) -> None:
    # r2: parameterised query, safe YAML loading, dependency bumps to the fixed versions
    assert "WHERE id = '{parcel_id}'" in show(demo.path, "r1", "api/db.py")
    assert '"SELECT * FROM parcels WHERE id = ?", (parcel_id,)' in show(
        demo.path, "r2", "api/db.py"
    )
    assert "yaml.safe_load(data)" in show(demo.path, "r2", "api/imports.py")
    assert "PyYAML==5.3.1" in show(demo.path, "r1", "api/requirements.txt")
    assert "PyYAML==5.4\n" in show(demo.path, "r2", "api/requirements.txt")
    assert "org.yaml:snakeyaml:2.0=" in show(demo.path, "r2", "worker/gradle.lockfile")
    assert "secrets.token_urlsafe(32)" in show(demo.path, "r2", "api/auth.py")
    # r3: no shell, argument arrays, TLS verified, node-fetch 2.6.7 in manifest and lock file
    assert 'subprocess.run(["lp", "-d", printer, path], check=True)' in show(
        demo.path, "r3", "api/app.py"
    )
    assert 'execFile("convert", [source,' in show(demo.path, "r3", "web/lib/thumbnails.js")
    assert (
        "verify=False"
        not in show(demo.path, "r3", "api/app.py")
        .split("def track")[1]
        .split("def test_webhook")[0]
    )
    assert '"node-fetch": "2.6.7"' in show(demo.path, "r3", "web/package.json")
    assert '"version": "2.6.7"' in show(demo.path, "r3", "web/package-lock.json")
    assert "USER tinyparcel" in show(demo.path, "r3", "api/Dockerfile")


def test_the_logging_commit_only_moves_flagged_code(demo: DemoRepository) -> None:
    before = show(demo.path, "r3", "api/app.py").splitlines()
    after = show(demo.path, "r4", "api/app.py").splitlines()
    diff = git(demo.path, "diff", "-U0", "r3", "r4", "--", "api/app.py").splitlines()
    removed = [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]
    assert removed == ["from flask import Flask, abort, jsonify, request, send_from_directory"]
    flagged = 'requests.post(target, json={"event": "test"}, verify=False)'
    assert after.index("    " + flagged) > before.index("    " + flagged)


def test_one_commit_fixes_by_deleting_a_whole_function(demo: DemoRepository) -> None:
    assert "def restore_snapshot(blob):" in show(demo.path, "r4", "api/imports.py")
    r5 = show(demo.path, "r5", "api/imports.py")
    assert "restore_snapshot" not in r5 and "pickle" not in r5
    assert "restore_snapshot" not in show(demo.path, "r5", "api/app.py")


def test_one_commit_fixes_one_finding_and_changes_unrelated_lines(demo: DemoRepository) -> None:
    diff = git(demo.path, "diff", "-U0", "r5", "r6").splitlines()
    added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    assert '        debug=os.environ.get("FLASK_DEBUG") == "1",' in added
    assert '@app.get("/health")' in added  # unrelated to the finding
    assert '        host="0.0.0.0",' in show(demo.path, "r6", "api/app.py")  # still flagged


def test_stored_hidden_paths_are_restored(demo: DemoRepository) -> None:
    assert (demo.path / ".github/workflows/ci.yml").is_file()
    assert not (demo.path / "dot-github").exists()


def test_destination_must_be_new_or_empty(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file.txt").write_text("x")
    with pytest.raises(DemoProjectError, match="needs a new or empty folder"):
        build_demo_repository(tmp_path / "taken")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(DemoProjectError, match="a-file"):
        build_demo_repository(tmp_path / "a-file")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert build_demo_repository(empty).tags[-1] == "r6"


def test_missing_git_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(project.shutil, "which", lambda name: None)
    with pytest.raises(VulntuneError, match="git is not installed"):
        build_demo_repository(tmp_path / "repo")
    assert not (tmp_path / "repo").exists()


def test_failing_git_names_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "git"
    fake.write_text("#!/bin/sh\necho 'fatal: simulated failure' >&2\nexit 128\n")
    fake.chmod(0o755)
    monkeypatch.setattr(project.shutil, "which", lambda name: str(fake))
    with pytest.raises(DemoProjectError, match=r"git init failed in .*: fatal: simulated failure"):
        build_demo_repository(tmp_path / "repo")


def test_bad_commit_descriptions_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "01-bad"
    folder.mkdir()
    (folder / "commit.toml").write_text('message = "m"\nauthor = "nobody"\ndate = "2025-01-01"\n')
    with pytest.raises(DemoProjectError, match="author 'nobody' is not 'Name <email>'"):
        project._read_commit(folder)
    (folder / "commit.toml").write_text(
        'message = "m"\nauthor = "A <a@example.test>"\ndate = "2025-01-01T10:00:00"\n'
    )
    with pytest.raises(DemoProjectError, match="not ISO 8601 with a UTC offset"):
        project._read_commit(folder)
    (folder / "commit.toml").write_text('message = "m"\n')
    with pytest.raises(DemoProjectError, match="missing key 'author'"):
        project._read_commit(folder)


def test_deleting_a_file_that_is_not_there_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DemoProjectError, match=r"docs/none\.md: cannot delete"):
        project._apply(tmp_path / "no-files", tmp_path, ("docs/none.md",))


def test_byte_code_an_installer_writes_next_to_the_data_is_not_copied(tmp_path: Path) -> None:
    files = tmp_path / "files"
    (files / "api" / "__pycache__").mkdir(parents=True)
    (files / "api" / "app.py").write_text("print('x')\n")
    (files / "api" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\x00")
    (files / "dot-github").mkdir()
    (files / "dot-github" / "ci.yml").write_text("on: push\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    project._apply(files, tree, ())
    copied = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
    assert copied == [".github/ci.yml", "api/app.py"]
