"""A run trained on prompts with similar findings: analyze writes the same lines into its own
analysis prompts, from the run's training split, and leaves code-fix prompts alone."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

import pytest

from vulntune.datasets.render import Task
from vulntune.inference.analyze_job import analyze_reports
from vulntune.inference.analyze_model import model_from_run
from vulntune.runs.manager import TrainingRunManager
from vulntune.runs.manifest import ManifestError

from .scripted import CODEQL, FAKE_MODEL, PROJECT, ScriptedCompleter

TRAIN = [
    {
        "id": "an-1",
        "prompt": "Analyze this security finding.\nTool: CodeQL\nRule: py/sql-injection\n"
        "Message: This query depends on a user-provided value.\nCode:\ncursor.execute(q)",
        "completion": "Classification: CWE-89 SQL Injection\nSeverity: high\nCategory: injection",
        "meta": {"group": "g1"},
    },
    {
        "id": "an-2",
        "prompt": "Analyze this security finding.\nTool: bandit\nRule: B602\n"
        "Message: subprocess call with shell=True\nCode:\nsubprocess.call(c, shell=True)",
        "completion": "Classification: CWE-78 OS Command Injection\nSeverity: high\n"
        "Category: injection",
        "meta": {"group": "g2"},
    },
]


class Recording(ScriptedCompleter):
    def __init__(self, findings: Sequence) -> None:
        super().__init__(findings)
        self.prompts: dict[Task, list[str]] = {"analysis": [], "codefix": []}

    def __call__(self, prompts: Sequence[str], task: Task) -> list[str]:
        self.prompts[task] += prompts
        return super().__call__(prompts, task)


def _train_file(tmp_path):
    path = tmp_path / "stage1-train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in TRAIN), encoding="utf-8")
    return path


def test_analysis_prompts_get_the_runs_similar_findings(tmp_path):
    from vulntune.inference.analyze_inputs import read_inputs

    findings = read_inputs([CODEQL], PROJECT).report.findings
    model = replace(FAKE_MODEL, similar=1, similar_from=_train_file(tmp_path))
    completer = Recording(findings)
    outcome = analyze_reports([CODEQL], model, completer, "jsonl", source_root=PROJECT)
    assert outcome.result.analysed == 2
    for prompt in completer.prompts["analysis"]:
        head, _ = prompt.split("\nCode:\n")
        assert head.split("\n")[-1] == (
            "Similar finding: CodeQL py/sql-injection: This query depends on a user-provided "
            "value. -> CWE-89 SQL Injection"
        )
    assert completer.prompts["codefix"]
    assert not any("Similar finding" in p for p in completer.prompts["codefix"])
    plain = Recording(findings)
    analyze_reports([CODEQL], FAKE_MODEL, plain, "jsonl", source_root=PROJECT)
    assert not any("Similar finding" in p for p in plain.prompts["analysis"])


def test_a_broken_training_file_is_named_before_any_model_is_asked(tmp_path):
    path = _train_file(tmp_path)
    path.write_text("{broken\n", encoding="utf-8")
    model = replace(FAKE_MODEL, similar=1, similar_from=path)
    completer = Recording([])
    with pytest.raises(ValueError, match=r"stage1-train\.jsonl:1: not a training example"):
        analyze_reports([CODEQL], model, completer, "jsonl", source_root=PROJECT)
    assert completer.calls == []


def test_a_run_says_how_many_similar_findings_its_prompts_carry(tmp_path, tiny_config):
    run = TrainingRunManager(tmp_path / "runs").create_run("tiny-random", tiny_config)
    assert run.similar_findings() == 0  # no stats: a run made from examples
    run.data_stats.parent.mkdir(parents=True, exist_ok=True)
    run.data_stats.write_text(json.dumps({"settings": {"similar": 2}}), encoding="utf-8")
    assert run.similar_findings() == 2
    model_dir = run.path(run.manifest.inference.model)
    model_dir.mkdir(parents=True)
    (model_dir / "config.json").write_text("{}", encoding="utf-8")
    model = model_from_run(run)
    assert (model.similar, model.similar_from) == (2, run.stage1.train_data)
    for bad in ('{"settings": {"similar": "two"}}', "[1]", "{no json"):
        run.data_stats.write_text(bad, encoding="utf-8")
        with pytest.raises(ManifestError, match=r"stats\.json"):
            run.similar_findings()
    run.data_stats.write_text(json.dumps({"settings": {"catalogue": True}}), encoding="utf-8")
    assert model_from_run(run).similar == 0 and model_from_run(run).similar_from is None
