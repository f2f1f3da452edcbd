"""The completers `analyze` asks through, and how the output format is chosen."""

from __future__ import annotations

from pathlib import Path

from vulntune.inference import generate
from vulntune.inference.analyze_model import (
    MAX_NEW_TOKENS,
    OneByOneCompleter,
    batched_completer,
    default_completer,
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
            GenerationSettings(max_new_tokens=MAX_NEW_TOKENS),
        )
    ]
    assert completer(("a", "b", "c"), "analysis") == ["analysis:a", "analysis:b", "analysis:c"]
    assert calls == [(["a", "b", "c"], "analysis")]


def test_analyze_asks_the_batched_generator_by_default(monkeypatch):
    monkeypatch.setattr(generate, "load_generator", lambda path, fmt, settings: "batched")
    completer = default_completer(FAKE_MODEL)
    assert completer.__qualname__.startswith("batched_completer")


def test_one_by_one_completer_asks_each_prompt_with_the_task_limit():
    seen = []

    class FakeGenerator:
        def complete(self, prompt, max_new_tokens):
            seen.append((prompt, max_new_tokens))
            return prompt.upper()

    completer = OneByOneCompleter(FakeGenerator())  # type: ignore[arg-type]
    assert completer(["x", "y"], "codefix") == ["X", "Y"]
    assert seen == [("x", MAX_NEW_TOKENS["codefix"]), ("y", MAX_NEW_TOKENS["codefix"])]


def test_the_output_name_picks_the_format():
    assert format_for_path(Path("out.sarif")) == "sarif"
    assert format_for_path(Path("OUT.SARIF.JSON")) == "sarif"
    assert format_for_path(Path("a.jsonl")) == "jsonl"
    assert format_for_path(Path("comment.md")) == "md"
    assert format_for_path(Path("report.txt")) is None
