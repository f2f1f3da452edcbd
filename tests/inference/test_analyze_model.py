"""The completers `analyze` asks through, and how the output format is chosen."""

from __future__ import annotations

from pathlib import Path

from vulntune.inference import generate
from vulntune.inference.analyze_model import (
    BATCH_SIZE,
    MAX_NEW_TOKENS,
    batched_completer,
    default_completer,
    one_by_one_completer,
)
from vulntune.inference.analyze_output import format_for_path
from vulntune.inference.generate import GenerationSettings

from .scripted import FAKE_MODEL


def test_batched_completer_hands_whole_lists_to_the_generator(monkeypatch):
    calls = []

    class FakeGenerator:
        def generate(self, prompts, task):
            calls.append((list(prompts), task))
            return [f"{task}:{p}" for p in prompts]

    loaded = []
    monkeypatch.setattr(
        generate,
        "load_generator",
        lambda path, fmt, settings: loaded.append((path, fmt, settings)) or FakeGenerator(),
    )
    completer = batched_completer(FAKE_MODEL)
    assert loaded == [
        (
            FAKE_MODEL.path,
            FAKE_MODEL.prompt_format,
            GenerationSettings(batch_size=BATCH_SIZE, max_new_tokens=MAX_NEW_TOKENS),
        )
    ]
    assert completer(("a", "b", "c"), "analysis") == ["analysis:a", "analysis:b", "analysis:c"]
    assert calls == [(["a", "b", "c"], "analysis")]


def test_analyze_asks_the_batched_generator_by_default(monkeypatch):
    monkeypatch.setattr(generate, "load_generator", lambda path, fmt, settings: "batched")
    completer = default_completer(FAKE_MODEL)
    assert completer.__qualname__.startswith("batched_completer")


def test_one_by_one_completer_asks_the_same_generator_one_prompt_at_a_time(monkeypatch):
    seen = []

    class FakeGenerator:
        def generate(self, prompts, task, batch_size=None):
            seen.append((list(prompts), task, batch_size))
            return [p.upper() for p in prompts]

    loaded = []
    monkeypatch.setattr(
        generate,
        "load_generator",
        lambda path, fmt, settings: loaded.append(settings) or FakeGenerator(),
    )
    completer = one_by_one_completer(FAKE_MODEL)
    assert loaded == [GenerationSettings(max_new_tokens=MAX_NEW_TOKENS)]
    assert completer(["x", "y"], "codefix") == ["X", "Y"]
    assert seen == [(["x", "y"], "codefix", 1)]


def test_the_batched_completer_takes_a_batch_size(monkeypatch):
    loaded = []
    monkeypatch.setattr(
        generate, "load_generator", lambda path, fmt, settings: loaded.append(settings)
    )
    batched_completer(FAKE_MODEL, batch_size=32)
    assert loaded == [GenerationSettings(batch_size=32, max_new_tokens=MAX_NEW_TOKENS)]


def test_the_output_name_picks_the_format():
    assert format_for_path(Path("out.sarif")) == "sarif"
    assert format_for_path(Path("OUT.SARIF.JSON")) == "sarif"
    assert format_for_path(Path("a.jsonl")) == "jsonl"
    assert format_for_path(Path("comment.md")) == "md"
    assert format_for_path(Path("report.txt")) is None
