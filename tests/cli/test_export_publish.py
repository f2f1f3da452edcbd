"""`vulntune export` and `vulntune publish` as a user runs them (usage and failure paths; the
exports themselves are tested in tests/publish)."""

from __future__ import annotations


def test_adapter_only_is_for_hf(cli):
    stderr = cli.usage_error("export", "run", "--to", "x", "--format", "gguf", "--adapter-only")
    assert "--adapter-only applies to --format hf" in stderr


def test_export_needs_a_target(cli):
    assert "--to" in cli.usage_error("export", "run")


def test_export_of_an_untrained_run_names_the_command(cli, tmp_path):
    cli.ok("runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path)
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    stderr = cli.error("export", run_dir, "--to", tmp_path / "out")
    assert "is not complete" in stderr and "vulntune train" in stderr
    assert not (tmp_path / "out").exists()


def test_publish_offline_fails_fast_with_one_line(cli, tmp_path, monkeypatch):
    cli.ok("runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path)
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    stderr = cli.error("publish", run_dir, "--repo-id", "org/model")
    assert "HF_HUB_OFFLINE is set" in stderr
