"""The model card (``README.md``) of an exported run.

YAML front matter as the hub reads it: ``base_model`` (the model trained on, a hub id, when
it has one), ``base_model_relation`` (``finetune`` for merged weights, ``adapter`` for an
adapter-only export), ``library_name``, ``pipeline_tag``, the base model's ``license``,
``tags`` and a ``model-index`` with the run's evaluation results when ``vulntune evaluate``
has written them. The body: intended use, training data statistics (counts only, never the
data), training configuration, the evaluation table against the base model, retention of
Stage-1 skills after Stage 2, and limitations.

Every value is written as a JSON string or number, which YAML reads as the same value, so
no text from a run (a spec, a path) can break the front matter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vulntune import __version__
from vulntune.datasets.render import PROMPT_FORMAT_VERSION
from vulntune.publish.base_model_info import BaseModelInfo, base_model_info
from vulntune.publish.errors import ExportError
from vulntune.runs.run import TrainingRun

TAGS = ("vulntune", "security", "sarif", "vulnerability-analysis", "code-fix", "lora")
# Evaluation models in table order, and how the card names them.
_MODEL_NAMES = {"base": "base model", "stage1": "Stage 1", "final": "final (Stage 2)"}


@dataclass(frozen=True)
class CardInputs:
    """What the card is made of, read from the run once."""

    run: TrainingRun
    base: BaseModelInfo
    data_counts: dict[str, int]
    stage_results: dict[str, dict[str, Any]]
    evaluation: dict[str, Any] | None
    adapter_only: bool
    similar: int = 0  # similar-finding lines in the run's analysis prompts


def read_card_inputs(run: TrainingRun, adapter_only: bool = False) -> CardInputs:
    """Everything the card needs from ``run`` (evaluation results when they exist)."""
    counts = {
        "stage 1 train": run.stage1.train_data,
        "stage 1 validation": run.stage1.validation_data,
        "stage 1 test": run.stage1.test_data,
        "stage 2 train (code fix)": run.stage2.codefix_dataset,
        "stage 2 train (with replay)": run.stage2.mixed_dataset,
        "stage 2 validation": run.stage2.validation_data,
        "stage 2 test": run.stage2.test_data,
    }
    data_counts = {
        name: _count_lines(path)
        for name, path in counts.items()
        if path is not None and path.is_file()
    }
    stages = {}
    for stage in (1, 2):
        found = run.read_evaluation(stage)
        if found is not None:
            stages[f"stage{stage}"] = found
    evaluation = _read_json(run.evaluation.results)
    return CardInputs(
        run,
        base_model_info(run.manifest.base_model),
        data_counts,
        stages,
        evaluation,
        adapter_only,
        run.similar_findings(),
    )


def model_card(inputs: CardInputs) -> str:
    """The whole README.md."""
    return _front_matter(inputs) + "\n" + _body(inputs)


def _front_matter(inputs: CardInputs) -> str:
    base, run = inputs.base, inputs.run
    lines = ["---"]
    if base.hub_chain:
        lines += ["base_model:", f"- {json.dumps(base.hub_chain[-1])}"]
        relation = "adapter" if inputs.adapter_only else "finetune"
        lines.append(f"base_model_relation: {relation}")
    lines.append(f"library_name: {'peft' if inputs.adapter_only else 'transformers'}")
    lines.append("pipeline_tag: text-generation")
    lines.append(f"license: {json.dumps(base.license)}")
    if base.license == "other":
        lines.append(f"license_name: {json.dumps('base-model-licence')}")
    lines += ["tags:", *(f"- {json.dumps(tag)}" for tag in TAGS)]
    index = _model_index(inputs)
    if index:
        lines += ["model-index:", f"- name: {json.dumps('vulntune-' + run.id)}", "  results:"]
        for task, metrics in index.items():
            lines += [
                "  - task:",
                "      type: text-generation",
                f"      name: {json.dumps(task)}",
                "    dataset:",
                f"      name: {json.dumps(f'vulntune run {run.id} test split ({task})')}",
                f"      type: {json.dumps('vulntune-run-test-split')}",
                "    metrics:",
            ]
            for name, value in metrics.items():
                lines += [
                    f"    - type: {json.dumps(name)}",
                    f"      name: {json.dumps(name.replace('_', ' '))}",
                    f"      value: {json.dumps(value)}",
                ]
    lines.append("---")
    return "\n".join(lines) + "\n"


def _model_index(inputs: CardInputs) -> dict[str, dict[str, float]]:
    """The final model's numeric metrics per task, from evaluation/results.json."""
    final = ((inputs.evaluation or {}).get("models") or {}).get("final")
    if not isinstance(final, dict):
        return {}
    index = {}
    for task in ("analysis", "codefix"):
        metrics = _numbers(final.get(task))
        if metrics:
            index[task] = metrics
    return index


