"""Manifest loading refuses anything it cannot trust, naming the file and the problem;
TrainingRunManager finds runs by id or path and lists broken run directories."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vulntune.runs.manager import TrainingRunManager
from vulntune.runs.manifest import MANIFEST_NAME, ManifestError
from vulntune.runs.run import TrainingRun


@pytest.fixture
def manager(tmp_path: Path) -> TrainingRunManager:
    return TrainingRunManager(tmp_path / "runs")


@pytest.fixture
def run(manager: TrainingRunManager, tiny_config) -> TrainingRun:
    return manager.create_run("tiny-random", tiny_config)


def _rewrite(run: TrainingRun, change: Callable[[dict[str, Any]], object]) -> Path:
    """Edit the manifest JSON in place (as a user or a bad tool might) and return its path."""
    data = json.loads(run.manifest_path.read_text())
    change(data)
    run.manifest_path.write_text(json.dumps(data))
    return run.manifest_path


def _refusal(run_dir: Path) -> str:
    with pytest.raises(ManifestError) as err:
        TrainingRun.load(run_dir)
    return str(err.value)


def test_a_fresh_run_loads_and_its_paths_stay_inside(run):
    loaded = TrainingRun.load(run.dir)
    assert loaded.id == run.id == run.dir.name
    assert loaded.manifest == run.manifest
    for rel in loaded.manifest.artifact_paths().values():
        assert loaded.path(rel) == loaded.dir / rel


@pytest.mark.parametrize(
    ("bad_path", "problem"),
    [
        ("/etc/passwd", "'/etc/passwd' is absolute"),
        ("C:/runs/adapter", "'C:/runs/adapter' is absolute"),
        ("../elsewhere/adapter", "contains '..'"),
        ("stage1/../../adapter", "contains '..'"),
        ("stage1\\adapter", "is not a relative POSIX path"),
        ("./stage1/adapter", "is not a normalised relative path"),
        ("stage1//adapter", "is not a normalised relative path"),
        ("stage1/adapter/", "is not a normalised relative path"),
        ("", "is not a relative POSIX path"),
    ],
)
def test_unsafe_artifact_paths_are_refused(run, bad_path, problem):
    path = _rewrite(run, lambda d: d["stages"]["stage1"].update(adapter=bad_path))
    message = _refusal(run.dir)
    assert message.startswith(f"{path}: invalid manifest: stages.stage1.adapter: ")
    assert problem in message


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("config_file", lambda d: d.update(config_file="/tmp/config.json")),
        ("inference.model", lambda d: d["inference"].update(model="../final")),
        (
            "stages.stage2.train_data.mixed_dataset",
            lambda d: d["stages"]["stage2"]["train_data"].update(mixed_dataset="/x.jsonl"),
        ),
    ],
)
def test_every_artifact_path_is_checked(run, where, change):
    _rewrite(run, change)
    assert f"invalid manifest: {where}: " in _refusal(run.dir)


@pytest.mark.parametrize("version", [3, 0, "2", None, True, 2.0, [2]])
def test_unknown_schema_versions_are_refused(run, version):
    path = _rewrite(run, lambda d: d.update(schema_version=version))
    message = _refusal(run.dir)
    assert message.startswith(f"{path}: unsupported schema_version {version!r}")
    assert "reads versions 1 and 2" in message


def test_new_runs_are_schema_2_with_test_splits_and_evaluation_paths(run):
    data = json.loads(run.manifest_path.read_text())
    assert data["schema_version"] == 2
    assert data["stages"]["stage1"]["test_data"] == "data/stage1-test.jsonl"
    assert data["stages"]["stage2"]["test_data"] == "data/stage2-codefix-test.jsonl"
    assert data["data_stats"] == "data/stats.json"
    assert data["evaluation"] == {
        "results": "evaluation/results.json",
        "predictions": {
            "base": "evaluation/predictions-base.jsonl",
            "stage1": "evaluation/predictions-stage1.jsonl",
            "final": "evaluation/predictions-final.jsonl",
        },
        "report": "report.html",
    }
    assert run.stage1.test_data == run.dir / "data" / "stage1-test.jsonl"
    assert run.evaluation.predictions["final"] == run.dir / "evaluation/predictions-final.jsonl"
    paths = run.manifest.artifact_paths()
    assert paths["evaluation.predictions.stage1"] == "evaluation/predictions-stage1.jsonl"
    assert paths["stage2.test_data"] == "data/stage2-codefix-test.jsonl"


def _as_schema_1(data: dict) -> None:
    """What a run created by vulntune 0.1 (schema 1) has in its manifest."""
    data["schema_version"] = 1
    del data["data_stats"], data["evaluation"]
    del data["stages"]["stage1"]["test_data"], data["stages"]["stage2"]["test_data"]


def test_schema_1_runs_still_load_with_the_documented_evaluation_place(run):
    _rewrite(run, _as_schema_1)
    old = TrainingRun.load(run.dir)
    assert old.manifest.schema_version == 1
    assert old.stage1.test_data is None and old.stage2.test_data is None
    assert old.evaluation.results == run.dir / "evaluation" / "results.json"
    assert old.evaluation.report == run.dir / "report.html"
    assert "stage1.test_data" not in old.manifest.artifact_paths()


def test_schema_1_manifests_cannot_carry_version_2_entries(run):
    def change(data: dict) -> None:
        evaluation = data["evaluation"]
        _as_schema_1(data)
        data["evaluation"] = evaluation

    path = _rewrite(run, change)
    assert _refusal(run.dir) == (
        f"{path}: invalid manifest: schema_version 1 cannot have evaluation"
    )


def test_a_manifest_without_schema_version_says_so(run):
    path = _rewrite(run, lambda d: d.pop("schema_version"))
    assert _refusal(run.dir) == f"{path}: has no schema_version; this is not a vulntune manifest"


def test_truncated_json_is_refused_with_its_position(run):
    text = run.manifest_path.read_text()
    run.manifest_path.write_text(text[: len(text) // 2])
    message = _refusal(run.dir)
    assert message.startswith(f"{run.manifest_path}: not valid JSON (")
    assert "may be truncated" in message


def test_an_empty_manifest_is_refused(run):
    run.manifest_path.write_text("")
    assert _refusal(run.dir).startswith(f"{run.manifest_path}: not valid JSON (Expecting value")


def test_a_manifest_that_is_not_utf8_is_refused(run):
    run.manifest_path.write_bytes(b'{"schema_version": 1, "run_id": "\xff\xfe"}')
    assert _refusal(run.dir).startswith(f"{run.manifest_path}: unreadable: ")


@pytest.mark.parametrize(("value", "kind"), [([1, 2], "list"), ("run", "str"), (1, "int")])
def test_a_manifest_that_is_not_an_object_is_refused(run, value, kind):
    run.manifest_path.write_text(json.dumps(value))
    assert _refusal(run.dir) == f"{run.manifest_path}: a manifest is a JSON object, got {kind}"


def test_missing_keys_are_named_all_at_once(run):
    def drop(d: dict[str, Any]) -> None:
        del d["run_id"]
        del d["stages"]["stage2"]["adapter"]
        del d["stages"]["stage1"]["train_data"]

    path = _rewrite(run, drop)
    message = _refusal(run.dir)
    assert message.startswith(f"{path}: invalid manifest: ")
    for key in ("run_id", "stages.stage1.train_data", "stages.stage2.adapter"):
        assert f"{key}: missing" in message


def test_status_fields_and_other_unknown_keys_are_refused(run):
    _rewrite(run, lambda d: d["stages"]["stage1"].update(status="complete"))
    assert "stages.stage1.status: Extra inputs are not permitted" in _refusal(run.dir)


def test_an_invalid_recorded_config_is_refused(run):
    _rewrite(run, lambda d: d["config"]["lora"].update(rank=0))
    assert "config.lora.rank: Input should be greater than or equal to 1" in _refusal(run.dir)


def test_a_directory_without_manifest_is_not_a_run(tmp_path):
    message = _refusal(tmp_path)
    assert message == (
        f"{tmp_path.resolve()}: not a vulntune run (no {MANIFEST_NAME}); "
        "create one with `vulntune runs create`"
    )


# -- symlinks --------------------------------------------------------------------------


def test_a_symlink_escaping_the_run_is_refused_at_load(run, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (run.dir / "stage1").symlink_to(outside, target_is_directory=True)
    message = _refusal(run.dir)
    assert message.startswith(f"{run.manifest_path}: artifact path 'stage1/")
    assert f"resolves to {outside.resolve()}/" in message
    assert "outside the run directory" in message


def test_a_symlinked_data_file_escaping_the_run_is_refused(run, tmp_path):
    (tmp_path / "secret.jsonl").write_text("{}\n")
    (run.dir / "data").mkdir()
    (run.dir / "data" / "stage1-train.jsonl").symlink_to(tmp_path / "secret.jsonl")
    message = _refusal(run.dir)
    assert "'data/stage1-train.jsonl' (stage1.train_data)" in message
    assert "outside the run directory" in message


def test_a_symlink_staying_inside_the_run_is_accepted(run):
    (run.dir / "elsewhere").mkdir()
    (run.dir / "stage2").symlink_to(run.dir / "elsewhere", target_is_directory=True)
    loaded = TrainingRun.load(run.dir)
    assert loaded.path("stage2/adapter") == run.dir / "stage2/adapter"


def test_a_symlink_created_after_load_is_refused_at_use(run, tmp_path):
    loaded = TrainingRun.load(run.dir)
    outside = tmp_path / "outside"
    outside.mkdir()
    (run.dir / "stage2").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ManifestError, match=r"'stage2/final-model'.*outside the run directory"):
        loaded.path(loaded.manifest.inference.model)
    with pytest.raises(ManifestError, match=r"\(stage2\.adapter\)"):
        loaded.path("stage2/adapter", what="stage2.adapter")
    # A dangling link is judged by where it points, not by whether the target exists.
    (run.dir / "stage1").symlink_to(tmp_path / "not-there")
    with pytest.raises(ManifestError, match="outside the run directory"):
        loaded.path("stage1/adapter")


def test_a_run_reached_through_a_symlinked_runs_dir_loads(run, tmp_path):
    alias = tmp_path / "alias"
    alias.symlink_to(run.dir.parent, target_is_directory=True)
    loaded = TrainingRun.load(alias / run.id)
    assert loaded.dir == run.dir.resolve()


# -- finding runs ----------------------------------------------------------------------


def test_get_by_id_and_by_path(manager, run, monkeypatch):
    assert manager.get(run.id).dir == run.dir
    assert manager.get(run.dir).dir == run.dir
    assert manager.get(str(run.dir)).dir == run.dir
    monkeypatch.chdir(run.dir.parent.parent)
    relative = Path(run.dir.parent.name) / run.id
    assert manager.get(str(relative)).dir == run.dir


def test_get_an_unknown_run_names_it_and_the_runs_dir(manager, run):
    with pytest.raises(ManifestError) as err:
        manager.get("20990101-000000-deadbeef")
    assert str(err.value) == (
        f"no run '20990101-000000-deadbeef': not a run directory and not a run id under "
        f"{manager.runs_dir} (see `vulntune runs list`)"
    )


def test_get_an_absolute_path_that_is_not_a_run(manager, tmp_path):
    with pytest.raises(ManifestError, match="not a vulntune run"):
        manager.get(tmp_path / "nothing-here")


def test_list_runs_reports_broken_directories_instead_of_crashing(manager, tiny_config):
    good = manager.create_run("tiny-random", tiny_config)
    truncated = manager.create_run("tiny-random", tiny_config)
    truncated.manifest_path.write_text(truncated.manifest_path.read_text()[:100])
    newer = manager.create_run("tiny-random", tiny_config)
    _rewrite(newer, lambda d: d.update(schema_version=9))
    (manager.runs_dir / "zz-not-a-run").mkdir()
    (manager.runs_dir / "zz-manifest-is-a-dir" / MANIFEST_NAME).mkdir(parents=True)
    (manager.runs_dir / "notes.txt").write_text("a file, not a run")
    (manager.runs_dir / ".hidden").mkdir()

    listings = manager.list_runs()
    by_name = {item.path.name: item for item in listings}
    assert [item.path.name for item in listings] == sorted(by_name)
    assert set(by_name) == {
        good.id, truncated.id, newer.id, "zz-not-a-run", "zz-manifest-is-a-dir",
    }  # fmt: skip
    assert by_name[good.id].run is not None and by_name[good.id].problem is None
    assert by_name[good.id].run.id == good.id
    for name, expected in (
        (truncated.id, "not valid JSON"),
        (newer.id, "unsupported schema_version 9"),
        ("zz-not-a-run", "not a vulntune run"),
        ("zz-manifest-is-a-dir", "unreadable"),
    ):
        assert by_name[name].run is None
        assert expected in by_name[name].problem


def test_list_runs_of_a_missing_runs_dir_is_empty(tmp_path):
    assert TrainingRunManager(tmp_path / "nowhere").list_runs() == []


def test_default_runs_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("VULNTUNE_RUNS_DIR", str(tmp_path / "elsewhere"))
    assert TrainingRunManager().runs_dir == tmp_path / "elsewhere"
    monkeypatch.delenv("VULNTUNE_RUNS_DIR")
    assert TrainingRunManager().runs_dir == Path("runs")


def test_the_manifest_is_never_rewritten_by_loading(run):
    before = run.manifest_path.read_bytes()
    mtime = os.stat(run.manifest_path).st_mtime_ns
    TrainingRun.load(run.dir).stage_status(1)
    assert run.manifest_path.read_bytes() == before
    assert os.stat(run.manifest_path).st_mtime_ns == mtime
