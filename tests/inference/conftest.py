"""Fixtures of the inference tests: tiny-random loaded once for generation."""

from __future__ import annotations

from pathlib import Path

import pytest

from vulntune.inference.generate import GenerationSettings, Generator
from vulntune.models.resolve import ResolvedModel, resolve_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> ResolvedModel:
    return resolve_model("tiny-random", cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def tiny_generator(tiny_model: ResolvedModel) -> Generator:
    settings = GenerationSettings(batch_size=4, max_new_tokens={"analysis": 48, "codefix": 24})
    return Generator(Path(tiny_model.path), "fallback-v1", settings)


def finding_prompts(n: int) -> list[str]:
    """Analysis prompts of different lengths, in the builtin layout."""
    words = "query cursor token header cookie path file version package request".split()
    return [
        "Analyze this security finding.\nTool: semgrep\nRule: python.sql-injection\n"
        f"Message: {' '.join(words[: 1 + (i * 3) % len(words)])} reaches a query ({i})\n"
        "Code:\n" + "x = 1\n" * (i % 4)
        for i in range(n)
    ]
