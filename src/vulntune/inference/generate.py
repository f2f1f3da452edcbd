"""Greedy generation from a trained model directory, batched, prompted exactly as in training.

:class:`Generator` turns prompts into completions: prompts are rendered with the run's
:class:`~vulntune.models.prompt_format.PromptFormatter` (the code training uses), sorted by
length and run at most ``batch_size`` rows at a time, left-padded (with the attention mask
and position ids that make a padded row compute what it would compute alone), then decoded
greedily with a KV cache. A
row stops at the end of sequence, and a code-fix answer once its diff block has closed
(:func:`~vulntune.datasets.completions.codefix_answer_closed`: nothing after it is read).
Finished rows are dropped from the batch and the cache, so they cost nothing further, and
their slots go to the next prompts at once (continuous batching): the new rows are prefilled
and their cache joined to the batch's, left-padded to a common width, so a batch never runs
on for its longest answer while prompts wait. Unless
``structured=False``, analysis answers are decoded under the layout's constraint
(``structured.py``) and code fixes under the diff constraint (``diff_constraint.py``: the old
lines of each hunk are the prompt's code).

Greedy decoding with the same weights gives the same text batched or one by one (tested);
batching only changes how many rows share each forward pass.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import torch

from vulntune.conversation import Message
from vulntune.datasets.completions import codefix_answer_closed
from vulntune.models.loading import load_model_and_tokenizer
from vulntune.models.prompt_format import PromptFormatter

if TYPE_CHECKING:
    from vulntune.inference.diff_constraint import DiffConstraint
    from vulntune.inference.structured import AnalysisConstraint

    Constraint = AnalysisConstraint | DiffConstraint

Task = Literal["analysis", "codefix"]

# Enough for the five analysis lines (a CWE name runs to ~25 tokens, root cause and impact
# to ~60 each) and for a fix sentence plus a diff of a few hunks.
DEFAULT_MAX_NEW_TOKENS: dict[Task, int] = {"analysis": 192, "codefix": 320}


@dataclass(frozen=True)
class GenerationSettings:
    """How prompts are batched and how long answers may grow, per task."""

    batch_size: int = 16
    max_new_tokens: dict[Task, int] = field(default_factory=lambda: dict(DEFAULT_MAX_NEW_TOKENS))


ProgressCallback = Callable[[int], None]  # called with the number of rows just finished


class Generator:
    """A loaded model that answers prompts the way it was trained to see them."""

    def __init__(
        self,
        model_dir: Path,
        prompt_format: str,
        settings: GenerationSettings | None = None,
    ) -> None:
        loaded = load_model_and_tokenizer(model_dir)
        self.model, self.tokenizer = loaded.model, loaded.tokenizer
        self.model.eval()
        self.model_dir = model_dir
        self.formatter = PromptFormatter(self.tokenizer, prompt_format)
        self.settings = settings or GenerationSettings()
        self.stop_ids = _stop_ids(self.tokenizer)
        self._constraint: AnalysisConstraint | None = None
        self._diff_constraint: DiffConstraint | None = None
        self._last_logits_only = (
            "logits_to_keep" in inspect.signature(self.model.forward).parameters
        )

    # -- public API ---------------------------------------------------------------------

    def generate(
        self,
        prompts: Sequence[str],
        task: Task,
        *,
        structured: bool = True,
        batch_size: int | None = None,
        show_progress: bool = False,
        description: str | None = None,
    ) -> list[str]:
        """The model's answers to user ``prompts`` (greedy), in the order given.

        ``structured``: for analysis, the closed fields can only take allowed values and the
        CWE name is written from the catalogue; for code fixes, the context and removed lines
        of a diff are the prompt's code and hunk headers are counted from their bodies.
        ``batch_size=1`` decodes one prompt at a time (the reference batched decoding is
        compared with)."""
        ids = [self.prompt_ids(p) for p in prompts]
        constraint: Constraint | None = None
        if structured:
            constraint = (
                self.analysis_constraint() if task == "analysis" else self.diff_constraint()
            )
        states = [constraint.start(p) if constraint else None for p in prompts]
        closed = codefix_answer_closed if task == "codefix" else None
        max_new = self.settings.max_new_tokens[task]
        size = max(1, batch_size or self.settings.batch_size)
        # Longest first: similar lengths share a batch, so little padding is computed.
        order = sorted(range(len(ids)), key=lambda i: (-len(ids[i]), i))
        with _progress(show_progress, description or f"generating ({task})", len(ids)) as bump:
            sorted_out = self._batch(
                [ids[i] for i in order],
                max_new,
                constraint,
                bump,
                closed,
                [states[i] for i in order],
                slots=size,
            )
        outputs: list[list[int]] = [[] for _ in ids]
        for i, tokens in zip(order, sorted_out, strict=True):
            outputs[i] = tokens
        texts = [self._decode(tokens) for tokens in outputs]
        if constraint is None:
            return texts
        return [constraint.finish(row, text) for row, text in zip(states, texts, strict=True)]

    def complete(self, prompt: str, max_new_tokens: int = 200, system: str | None = None) -> str:
        """The model's answer to one user prompt (greedy, unconstrained)."""
        messages: list[Message] = [Message("user", prompt)]
        if system:
            messages.insert(0, Message("system", system))
        tokens = self._batch([self._encode(messages)], max_new_tokens, None, None)[0]
        return self._decode(tokens)

    def prompt_ids(self, prompt: str) -> list[int]:
        """The token ids of the generation prompt for one user prompt."""
        return self._encode([Message("user", prompt)])

    def analysis_constraint(self) -> AnalysisConstraint:
        """The structured-decoding constraint for this tokenizer (built once, ~1 s)."""
        if self._constraint is None:
            from vulntune.inference.structured import AnalysisConstraint

            self._constraint = AnalysisConstraint.for_tokenizer(self.tokenizer, self.stop_ids)
        return self._constraint

    def diff_constraint(self) -> DiffConstraint:
        """The structured-decoding constraint for code fixes (built once)."""
        if self._diff_constraint is None:
            from vulntune.inference.diff_constraint import DiffConstraint

            self._diff_constraint = DiffConstraint.for_tokenizer(self.tokenizer, self.stop_ids)
        return self._diff_constraint

    def close(self) -> None:
        """Drop the model's weights so that the next model can be loaded in their place."""
        self.model = None  # type: ignore[assignment]
        self._constraint = None
        self._diff_constraint = None

    # -- decoding -----------------------------------------------------------------------

    def _encode(self, messages: Sequence[Message]) -> list[int]:
        text = self.formatter.prompt_text(messages)
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _decode(self, tokens: list[int]) -> str:
        return self.tokenizer.decode(tokens, skip_special_tokens=True).strip()

    @torch.no_grad()
    def _batch(
        self,
        prompts: list[list[int]],
        max_new: int,
        constraint: Constraint | None,
        bump: ProgressCallback | None,
        closed: Callable[[str], bool] | None = None,
        states: Sequence[Any] | None = None,
        slots: int | None = None,
    ) -> list[list[int]]:
        """Greedy continuations (without the stop token) of ``prompts``, at most ``slots`` rows
        (default: all) decoding together. A row ends at a stop token, at ``max_new`` tokens,
        or once ``closed`` says its text so far is done; its slot then goes to the next
        prompt in the order given (continuous batching: a batch never waits for its longest
        answer while prompts are queued). A ``constraint`` needs one row state per prompt in
        ``states`` (from its ``start``, which reads the prompt)."""
        if constraint is not None and (states is None or len(states) != len(prompts)):
            raise ValueError("a constrained batch needs one row state per prompt")
        outputs: list[list[int]] = [[] for _ in prompts]
        if max_new < 1 or not prompts:
            return outputs
        slots = len(prompts) if slots is None else max(1, slots)
        queue = deque(range(len(prompts)))
        rows = _Rows.empty()
        logits = torch.empty(0)
        while queue or rows.live:
            # A cache whose rows cannot be joined (not plain key/value tensors) takes new rows
            # only when empty: static batches, the same texts.
            if queue and len(rows.live) < slots and (not rows.live or rows.joinable):
                admitted = [queue.popleft() for _ in range(min(slots - len(rows.live), len(queue)))]
                new_logits = rows.admit(self, admitted, [prompts[i] for i in admitted])
                logits = new_logits if logits.numel() == 0 else torch.cat([logits, new_logits])
            live = rows.live
            if constraint is None:
                chosen = logits.argmax(dim=-1).tolist()
            else:
                chosen = constraint.choose_rows([states[row] for row in live], logits)
            keep: list[int] = []
            for j, (row, token) in enumerate(zip(live, chosen, strict=True)):
                if constraint is not None:
                    constraint.advance(states[row], token)
                if token in self.stop_ids:
                    continue
                outputs[row].append(token)
                if len(outputs[row]) < max_new and not self._closes(outputs[row], closed):
                    keep.append(j)
            if bump is not None and len(keep) < len(live):
                bump(len(live) - len(keep))
            if len(keep) < len(live):
                # Dropping rows copies the cache once, about what each step's append to it
                # copies anyway; a finished row kept in the batch would cost its share of
                # every later step.
                rows.select(keep)
                chosen = [chosen[j] for j in keep]
            if not rows.live:
                logits = torch.empty(0)
                continue
            logits = rows.step(self, chosen)
        return outputs

    def _forward(
        self,
        input_ids: torch.Tensor,
        mask: torch.Tensor,
        positions: torch.Tensor,
        cache: object | None,
    ) -> Any:
        """One forward pass; only the last position's logits are computed where the model
        allows it (a prompt's other positions would cost a vocabulary-wide matmul each)."""
        extra = {"logits_to_keep": 1} if self._last_logits_only else {}
        return self.model(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            **extra,
        )

    def _closes(self, tokens: list[int], closed: Callable[[str], bool] | None) -> bool:
        """True when ``closed`` calls the text of ``tokens`` done (a decode and a scan of a
        few hundred tokens: tens of microseconds against a forward pass's tenths of a second)."""
        return closed is not None and closed(
            self.tokenizer.decode(tokens, skip_special_tokens=True)
        )


