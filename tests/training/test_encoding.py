"""Examples to token ids: the loss boundary between prompt and completion, EOS, truncation."""

from __future__ import annotations

import pytest

from vulntune.conversation import Example
from vulntune.datasets.examples import example_from_obj
from vulntune.models.prompt_format import (
    CHAT_TEMPLATE,
    FALLBACK_V1,
    FormattingError,
    PromptFormatter,
)
from vulntune.training.encoding import EncodedExample, encode_examples, encode_set

EOS = "<|endoftext|>"  # tiny-random's end-of-sequence token, id 0


def _ex(prompt: str, completion: str, system: str | None = None, id: str = "x") -> Example:
    return example_from_obj(
        {"id": id, "prompt": prompt, "completion": completion, "system": system}
    )


def _ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def test_fallback_v1_encoding_boundary_and_eos(tokenizer):
    f = PromptFormatter(tokenizer, FALLBACK_V1)
    ex = _ex("SQL injection in query()", "Use bound parameters.", system="Be brief.")
    (enc,) = encode_examples(f, [ex], max_seq_len=1024)
    prompt_ids = _ids(tokenizer, f.prompt_text(ex.prompt_messages))
    completion_ids = _ids(tokenizer, "Use bound parameters." + EOS)
    assert enc == EncodedExample("x", prompt_ids + completion_ids, len(prompt_ids))
    assert enc.input_ids[: enc.n_prompt] == prompt_ids  # exactly what inference will feed
    assert enc.input_ids[-1] == tokenizer.eos_token_id == 0
    assert tokenizer.eos_token_id not in enc.input_ids[: enc.n_prompt]
    assert enc.n_completion == len(completion_ids)
    assert tokenizer.decode(enc.input_ids[enc.n_prompt :]) == "Use bound parameters." + EOS


def test_the_eos_text_in_a_completion_becomes_one_token(tokenizer):
    f = PromptFormatter(tokenizer, FALLBACK_V1)
    (enc,) = encode_examples(f, [_ex("p", "c")], max_seq_len=64)
    assert enc.input_ids[enc.n_prompt :].count(tokenizer.eos_token_id) == 1


# -- chat templates --------------------------------------------------------------------


def test_chat_template_encoding_boundary(chat_tokenizer):
    f = PromptFormatter(chat_tokenizer, CHAT_TEMPLATE)
    ex = _ex("SQL injection in query()", "Use bound parameters.", system="Be brief.")
    prompt = f.prompt_text(ex.prompt_messages)
    (enc,) = encode_examples(f, [ex], max_seq_len=1024)
    assert enc.n_prompt == len(_ids(chat_tokenizer, prompt))
    assert enc.input_ids == _ids(chat_tokenizer, prompt) + _ids(
        chat_tokenizer, f"Use bound parameters.{EOS}\n"
    )
    completion = enc.input_ids[enc.n_prompt :]
    assert completion[-2] == chat_tokenizer.eos_token_id  # the template ends a turn with EOS\n


def test_an_example_the_template_cannot_split_is_refused(tokenizer):
    tokenizer.chat_template = (
        "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}[assistant]: {% endif %}"
    )
    f = PromptFormatter(tokenizer, CHAT_TEMPLATE)
    with pytest.raises(FormattingError, match=r"example 'bad': .*different prefix"):
        encode_examples(f, [_ex("p", "c", id="bad")], max_seq_len=64)


def test_no_examples_encode_to_nothing(tokenizer):
    assert encode_examples(PromptFormatter(tokenizer, FALLBACK_V1), [], max_seq_len=64) == []


# -- lengths ---------------------------------------------------------------------------


