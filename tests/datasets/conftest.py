"""Fixtures of the datasets tests: the real CWE catalogue, loaded once per session."""

from __future__ import annotations

import pytest

from vulntune.datasets.cwe_catalogue import CweCatalogue


@pytest.fixture(scope="session")
def catalogue() -> CweCatalogue:
    """The catalogue the cwe2 dependency installs (CWE 4.14); parsed once per session into
    the session's isolated cache (tests/conftest.py sets $VULNTUNE_CACHE)."""
    return CweCatalogue.load()