@dataclass
class _Rows:
    """The rows decoding together: which prompts they answer, their KV cache, attention mask
    (left padding is 0) and the position each row writes next."""

    live: list[int]
    cache: Any
    mask: torch.Tensor
    next_position: torch.Tensor

    @classmethod
    def empty(cls) -> _Rows:
        return cls(
            [], None, torch.zeros((0, 0), dtype=torch.long), torch.zeros(0, dtype=torch.long)
        )

    def admit(
        self, generator: Generator, rows: list[int], prompts: list[list[int]]
    ) -> torch.Tensor:
        """Prefill ``prompts`` (left-padded together) and join them to the batch; returns
        their last-position logits."""
        width = max(len(p) for p in prompts)
        pad = generator.tokenizer.pad_token_id
        input_ids = torch.full((len(prompts), width), pad, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for j, ids in enumerate(prompts):
            input_ids[j, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            mask[j, width - len(ids) :] = 1
        # Each row counts positions from its first real token, as it would alone.
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = generator._forward(input_ids, mask, positions, None)
        if not self.live:
            self.cache, self.mask = out.cache, mask
            self.next_position = positions[:, -1] + 1
        else:
            self.mask = _join_caches(self.cache, self.mask, out.cache, mask)
            self.next_position = torch.cat([self.next_position, positions[:, -1] + 1])
        self.live = self.live + rows
        return out.logits[:, -1, :]

    @property
    def joinable(self) -> bool:
        """Whether new rows can join the cache mid-batch."""
        return _layers_of(self.cache) is not None

    def select(self, keep: list[int]) -> None:
        """Keep only the rows at positions ``keep``, and drop the cache columns that were
        padding for all of the rows left."""
        self.live = [self.live[j] for j in keep]
        if not keep:
            self.cache, self.mask = None, torch.zeros((0, 0), dtype=torch.long)
            self.next_position = torch.zeros(0, dtype=torch.long)
            return
        index = torch.tensor(keep, dtype=torch.long)
        self.cache.batch_select_indices(index)
        self.mask, self.next_position = self.mask[index], self.next_position[index]
        unused = int(self.mask.any(dim=0).long().argmax())
        layers = _layers_of(self.cache)
        if unused > 0 and layers is not None:
            for layer in layers:
                layer.keys, layer.values = layer.keys[:, :, unused:], layer.values[:, :, unused:]
            self.mask = self.mask[:, unused:]

    def step(self, generator: Generator, tokens: list[int]) -> torch.Tensor:
        """Feed each row its chosen token; returns the logits of the next one."""
        self.mask = torch.cat([self.mask, torch.ones((len(self.live), 1), dtype=torch.long)], 1)
        step_ids = torch.tensor(tokens, dtype=torch.long)[:, None]
        out = generator._forward(step_ids, self.mask, self.next_position[:, None], self.cache)
        self.cache = out.cache
        self.next_position = self.next_position + 1
        return out.logits[:, -1, :]


def _layers_of(cache: Any) -> list[Any] | None:
    """The cache's layers when each holds plain ``keys``/``values`` tensors of shape (batch,
    heads, positions, head dim), the layout rows can be joined and trimmed in; else None."""
    layers = getattr(cache, "layers", None)
    if not layers:
        return None
    for layer in layers:
        keys, values = getattr(layer, "keys", None), getattr(layer, "values", None)
        if not isinstance(keys, torch.Tensor) or not isinstance(values, torch.Tensor):
            return None
        if keys.dim() != 4 or getattr(layer, "is_sliding", False):
            return None
    return list(layers)


def _join_caches(
    cache: Any, mask: torch.Tensor, new_cache: Any, new_mask: torch.Tensor
) -> torch.Tensor:
    """Append ``new_cache``'s rows to ``cache`` in place, left-padding the shorter of the two
    to a common width; returns the joined attention mask."""
    old_layers, new_layers = _layers_of(cache), _layers_of(new_cache)
    assert old_layers is not None and new_layers is not None  # callers check `joinable`
    width = max(mask.shape[1], new_mask.shape[1])
    for old, new in zip(old_layers, new_layers, strict=True):
        old.keys = torch.cat([_left_pad(old.keys, width), _left_pad(new.keys, width)])
        old.values = torch.cat([_left_pad(old.values, width), _left_pad(new.values, width)])
    return torch.cat([_left_pad(mask, width), _left_pad(new_mask, width)])


def _left_pad(tensor: torch.Tensor, width: int) -> torch.Tensor:
    """``tensor`` with zeros before its positions (dim 2 of a cache tensor, dim 1 of a
    mask) up to ``width``."""
    dim = 2 if tensor.dim() == 4 else 1
    missing = width - tensor.shape[dim]
    if missing <= 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)


def load_generator(
    model_dir: Path, prompt_format: str, settings: GenerationSettings | None = None
) -> Generator:
    """Load ``model_dir`` for generation with the run's prompt format."""
    return Generator(model_dir, prompt_format, settings)


def _stop_ids(tokenizer: object) -> frozenset[int]:
    """The end-of-sequence token, and a chat template's end-of-turn marker when it has one
    (SmolLM2's ``<|im_end|>``): either ends an answer."""
    ids = {getattr(tokenizer, "eos_token_id", None)}
    vocab = tokenizer.get_vocab()  # type: ignore[attr-defined]
    for marker in ("<|im_end|>", "<|eot_id|>", "<|end|>"):
        if marker in vocab:
            ids.add(vocab[marker])
    return frozenset(i for i in ids if i is not None)


class _progress:
    """A rich progress bar over rows (or nothing), as a context manager giving ``bump``."""

    def __init__(self, show: bool, description: str, total: int) -> None:
        self.show, self.description, self.total = show, description, total
        self._bar = None

    def __enter__(self) -> ProgressCallback | None:
        if not self.show:
            return None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
        )
        self._bar.start()
        task = self._bar.add_task(self.description, total=self.total)
        bar = self._bar
        return lambda n: bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
