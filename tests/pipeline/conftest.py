"""The demo repository, built once per session, for the pipeline's tests."""

from __future__ import annotations

import pytest

from vulntune.demo import build_demo_repository
from vulntune.demo.project import DemoRepository


@pytest.fixture(scope="session")
def demo_repo(tmp_path_factory: pytest.TempPathFactory) -> DemoRepository:
    return build_demo_repository(tmp_path_factory.mktemp("demo") / "tinyparcel")
