"""Shared fixtures for the native-format parser tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "native"
# The read-only corpus of real scanner output lives next to the repository (../shared).
CORPUS = (Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus").resolve()


@pytest.fixture
def load() -> Callable[[str], Any]:
    """Decode one fixture file from tests/findings/fixtures/native."""

    def _load(name: str) -> Any:
        return json.loads((FIXTURES / name).read_text(encoding="utf-8"))

    return _load


@pytest.fixture
def corpus() -> Path:
    """The webauthn-server-ci corpus; the test is skipped where ../shared is not present."""
    root = CORPUS / "webauthn-server-ci"
    if not root.is_dir():
        pytest.skip(f"corpus not found at {root} (../shared is only present in the dev setup)")
    return root
