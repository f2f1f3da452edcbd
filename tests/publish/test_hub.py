"""publish: fails fast offline, before any export work; the token never reaches a file."""

from __future__ import annotations

import socket

import pytest

from vulntune.publish import hub
from vulntune.publish.errors import PublishError

TOKEN = "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0123"


@pytest.fixture
def no_export(monkeypatch):
    """Any export work makes the test fail."""

    def forbidden(*args, **kwargs):
        raise AssertionError("export work started")

    monkeypatch.setattr(hub, "export_hf", forbidden)
    monkeypatch.setattr(hub, "check_exportable", forbidden)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: connections refused


def test_offline_mode_fails_before_any_work(monkeypatch, no_export, trained_run):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PublishError, match="HF_HUB_OFFLINE is set"):
        hub.publish_run(trained_run, "org/model", say=lambda _m: None)


def test_an_unreachable_hub_fails_before_any_work(monkeypatch, no_export, trained_run):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(PublishError, match="unreachable"):
        hub.publish_run(trained_run, "org/model", say=lambda _m: None)


def test_no_token_is_a_clear_error(monkeypatch, no_export, trained_run):
    monkeypatch.setattr(hub, "check_hub_reachable", lambda: None)
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    with pytest.raises(PublishError, match="HF_TOKEN"):
        hub.publish_run(trained_run, "org/model", say=lambda _m: None)


def test_the_upload_carries_the_export_and_never_the_token(monkeypatch, trained_run, capsys):
    import huggingface_hub

    monkeypatch.setattr(hub, "check_hub_reachable", lambda: None)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: TOKEN)
    uploaded: dict[str, bytes] = {}
    calls = []

    class FakeApi:
        def __init__(self, endpoint, token):
            assert token == TOKEN  # handed over in memory
            calls.append("init")

        def create_repo(self, repo_id, private, exist_ok, repo_type):
            calls.append(("create", repo_id, private))
            return type("Url", (), {"url": f"https://hub.example/{repo_id}"})()

        def upload_folder(self, folder_path, repo_id, repo_type, commit_message):
            for path in folder_path.rglob("*"):
                if path.is_file():
                    uploaded[str(path.relative_to(folder_path))] = path.read_bytes()
            return type("Commit", (), {"oid": "abc123"})()

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    messages = []
    result = hub.publish_run(trained_run, "org/model", private=True, say=messages.append)
    assert calls == ["init", ("create", "org/model", True)]
    assert result.commit == "abc123" and result.url == "https://hub.example/org/model"
    assert {"README.md", "model.safetensors", "config.json"} <= set(uploaded)
    assert all(TOKEN.encode() not in content for content in uploaded.values())
    assert TOKEN not in " ".join(messages) + capsys.readouterr().out
    assert not any(
        TOKEN.encode() in p.read_bytes() for p in trained_run.dir.rglob("*") if p.is_file()
    )
