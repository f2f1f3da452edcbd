"""Shared fixtures for the native-format parser tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "native"


@pytest.fixture
def load() -> Callable[[str], Any]:
    """Decode one fixture file from tests/findings/fixtures/native."""

    def _load(name: str) -> Any:
        return json.loads((FIXTURES / name).read_text(encoding="utf-8"))

    return _load
