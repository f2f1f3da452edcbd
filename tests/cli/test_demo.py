"""`vulntune demo --base-model tiny-random`: the README's main job end to end, as the smoke run
(the demo repository built in a temporary folder, the whole pipeline on its reports)."""

from __future__ import annotations

import json

from vulntune.pipeline.state import STEPS, read_state
from vulntune.runs.run import TrainingRun


def test_the_demo_runs_the_whole_pipeline_and_compares_base_and_final(cli, tmp_path):
    runs = tmp_path / "runs"
    done = cli.ok("demo", "--base-model", "tiny-random", "--runs-dir", runs, "--no-progress",
                  "--json", timeout=300)  # fmt: skip
    result = json.loads(done.stdout)
    run = TrainingRun.load(result["run_dir"])
    assert run.manifest.base_model.spec == "tiny-random"
    assert read_state(run.dir).done == list(STEPS)
    # All six revisions went in, and the demo's configuration (tiny-random overrides) was used.
    state = read_state(run.dir)
    assert [r.revision for r in state.reports] == ["r1", "r2", "r3", "r4", "r5", "r6"]
    assert run.manifest.config.precision == "fp32" and run.manifest.config.stage1.epochs == 1
    assert state.settings["max_new_tokens"] == {"analysis": 48, "codefix": 48}
    # The evaluation compared the base and the final model; the report exists.
    models = result["results"]["models"]
    for model in ("base", "final"):
        assert "cwe_accuracy" in models[model]["analysis"]
        assert "applies_rate" in models[model]["codefix"]
    assert result["report"] == str(run.evaluation.report) and run.evaluation.report.is_file()
    lines = done.stderr.strip().splitlines()
    assert any(line.startswith("CWE accuracy: base ") for line in lines)
    assert any(line.startswith("diff applies: base ") for line in lines)
    assert lines[-2:] == [f"run directory: {run.dir}", f"report: {run.evaluation.report}"]
    # The temporary demo repository is gone; the run keeps what it needs.
    assert (run.dir / "pipeline" / "findings.jsonl").is_file()
    assert not [p for p in runs.iterdir() if p.name.startswith(".pipeline-")]
