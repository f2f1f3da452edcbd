"""completion_loss_sum equals cross-entropy over completion positions of the full forward
pass, with and without LoRA, on the fast body+head path and on the fallback path."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from vulntune.datasets.examples import example_from_obj
from vulntune.models.loading import load_model_and_tokenizer
from vulntune.models.prompt_format import FALLBACK_V1, PromptFormatter
from vulntune.models.resolve import resolve_model
from vulntune.runs.config import LoraSettings
from vulntune.training import loss as loss_module
from vulntune.training.batching import Batch, collate
from vulntune.training.encoding import IGNORE_INDEX, encode_examples
from vulntune.training.lora import attach_lora
from vulntune.training.loss import completion_loss_sum, split_body_and_head


@pytest.fixture(scope="module")
def model_and_tokenizer():
    loaded = load_model_and_tokenizer(resolve_model("tiny-random").path)
    model, tokenizer = loaded.model, loaded.tokenizer
    return model.eval(), tokenizer


@pytest.fixture(scope="module")
def batch(model_and_tokenizer) -> Batch:
    """Three examples of different lengths: right padding in two rows."""
    _, tokenizer = model_and_tokenizer
    pairs = [
        ("sql injection in the query", "use bound parameters"),
        ("path traversal", "validate the resolved file path against the allowed root directory"),
        ("secret in header cookie token", "rotate the leaked secret and its token"),
    ]
    examples = [
        example_from_obj({"id": str(i), "prompt": p, "completion": c})
        for i, (p, c) in enumerate(pairs)
    ]
    encoded = encode_examples(PromptFormatter(tokenizer, FALLBACK_V1), examples, max_seq_len=256)
    return collate(encoded, tokenizer.pad_token_id)


def _reference(model, batch: Batch) -> torch.Tensor:
    """Cross-entropy of the ordinary full forward pass, summed over completion positions."""
    with torch.no_grad():
        logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
    per_token = F.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]).float(),
        batch.labels[:, 1:].reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="none",
    )
    return per_token.sum()


def _loss(model, batch: Batch) -> float:
    with torch.no_grad():
        return float(completion_loss_sum(model, batch))


def _same(a: float, b: float, batch: Batch) -> bool:
    """Equal within 1e-5 per scored token: a float32 sum of ~300 cannot be closer than its
    own resolution (~3e-5)."""
    return abs(a - b) / batch.n_loss_tokens < 1e-5


def test_the_batch_has_padding_and_masked_prompts(batch):
    lengths = batch.attention_mask.sum(1).tolist()
    assert len(set(lengths)) == 3
    assert batch.n_loss_tokens < batch.n_tokens / 2  # prompts dominate, and carry no loss


def test_loss_equals_the_full_forward_reference(model_and_tokenizer, batch):
    model, _ = model_and_tokenizer
    assert split_body_and_head(model) is not None  # the fast path is taken
    expected = float(_reference(model, batch))
    assert _same(_loss(model, batch), expected, batch)
    # ln(1024) per token for an untrained model with a 1024-token vocabulary, roughly.
    assert expected / batch.n_loss_tokens == pytest.approx(6.93, abs=0.1)


@pytest.fixture(scope="module")
def peft_model():
    """tiny-random with a rank-4 LoRA adapter whose B matrices are non-zero."""
    model = load_model_and_tokenizer(resolve_model("tiny-random").path).model
    torch.manual_seed(0)
    peft_model = attach_lora(model, LoraSettings(rank=4, dropout=0.0))
    with torch.no_grad():  # LoRA B starts at zero; give the adapter an effect
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.5)
    return peft_model.eval()


def test_loss_with_a_lora_adapter_attached(model_and_tokenizer, peft_model, batch):
    base, _ = model_and_tokenizer
    assert split_body_and_head(peft_model) is not None
    expected = float(_reference(peft_model, batch))
    assert _same(_loss(peft_model, batch), expected, batch)
    assert abs(expected - float(_reference(base, batch))) > 0.1  # the adapter matters


def test_gradients_match_the_reference(peft_model, batch):
    trainable = [p for p in peft_model.parameters() if p.requires_grad]
    peft_model.zero_grad()
    completion_loss_sum(peft_model, batch).backward()
    fast = [p.grad.clone() for p in trainable]
    peft_model.zero_grad()
    logits = peft_model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
    F.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]),
        batch.labels[:, 1:].reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="sum",
    ).backward()
    full = [p.grad.clone() for p in trainable]
    peft_model.zero_grad()
    assert len(trainable) == 2 * 7 * 2  # A and B, 7 target modules, 2 layers
    assert all(g.abs().sum() > 0 for g in full)
    for a, b in zip(fast, full, strict=True):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-4)


def test_the_fallback_full_forward_path_agrees(model_and_tokenizer, batch, monkeypatch):
    model, _ = model_and_tokenizer
    fast = _loss(model, batch)
    monkeypatch.setattr(loss_module, "split_body_and_head", lambda _model: None)
    assert _same(_loss(model, batch), fast, batch)
    assert _same(_loss(model, batch), float(_reference(model, batch)), batch)


def test_a_target_that_is_a_prompt_token_carries_no_loss(model_and_tokenizer, batch):
    """The last token of a row is only ever a target (nothing attends after it). Changing it
    changes the loss when it is a completion token, and not at all when it is a prompt one."""
    model, _ = model_and_tokenizer
    row, last = 0, int(batch.attention_mask[0].sum()) - 1
    base = _loss(model, batch)

    changed_completion = batch.input_ids.clone()
    changed_completion[row, last] = (changed_completion[row, last] + 7) % 1024
    labels = torch.where(batch.labels == IGNORE_INDEX, batch.labels, changed_completion)
    moved = dataclasses.replace(batch, input_ids=changed_completion, labels=labels)
    assert abs(_loss(model, moved) - base) > 1e-3

    # Now make the whole of row 0 prompt (all labels masked) and change its last token.
    prompt_only = batch.labels.clone()
    prompt_only[row] = IGNORE_INDEX
    masked = dataclasses.replace(batch, labels=prompt_only)
    masked_changed = dataclasses.replace(masked, input_ids=changed_completion)
    assert _same(_loss(model, masked), _loss(model, masked_changed), batch)
    assert _loss(model, masked) < base  # row 0's completion no longer counts


def test_changing_one_completion_label_changes_the_loss_by_its_cross_entropy(
    model_and_tokenizer, batch
):
    model, _ = model_and_tokenizer
    row = 1
    position = int((batch.labels[row] != IGNORE_INDEX).nonzero()[0])  # first completion token
    with torch.no_grad():
        logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
    log_probs = logits[row, position - 1].float().log_softmax(-1)
    old, new = int(batch.labels[row, position]), 5
    labels = batch.labels.clone()
    labels[row, position] = new
    delta = _loss(model, dataclasses.replace(batch, labels=labels)) - _loss(model, batch)
    assert delta == pytest.approx(float(log_probs[old] - log_probs[new]), abs=1e-4)


def test_padding_content_does_not_matter(model_and_tokenizer, batch):
    model, _ = model_and_tokenizer
    repadded = batch.input_ids.masked_fill(batch.attention_mask == 0, 777)
    assert _same(
        _loss(model, dataclasses.replace(batch, input_ids=repadded)), _loss(model, batch), batch
    )


def test_heads_with_logit_modifiers_take_the_full_forward(model_and_tokenizer, monkeypatch):
    model, _ = model_and_tokenizer
    monkeypatch.setattr(model.config, "final_logit_softcapping", 30.0, raising=False)
    assert split_body_and_head(model) is None
    monkeypatch.setattr(model.config, "final_logit_softcapping", None)
    monkeypatch.setattr(model.config, "logit_scale", 1.0, raising=False)
    assert split_body_and_head(model) is not None
