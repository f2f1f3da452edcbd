"""`vulntune publish`: export a run in Hugging Face layout and push it to a hub repository.

Order matters: the hub must be reachable (``HF_HUB_OFFLINE`` unset and a short request to
the endpoint answered) and a token available before any export work starts, so an offline
machine fails in a second, not after minutes of copying. The token comes from
``huggingface_hub`` itself (``HF_TOKEN`` in the environment, or the user's saved login): it
is handed to the client in memory and never written to disk, logs, messages or the card.
"""

from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vulntune.publish.errors import PublishError
from vulntune.publish.export_hf import check_exportable, export_hf
from vulntune.runs.run import TrainingRun

PROBE_TIMEOUT_S = 5.0
_TRUE = {"1", "on", "yes", "true"}


@dataclass(frozen=True)
class PublishResult:
    """Where the run went: the repository, its URL and the commit that holds the files."""

    repo_id: str
    url: str
    commit: str | None
    files: tuple[str, ...]


def hub_endpoint() -> str:
    """The hub's base URL (``HF_ENDPOINT`` as huggingface_hub reads it)."""
    from huggingface_hub import constants

    return os.environ.get("HF_ENDPOINT", "").rstrip("/") or constants.ENDPOINT.rstrip("/")


def check_hub_reachable(timeout: float = PROBE_TIMEOUT_S) -> None:
    """Raise PublishError when offline mode is on or the hub does not answer in ``timeout``
    seconds. Any HTTP answer counts as reachable; no credentials are sent."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE:
        raise PublishError(
            "cannot publish: HF_HUB_OFFLINE is set (offline mode); unset it on a machine that "
            "can reach the hub, or copy an export made with `vulntune export` there"
        )
    endpoint = hub_endpoint()
    request = urllib.request.Request(f"{endpoint}/api/models?limit=1", method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            pass
    except urllib.error.HTTPError:
        return  # the hub answered
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PublishError(
            f"cannot publish: the hub at {endpoint} is unreachable ({reason}); check the "
            "network, or export with `vulntune export` and upload from elsewhere"
        ) from None


def hub_token() -> str:
    """The user's hub token (environment or saved login); PublishError when there is none."""
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise PublishError(
            "cannot publish: no hub token; set HF_TOKEN or log in with `hf auth login`"
        )
    return token


def publish_run(
    run: TrainingRun,
    repo_id: str,
    *,
    private: bool = False,
    say: Callable[[str], None] = print,
    adapter_only: bool = False,
) -> PublishResult:
    """Check the hub and the token, export ``run`` to a temporary directory and upload it
    to the model repository ``repo_id`` (created when missing, ``private`` if asked)."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    check_hub_reachable()
    token = hub_token()
    check_exportable(run)
    api = HfApi(endpoint=hub_endpoint(), token=token)
    with tempfile.TemporaryDirectory(prefix="vulntune-publish-") as tmp:
        say(f"exporting run {run.id} ...")
        exported = export_hf(run, Path(tmp) / "export", adapter_only=adapter_only)
        say(f"uploading {len(exported.files)} file(s) to {repo_id} ...")
        try:
            repo = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
            commit = api.upload_folder(
                folder_path=exported.path,
                repo_id=repo_id,
                repo_type="model",
                commit_message=f"vulntune run {run.id}",
            )
        except HfHubHTTPError as exc:
            raise PublishError(
                f"{repo_id}: the hub refused the upload: {_first_line(exc)}"
            ) from None
    return PublishResult(
        repo_id=repo_id,
        url=str(getattr(repo, "url", "") or f"{hub_endpoint()}/{repo_id}"),
        commit=getattr(commit, "oid", None),
        files=exported.files,
    )


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
