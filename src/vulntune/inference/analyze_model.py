"""Which model `vulntune analyze` asks, and the one interface it asks through.

``analyze`` never calls a model directly: it hands whole lists of prompts of one task to a
:data:`Completer` and gets the model's texts back in the same order. That keeps the analysis
loop independent of how generation is done (one by one, batched, with structured decoding)
and lets tests script the model's answers.

:func:`default_completer` is the one place that decides which generator backs the completer.
It is the batched generator with structured decoding of the analysis layout; the same
generator answering one prompt at a time (:class:`OneByOneCompleter`, the same texts) is the
benchmark's peer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from vulntune.datasets.render import Task
from vulntune.errors import VulntuneError

if TYPE_CHECKING:
    from vulntune.inference.generate import Generator
    from vulntune.runs.run import TrainingRun

# Prompts of one task in, the model's texts out, one per prompt and in the same order.
Completer = Callable[[Sequence[str], Task], list[str]]

# The longest answer generated per task, in new tokens. The analysis layout is five short
# lines (about 80-120 tokens); a fix is one sentence plus a diff with two context lines
# around each change, which a hunk or two fills.
MAX_NEW_TOKENS: dict[Task, int] = {"analysis": 160, "codefix": 320}
# Rows per batch: all the prompts of one call (analyze.PROMPTS_PER_CALL). On 2 AVX2 cores with
# SmolLM2-135M, 107 findings took 554 s at 32 rows against 662 s at 16 (benchmarks/RESULTS.md).
BATCH_SIZE = 32

ModelSource = Literal["run", "model"]


class AnalyzeModelError(VulntuneError):
    """The model to analyse with cannot be found or used."""


@dataclass(frozen=True)
class AnalysisModel:
    """The model `analyze` asks and what its output records about it.

    ``spec`` is what the user named (a run id, or a base-model spec for ``--model``);
    ``content_hash`` pins the weights (``sha256:`` over the model's files); ``run_id`` is set
    for a trained run; ``prompt_format`` is how prompts are wrapped for this tokenizer."""

    source: ModelSource
    spec: str
    path: Path
    content_hash: str
    prompt_format: str
    run_id: str | None = None
    base_model: str | None = None  # the run's base-model spec (for --run)
    # The run's analysis prompts carry this many similar training findings, drawn from
    # ``similar_from`` (its Stage-1 training split); analyze writes them into its prompts too.
    similar: int = 0
    similar_from: Path | None = None

    @property
    def label(self) -> str:
        """How reports name the model: ``run <id>`` or the base-model spec."""
        return f"run {self.run_id}" if self.run_id is not None else self.spec


def model_from_run(run: TrainingRun) -> AnalysisModel:
    """The trained model of a run (its manifest's ``inference.model``), which must exist."""
    from vulntune.models.cache import default_cache_dir, model_content_hash

    path = run.path(run.manifest.inference.model)
    if not (path / "config.json").is_file():
        raise AnalyzeModelError(
            f"run {run.id}: its trained model {path} does not exist yet; finish training with "
            f"`vulntune train {run.dir}`, or analyse with an untrained model with --model"
        )
    return AnalysisModel(
        source="run",
        spec=run.id,
        path=path,
        content_hash=model_content_hash(path, default_cache_dir()),
        prompt_format=run.manifest.semantics.prompt_format,
        run_id=run.id,
        base_model=run.manifest.base_model.spec,
        similar=(similar := run.similar_findings()),
        similar_from=run.stage1.train_data if similar else None,
    )


def model_from_spec(spec: str) -> AnalysisModel:
    """Any base-model spec (built-in name, model directory, .gguf file, hub id), resolved as
    `runs create --base-model` resolves it, prompted in the format its tokenizer implies."""
    from vulntune.models.prompt_format import prompt_format_for
    from vulntune.models.resolve import resolve_model

    resolved = resolve_model(spec)
    return AnalysisModel(
        source="model",
        spec=spec,
        path=resolved.path,
        content_hash=resolved.content_hash,
        prompt_format=prompt_format_for(resolved.path),
    )


class OneByOneCompleter:
    """A :data:`Completer` that generates each prompt on its own (``batch_size=1``) with the
    batched completer's settings: structured analysis, the code-fix stop rule and
    ``MAX_NEW_TOKENS[task]``, so it writes the same texts, only without sharing passes."""

    def __init__(self, generator: Generator) -> None:
        self.generator = generator

    def __call__(self, prompts: Sequence[str], task: Task) -> list[str]:
        return list(self.generator.generate(list(prompts), task, batch_size=1))


def one_by_one_completer(model: AnalysisModel) -> Completer:
    """The model loaded once, answering prompts one at a time (the benchmark's peer)."""
    from vulntune.inference.generate import GenerationSettings, load_generator

    settings = GenerationSettings(max_new_tokens=dict(MAX_NEW_TOKENS))
    return OneByOneCompleter(load_generator(model.path, model.prompt_format, settings))


def batched_completer(model: AnalysisModel, batch_size: int | None = None) -> Completer:
    """The batched generator with structured decoding of the analysis layout: prompts are
    sorted by length and batched (``batch_size`` rows, :data:`BATCH_SIZE` when None), the
    closed fields (CWE, severity, category) constrained and the CWE name written from the
    catalogue."""
    from vulntune.inference.generate import GenerationSettings, load_generator

    settings = GenerationSettings(
        batch_size=batch_size or BATCH_SIZE, max_new_tokens=dict(MAX_NEW_TOKENS)
    )
    generator = load_generator(model.path, model.prompt_format, settings)

    def complete(prompts: Sequence[str], task: Task) -> list[str]:
        return list(generator.generate(list(prompts), task))

    return complete


def default_completer(model: AnalysisModel) -> Completer:
    """The completer `analyze` uses: the batched, structured generator (one-by-one
    generation of the same texts stays available as :func:`one_by_one_completer`, the
    benchmark's peer)."""
    return batched_completer(model)
