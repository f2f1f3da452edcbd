"""A run's base model is found on this machine and checked against the pinned content hash."""

from __future__ import annotations

import shutil

import pytest

from vulntune.models.resolve import resolve_model
from vulntune.runs.base_model import BaseModelChangedError, base_model_dir
from vulntune.runs.manager import TrainingRunManager


def test_the_recorded_directory_is_used_when_it_is_intact(tmp_path):
    run = TrainingRunManager(tmp_path / "runs").create_run("tiny-random")
    assert base_model_dir(run) == resolve_model("tiny-random").path


def test_a_missing_directory_is_resolved_again_from_the_spec(tmp_path):
    elsewhere = resolve_model("tiny-random", cache_dir=tmp_path / "other-machine")
    run = TrainingRunManager(tmp_path / "runs").create_run("tiny-random", resolved=elsewhere)
    shutil.rmtree(tmp_path / "other-machine")
    # The same recipe builds byte-identical files, so the hash matches in the default cache.
    assert base_model_dir(run) == resolve_model("tiny-random").path


def test_a_changed_model_is_refused_naming_both_hashes(tmp_path):
    local = tmp_path / "my-model"
    shutil.copytree(resolve_model("tiny-random").path, local)
    run = TrainingRunManager(tmp_path / "runs").create_run(str(local))
    pinned = run.manifest.base_model.content_hash
    (local / "tokenizer_config.json").write_text("{}")
    with pytest.raises(BaseModelChangedError, match=f"was created with {pinned}; the base"):
        base_model_dir(run)
