"""Prompt formatting shared by training and inference: fallback-v1, chat templates, and which
format a model directory implies."""

from __future__ import annotations

import json

import pytest

from vulntune.conversation import Example, Message
from vulntune.datasets.examples import example_from_obj
from vulntune.models.prompt_format import (
    CHAT_TEMPLATE,
    FALLBACK_V1,
    FormattingError,
    PromptFormatter,
    prompt_format_for,
)
from vulntune.models.resolve import resolve_model

EOS = "<|endoftext|>"  # tiny-random's end-of-sequence token, id 0


def _ex(prompt: str, completion: str, system: str | None = None, id: str = "x") -> Example:
    return example_from_obj(
        {"id": id, "prompt": prompt, "completion": completion, "system": system}
    )


def _ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


# -- fallback-v1 -----------------------------------------------------------------------


def test_fallback_v1_renders_exactly_as_documented(tokenizer):
    f = PromptFormatter(tokenizer, FALLBACK_V1)
    ex = _ex("SQL injection in query()", "Use bound parameters.", system="Be brief.")
    assert f.prompt_text(ex.prompt_messages) == (
        "Be brief.\n\n### Instruction:\nSQL injection in query()\n\n### Response:\n"
    )
    assert f.completion_text(ex) == f"Use bound parameters.{EOS}"


def test_fallback_v1_multi_turn(tokenizer):
    f = PromptFormatter(tokenizer, FALLBACK_V1)
    messages = (
        Message("user", "first"),
        Message("assistant", "one"),
        Message("user", "second"),
    )
    assert f.prompt_text(messages) == (
        f"### Instruction:\nfirst\n\n### Response:\none{EOS}\n\n"
        "### Instruction:\nsecond\n\n### Response:\n"
    )


# -- chat templates --------------------------------------------------------------------


def test_chat_template_rendering_and_split(chat_tokenizer):
    f = PromptFormatter(chat_tokenizer, CHAT_TEMPLATE)
    ex = _ex("SQL injection in query()", "Use bound parameters.", system="Be brief.")
    prompt = f.prompt_text(ex.prompt_messages)
    assert prompt == (
        f"<|system|>\nBe brief.{EOS}\n<|user|>\nSQL injection in query(){EOS}\n<|assistant|>\n"
    )
    assert f.completion_text(ex) == f"Use bound parameters.{EOS}\n"


def test_a_template_that_is_not_prefix_consistent_is_refused(tokenizer):
    # The generation prompt opens the assistant turn differently from a rendered turn.
    tokenizer.chat_template = (
        "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}[assistant]: {% endif %}"
    )
    f = PromptFormatter(tokenizer, CHAT_TEMPLATE)
    with pytest.raises(FormattingError, match=r"example 'bad': .*different prefix"):
        f.completion_text(_ex("p", "c", id="bad"))


def test_chat_format_needs_a_template(tokenizer):
    with pytest.raises(FormattingError, match="loaded tokenizer has none"):
        PromptFormatter(tokenizer, CHAT_TEMPLATE)


def test_unknown_format_and_missing_eos_are_refused(chat_tokenizer):
    with pytest.raises(FormattingError, match="unknown prompt format 'alpaca'"):
        PromptFormatter(chat_tokenizer, "alpaca")
    chat_tokenizer.eos_token = None
    with pytest.raises(FormattingError, match="no end-of-sequence token"):
        PromptFormatter(chat_tokenizer, FALLBACK_V1)


# -- which format a checkpoint implies -------------------------------------------------


def test_tiny_random_uses_the_fallback():
    assert prompt_format_for(resolve_model("tiny-random").path) == FALLBACK_V1


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, FALLBACK_V1),
        ({"chat_template.jinja": "{{ messages }}"}, CHAT_TEMPLATE),
        ({"chat_template.json": '{"chat_template": "x"}'}, CHAT_TEMPLATE),
        ({"tokenizer_config.json": json.dumps({"chat_template": "{{ x }}"})}, CHAT_TEMPLATE),
        ({"tokenizer_config.json": json.dumps({"chat_template": ""})}, FALLBACK_V1),
        ({"tokenizer_config.json": json.dumps({"eos_token": "</s>"})}, FALLBACK_V1),
    ],
)
def test_prompt_format_from_checkpoint_files(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert prompt_format_for(tmp_path) == expected


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"chat"'])
def test_an_unreadable_tokenizer_config_is_an_error(tmp_path, text):
    (tmp_path / "tokenizer_config.json").write_text(text)
    with pytest.raises(FormattingError, match=r"tokenizer_config\.json: unreadable tokenizer"):
        prompt_format_for(tmp_path)


def test_a_checkpoint_saved_with_a_template_is_trained_with_it(tmp_path, chat_tokenizer):
    """A tokenizer saved with a template is recognised from its files alone."""
    chat_tokenizer.save_pretrained(tmp_path)
    assert prompt_format_for(tmp_path) == CHAT_TEMPLATE
