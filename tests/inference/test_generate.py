"""Batched greedy generation gives exactly the text of one-by-one generation."""

from __future__ import annotations

import pytest
import torch
from transformers import DynamicCache

from vulntune.inference import generate as generate_module
from vulntune.inference.generate import Generator

from .conftest import finding_prompts


def test_batched_and_one_by_one_generation_give_identical_text(tiny_generator: Generator):
    prompts = finding_prompts(7)
    one_by_one = tiny_generator.generate(prompts, "codefix", batch_size=1)
    for size in (2, 3, 7):
        assert tiny_generator.generate(prompts, "codefix", batch_size=size) == one_by_one
    assert all(one_by_one)


def test_one_by_one_matches_the_libraries_greedy_generate(tiny_generator: Generator):
    """An independent reference: transformers' own greedy decoding of the same prompt ids."""
    prompts = finding_prompts(2)
    ours = tiny_generator.generate(prompts, "codefix", batch_size=1)
    for prompt, text in zip(prompts, ours, strict=True):
        ids = torch.tensor([tiny_generator.prompt_ids(prompt)])
        out = tiny_generator.model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=24,
            do_sample=False,
            pad_token_id=tiny_generator.tokenizer.pad_token_id,
            eos_token_id=tiny_generator.tokenizer.eos_token_id,
        )
        reference = tiny_generator.tokenizer.decode(
            out[0, ids.shape[1] :], skip_special_tokens=True
        )
        assert text == reference.strip()


def test_rows_that_stop_early_leave_the_others_unchanged(
    tiny_generator: Generator, monkeypatch: pytest.MonkeyPatch
):
    """Rows that stop early are dropped from the batch and the cache; the rows still
    running must produce what they produce alone."""
    prompts = finding_prompts(5)
    alone = tiny_generator.generate(prompts, "codefix", batch_size=1)
    # Make a token the first prompt writes early into a stop token.
    first = tiny_generator._batch([tiny_generator.prompt_ids(prompts[0])], 24, None, None)[0]
    monkeypatch.setattr(tiny_generator, "stop_ids", tiny_generator.stop_ids | {first[3]})
    stopped_alone = tiny_generator.generate(prompts, "codefix", batch_size=1)
    batched = tiny_generator.generate(prompts, "codefix", batch_size=5)
    assert batched == stopped_alone
    assert stopped_alone != alone  # the extra stop token did end some row early


def test_rows_joining_a_running_batch_write_what_they_write_alone(
    tiny_generator: Generator, monkeypatch: pytest.MonkeyPatch
):
    """Continuous batching: when a row stops early its slot goes to a queued prompt, whose
    cache joins the running rows' (left-padded to a common width). Every row must still
    write what it writes alone, and the join must really have happened mid-batch."""
    prompts = finding_prompts(6)
    first = tiny_generator._batch([tiny_generator.prompt_ids(prompts[0])], 24, None, None)[0]
    stop = next(token for token in first if token != first[0])  # one that ends some rows
    monkeypatch.setattr(tiny_generator, "stop_ids", tiny_generator.stop_ids | {stop})
    alone = tiny_generator.generate(prompts, "codefix", batch_size=1)
    ids = [tiny_generator.prompt_ids(p) for p in prompts]
    lengths = {len(tiny_generator._batch([i], 24, None, None)[0]) for i in ids}
    assert len(lengths) > 2  # rows end at different steps, so slots free up mid-batch

    joins: list[tuple[int, int]] = []
    join = generate_module._join_caches

    def spy(cache, mask, new_cache, new_mask):
        joins.append((mask.shape[0], new_mask.shape[0]))
        return join(cache, mask, new_cache, new_mask)

    monkeypatch.setattr(generate_module, "_join_caches", spy)
    for size in (2, 3):
        joins.clear()
        assert tiny_generator.generate(prompts, "codefix", batch_size=size) == alone
        assert joins, f"batch size {size}: no prompt joined a running batch"