def _numbers(section: object) -> dict[str, float]:
    if not isinstance(section, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in section.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def _body(inputs: CardInputs) -> str:
    run, base = inputs.run, inputs.base
    manifest = run.manifest
    title = f"# vulntune run {run.id}"
    what = "LoRA adapters" if inputs.adapter_only else "A merged model (and its LoRA adapters)"
    parts = [
        title,
        f"{what} fine-tuned by vulntune {__version__} in two stages "
        f"from {base.description or manifest.base_model.spec}: Stage 1 teaches the analysis "
        "of security-scanner findings (CWE, severity, category, root cause, impact), Stage 2 "
        "teaches code fixes as unified diffs, replaying Stage-1 examples so that the analysis "
        "is retained.",
    ]
    if base.hub_chain:
        chain = " → ".join(f"`{h}`" for h in base.hub_chain)
        parts.append(f"Lineage: {chain} → Stage-1 LoRA (merged) → Stage-2 LoRA (merged).")
    if base.note:
        parts.append(f"> {base.note}")
    parts += [
        "## Intended use",
        "Triage of findings from static analysis, dependency, secret, IaC and DAST scanners: "
        "`vulntune analyze REPORT --run RUN` annotates SARIF, JSONL or a pull-request comment "
        "with the model's analysis and a suggested fix, which is attached only when its diff "
        "applies. Prompts must use vulntune's layout "
        f"(`{PROMPT_FORMAT_VERSION}`, chat format `{manifest.semantics.prompt_format}`). The "
        "output is advice for a reviewer, not a verdict.",
        *(
            [
                f"Its analysis prompts carried up to {inputs.similar} `Similar finding:` lines "
                "before the code: the nearest findings of the run's training split with their "
                "CWE. `vulntune analyze --run` writes them from that split; prompts without "
                "them are not the ones it learnt from."
            ]
            if inputs.similar
            else []
        ),
        "## Training data",
        "Example counts per split (the data itself is not published; secrets in scanner "
        "output were redacted before training):",
        _table(["split", "examples"], [[k, str(v)] for k, v in inputs.data_counts.items()]),
        "## Training configuration",
        _table(["setting", "value"], _config_rows(inputs)),
        "## Evaluation",
        _evaluation_section(inputs.evaluation),
        "## Limitations",
        "- A small model: its classifications and fixes are often wrong; check every one.\n"
        "- It saw only the code excerpt a scanner points at, not the whole program.\n"
        "- A suggested fix is checked to apply to the scanned code, not to be correct or to "
        "compile.\n"
        "- Trained on the findings of the scanners and projects in its data; other tools, "
        "languages and rules are less well covered.",
    ]
    return "\n\n".join(parts) + "\n"


def _config_rows(inputs: CardInputs) -> list[list[str]]:
    manifest = inputs.run.manifest
    config = manifest.config
    rows = [
        ["base model", f"`{manifest.base_model.spec}` ({manifest.base_model.content_hash})"],
        ["method", "LoRA, two stages; Stage 2 on the Stage-1 merged model"],
        [
            "LoRA rank / alpha / dropout",
            f"{config.lora.rank} / {config.lora.alpha} / {config.lora.dropout}",
        ],
        ["LoRA target modules", ", ".join(config.lora.target_modules)],
        ["precision", config.precision],
        ["loss", manifest.semantics.loss.replace("_", " ")],
        ["replay ratio (Stage 2)", str(manifest.semantics.replay_ratio)],
        ["seeds", ", ".join(f"{k} {v}" for k, v in sorted(manifest.seeds.items()))],
    ]
    for stage in ("stage1", "stage2"):
        settings = getattr(config, stage)
        rows.append(
            [
                f"{stage}: epochs / batch / learning rate",
                f"{settings.epochs} / {settings.batch_size} / {settings.learning_rate}",
            ]
        )
        result = inputs.stage_results.get(stage)
        if result is not None:
            steps, tokens = result.get("steps"), result.get("tokens_trained")
            rows.append([f"{stage}: steps / tokens trained", f"{steps} / {tokens}"])
    versions = manifest.versions
    rows.append(["libraries", ", ".join(f"{k} {versions[k]}" for k in sorted(versions))])
    return rows


def _evaluation_section(evaluation: dict[str, Any] | None) -> str:
    if evaluation is None:
        return (
            "Not evaluated yet: `vulntune evaluate RUN` compares the base, Stage-1 and final "
            "models on the run's test split; export again afterwards to include the results."
        )
    models = evaluation.get("models") or {}
    names = [name for name in _MODEL_NAMES if name in models]
    parts = []
    for task in ("analysis", "codefix"):
        metrics: dict[str, dict[str, float]] = {n: _numbers(models[n].get(task)) for n in names}
        keys = list(dict.fromkeys(k for n in names for k in metrics[n]))
        if not keys:
            continue
        rows = [
            [key.replace("_", " "), *(_fmt(metrics[n].get(key)) for n in names)] for key in keys
        ]
        parts.append(f"**{task}** ({_count(evaluation, task)} examples)")
        parts.append(_table(["metric", *(_MODEL_NAMES[n] for n in names)], rows))
    retention = evaluation.get("retention")
    if isinstance(retention, dict) and retention:
        parts.append(
            "**Retention** (final ÷ Stage 1 on the Stage-1 metrics; 1.0 = nothing forgotten)"
        )
        parts.append(
            _table(
                ["metric", "retention"],
                [[k.replace("_", " "), _fmt(v)] for k, v in retention.items()],
            )
        )
    return "\n\n".join(parts) if parts else "The evaluation results hold no metrics."


def _count(evaluation: dict[str, Any], task: str) -> str:
    counts = evaluation.get("counts")
    return str(counts.get(task, "?")) if isinstance(counts, dict) else "?"


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(map(cell, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(f"{path}: cannot read the evaluation results: {exc}") from None
    return data if isinstance(data, dict) else None