def test_long_completions_are_cut_and_long_prompts_skipped(tokenizer):
    f = PromptFormatter(tokenizer, FALLBACK_V1)
    examples = [
        _ex("short", "word " * 50, id="long-completion"),
        _ex("word " * 100, "ok", id="long-prompt"),
        _ex("short", "ok", id="fits"),
    ]
    (full, long_prompt, fits) = encode_examples(f, examples, max_seq_len=2048)
    n_short = full.n_prompt
    assert fits.n_prompt == n_short and fits.length < 40
    assert long_prompt.n_prompt > 100

    cut, skipped, kept = encode_examples(f, examples, max_seq_len=n_short + 5)
    assert cut.input_ids == full.input_ids[: n_short + 5]  # cut at the end, EOS lost
    assert cut.n_prompt == n_short and cut.n_completion == 5
    assert skipped is None  # its prompt alone does not fit
    assert fits.length <= n_short + 5 and kept == fits  # short enough: untouched


def test_a_prompt_that_exactly_fills_the_window_is_skipped(tokenizer):
    f = PromptFormatter(tokenizer, FALLBACK_V1)
    (probe,) = encode_examples(f, [_ex("prompt text", "completion")], max_seq_len=1024)
    n = probe.n_prompt
    assert encode_examples(f, [_ex("prompt text", "completion")], max_seq_len=n) == [None]
    (one,) = encode_examples(f, [_ex("prompt text", "completion")], max_seq_len=n + 1)
    assert one.length == n + 1 and one.n_completion == 1


# -- what max_seq_len did, counted -----------------------------------------------------


def test_the_report_counts_dropped_cut_and_eos_losing_examples(tokenizer):
    f = PromptFormatter(tokenizer, FALLBACK_V1)
    examples = [
        _ex("short", "word " * 50, id="long-completion"),
        _ex("word " * 100, "ok", id="long-prompt"),
        _ex("short", "ok", id="fits"),
        _ex("short", "one two", id="loses-only-eos"),
    ]
    (full, _, fits, eos_only) = encode_examples(f, examples, max_seq_len=2048)
    window = eos_only.length - 1  # exactly the EOS token of "loses-only-eos" is cut
    assert full.length > window > fits.length

    result = encode_set(f, examples, max_seq_len=window)
    assert [e.id for e in result.kept] == ["long-completion", "fits", "loses-only-eos"]
    report = result.report
    assert report.to_dict() == {
        "max_seq_len": window,
        "examples": 4,
        "kept": 3,
        "dropped_prompt_too_long": 1,
        "truncated": 2,
        "truncated_lost_eos": 2,
        "longest": max(e.length for e in encode_examples(f, examples, 4096) if e),
        "dropped_ids": ["long-prompt"],
        "truncated_ids": ["long-completion", "loses-only-eos"],
    }
    assert report.describe() == (
        f"3 of 4 kept; 1 dropped (prompt >= max_seq_len); 2 completions cut, 2 of them lost "
        f"their end-of-sequence token (max_seq_len={window}, longest example "
        f"{report.longest} tokens)"
    )


def test_a_completion_that_exactly_fills_the_window_is_not_cut(tokenizer):
    f = PromptFormatter(tokenizer, FALLBACK_V1)
    (probe,) = encode_examples(f, [_ex("short", "one two")], max_seq_len=1024)
    report = encode_set(f, [_ex("short", "one two")], max_seq_len=probe.length).report
    assert (report.kept, report.truncated, report.truncated_lost_eos) == (1, 0, 0)
    assert report.describe() == f"all 1 fit max_seq_len={probe.length}"


def test_a_cut_that_keeps_the_eos_is_not_called_a_lost_eos(tokenizer):
    # A completion with EOS text in its middle: cutting its tail keeps that EOS.
    f = PromptFormatter(tokenizer, FALLBACK_V1)
    ex = _ex("short", f"first{EOS} then a long tail of words")
    (probe,) = encode_examples(f, [ex], max_seq_len=1024)
    first_eos = probe.input_ids.index(tokenizer.eos_token_id, probe.n_prompt)
    assert first_eos + 1 < probe.length - 1
    report = encode_set(f, [ex], max_seq_len=first_eos + 1).report
    assert (report.truncated, report.truncated_lost_eos) == (1, 0)