def test_finished_rows_take_their_padding_columns_with_them():
    """When the rows left all start later than the batch's first column, the cache and the
    mask lose the columns that are padding for every one of them."""
    rows = generate_module._Rows.empty()
    cache = DynamicCache()
    keys = torch.arange(2 * 1 * 5 * 2, dtype=torch.float32).reshape(2, 1, 5, 2)
    cache.update(keys, keys.clone(), 0)
    rows.live, rows.cache = [0, 1], cache
    rows.mask = torch.tensor([[1, 1, 1, 1, 1], [0, 0, 0, 1, 1]])
    rows.next_position = torch.tensor([5, 2])
    rows.select([1])
    assert rows.live == [1]
    assert rows.mask.tolist() == [[1, 1]]
    assert torch.equal(cache.layers[0].keys, keys[1:, :, 3:])
    assert rows.next_position.tolist() == [2]


def test_answers_come_back_in_prompt_order(tiny_generator: Generator):
    prompts = finding_prompts(4)
    forward = tiny_generator.generate(prompts, "codefix", batch_size=4)
    backward = tiny_generator.generate(prompts[::-1], "codefix", batch_size=4)
    assert backward == forward[::-1]


@pytest.mark.slow
def test_smollm2_batched_and_one_by_one_give_identical_text():
    """The real model, a handful of builtin prompts, with structured decoding on and off."""
    from pathlib import Path

    from vulntune.datasets.builtin import load_builtin
    from vulntune.inference.generate import GenerationSettings
    from vulntune.models.prompt_format import prompt_format_for
    from vulntune.models.resolve import resolve_model

    resolved = resolve_model("smollm2-135m", cache_dir=Path.home() / ".cache" / "vulntune")
    settings = GenerationSettings(batch_size=3, max_new_tokens={"analysis": 32, "codefix": 24})
    generator = Generator(resolved.path, prompt_format_for(resolved.path), settings)
    analysis = [r["prompt"] for r in load_builtin("heldout")[:3]]
    codefix = [r["prompt"] for r in load_builtin("codefix")[:3]]
    for prompts, task, structured in ((analysis, "analysis", True), (codefix, "codefix", False)):
        one = generator.generate(prompts, task, structured=structured, batch_size=1)
        assert generator.generate(prompts, task, structured=structured) == one, (task, structured)


def test_a_closed_codefix_answer_stops_there_batched_and_alone(
    tiny_generator: Generator, monkeypatch: pytest.MonkeyPatch
):
    """The code-fix stop rule ends a row where it says the text is done, the same way in a
    batch and alone (tiny-random writes no fences: a stand-in rule on its text)."""
    import vulntune.inference.generate as generate

    prompts = finding_prompts(6)
    full = tiny_generator.generate(prompts, "codefix", batch_size=1)
    monkeypatch.setattr(generate, "codefix_answer_closed", lambda text: text.count("ick") >= 3)
    alone = tiny_generator.generate(prompts, "codefix", batch_size=1)
    assert tiny_generator.generate(prompts, "codefix", batch_size=6) == alone
    for long, short in zip(full, alone, strict=True):
        assert long.startswith(short)
        assert short.count("ick") == 3 or (short == long and long.count("ick") < 3)
    assert alone != full
    # Analysis answers have no such rule.
    analysis = tiny_generator.generate(prompts, "analysis", structured=False, batch_size=6)
    monkeypatch.undo()
    assert tiny_generator.generate(prompts, "analysis", structured=False, batch_size=6) == analysis


def test_the_prompt_pass_computes_logits_for_the_last_position_only(
    tiny_generator: Generator, monkeypatch: pytest.MonkeyPatch
):
    shapes: list[tuple[int, ...]] = []
    forward = tiny_generator.model.forward

    def recording(*args, **kwargs):
        out = forward(*args, **kwargs)
        shapes.append(tuple(out.logits.shape))
        return out

    monkeypatch.setattr(tiny_generator.model, "forward", recording)
    tiny_generator.generate(finding_prompts(3), "codefix", batch_size=3)
    vocab = len(tiny_generator.tokenizer)
    assert shapes[0][:2] == (3, 1) and shapes[0][2] >= vocab


def test_no_prompts_and_no_new_tokens_give_empty_answers(tiny_generator: Generator):
    assert tiny_generator.generate([], "codefix", batch_size=2) == []
    ids = [tiny_generator.prompt_ids(p) for p in finding_prompts(2)]
    assert tiny_generator._batch(ids, 0, None, None, slots=1) == [[], []]
