"""End-to-end two-stage training on tiny-random: artifacts, manifest contract, semantics."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch

from vulntune.datasets.examples import read_examples
from vulntune.models.errors import ModelLoadError
from vulntune.runs.base_model import BaseModelChangedError
from vulntune.runs.config import TrainingConfig
from vulntune.runs.manager import TrainingRunManager
from vulntune.runs.run import TrainingRun
from vulntune.training.sequential import SequentialFineTuner
from vulntune.training.stages import PrerequisiteError

TRAIN_FIELDS = {
    "type", "step", "epoch", "loss", "learning_rate", "grad_norm", "tokens", "loss_tokens",
    "tokens_per_s", "model_gflops_per_s", "mfu", "elapsed_s", "peak_memory_mb",
}  # fmt: skip


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and mtime."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _new_run(runs_dir: Path, config: TrainingConfig, data: tuple[Path, Path]) -> TrainingRun:
    run = TrainingRunManager(runs_dir).create_run("tiny-random", config)
    run.import_data(read_examples(data[0]), read_examples(data[1]))
    return run


def _tuner(run: TrainingRun) -> SequentialFineTuner:
    return SequentialFineTuner(run, say=lambda _m: None, show_progress=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_config, make_data_files):
    """One complete two-stage run, shared by the tests of this module. On the CPU whatever
    the machine has: its losses are pinned, and CUDA kernels round differently."""
    root = tmp_path_factory.mktemp("pipeline")
    config = TrainingConfig.from_mapping({**tiny_config.model_dump(), "device": "cpu"})
    run = _new_run(root / "runs", config, make_data_files(root / "data"))
    manifest_before = run.manifest_path.read_bytes()
    results = _tuner(run).train("all")
    return run, manifest_before, results


def _load_model(path: Path):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()


def _logits(model, ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=ids).logits


def test_training_phase_creates_complete_model_files(trained):
    from peft import PeftModel

    run, _, results = trained
    assert results["stage1"].steps > 0 and results["stage2"].steps > 0
    for name, rel in run.manifest.training_artifact_paths().items():
        path = run.dir / rel
        assert path.exists(), f"{name}: {rel} missing"
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        assert files and all(f.stat().st_size > 0 for f in files), f"{name}: empty"

    for data in (run.stage1.train_data, run.stage2.codefix_dataset, run.stage2.mixed_dataset):
        assert read_examples(data)
    for metrics in (run.stage1.metrics, run.stage2.metrics):
        records = [json.loads(line) for line in metrics.read_text().splitlines()]
        train = [r for r in records if r["type"] == "train"]
        assert train and all(r.keys() >= TRAIN_FIELDS for r in train)
        assert [r["step"] for r in train] == list(range(1, len(train) + 1))
        assert any(r["type"] == "eval" and r["set"] == "validation" for r in records)
    for stage in (1, 2):
        evaluation = run.read_evaluation(stage)
        assert math.isfinite(evaluation["evaluation"]["validation"]["loss"])
    replay = json.loads(run.stage2.replay_record.read_text())
    assert replay["n_replayed"] == len(replay["replayed_ids"]) > 0

    # Every model loads, and each adapter applied to its base equals the merged model.
    ids = torch.tensor([[5, 17, 42, 99, 7, 300, 12]])
    base = run.manifest.base_model.path
    for adapter_base, adapter, merged in (
        (base, run.stage1.adapter, run.stage1.merged_model),
        (run.stage1.merged_model, run.stage2.adapter, run.stage2.final_model),
    ):
        peft_model = PeftModel.from_pretrained(_load_model(adapter_base), adapter).eval()
        expected = _logits(peft_model, ids)
        assert torch.allclose(_logits(_load_model(merged), ids), expected, atol=1e-4)
        assert not torch.allclose(_logits(_load_model(adapter_base), ids), expected, atol=1e-4)


def test_manifest_is_byte_identical_after_the_run(trained):
    run, manifest_before, _ = trained
    assert run.manifest_path.read_bytes() == manifest_before


def test_all_stages_report_complete(trained):
    run, _, _ = trained
    assert run.is_complete(1) and run.is_complete(2)


def test_pinned_first_losses(trained):
    """Fixed seed, fp32, tiny-random: the first steps' losses are exactly reproducible."""
    run, _, _ = trained
    found = {}
    for metrics in (run.stage1.metrics, run.stage2.metrics):
        records = [json.loads(line) for line in metrics.read_text().splitlines()]
        found[metrics.parent.name] = [r["loss"] for r in records if r["type"] == "train"][:4]
    assert found == {
        "stage1": pytest.approx(PINNED_STAGE1, abs=1e-5),
        "stage2": pytest.approx(PINNED_STAGE2, abs=1e-5),
    }


# ln(1024) = 6.93: a random-init model with a 1024-token vocabulary starts near uniform.
# Re-pinned when LoRA dropout moved to the rank-r activation (lora.dropout_on = "rank"): the
# first step is unchanged (B starts at zero), later ones see different dropout noise.
PINNED_STAGE1 = [6.913871668562105, 6.906527883638211, 6.790813143291171, 6.789394244025735]
PINNED_STAGE2 = [6.591476591506807, 6.63494793262357, 6.688014030456543, 6.635830636751854]


def test_lora_settings_are_recorded_in_the_adapters(trained):
    run, _, _ = trained
    lora = run.manifest.config.lora
    for adapter in (run.stage1.adapter, run.stage2.adapter):
        config = json.loads((adapter / "adapter_config.json").read_text())
        assert config["r"] == lora.rank
        assert config["lora_alpha"] == lora.alpha
        assert config["lora_dropout"] == lora.dropout
        assert sorted(config["target_modules"]) == sorted(lora.target_modules)


def test_completed_stages_are_skipped(trained):
    run, _, _ = trained
    before = _tree(run.dir)
    results = _tuner(TrainingRun.load(run.dir)).train("all")
    assert results == {"stage1": None, "stage2": None}
    assert _tree(run.dir) == before


def test_manifest_is_complete_at_creation_and_no_stage_dir_exists(tmp_path, tiny_config):
    run = TrainingRunManager(tmp_path).create_run("tiny-random", tiny_config)
    assert sorted(p.name for p in run.dir.iterdir()) == ["config.json", "run-manifest.json"]
    paths = run.manifest.artifact_paths()
    assert {
        "stage1.train_data", "stage1.validation_data", "stage1.adapter", "stage1.merged_model",
        "stage1.metrics", "stage2.train_data.codefix_dataset", "stage2.train_data.mixed_dataset",
        "stage2.validation_data", "stage2.adapter", "stage2.final_model", "stage2.metrics",
    } <= paths.keys()  # fmt: skip
    assert all(not p.startswith("/") and ".." not in p.split("/") for p in paths.values())
    resolved = json.loads((run.dir / "config.json").read_text())
    assert resolved == TrainingConfig.model_validate(resolved).model_dump(mode="json")
    assert resolved["lora"]["rank"] == 16 and resolved["stage2"]["mode"] == "merge"
    assert not (run.dir / "stage1").exists() and not (run.dir / "stage2").exists()


def test_stage2_on_a_fresh_run_fails_fast_and_creates_nothing(tmp_path, tiny_config, data_files):
    run = _new_run(tmp_path / "runs", tiny_config, data_files)
    before = _tree(run.dir)
    with pytest.raises(PrerequisiteError) as err:
        _tuner(run).train("2")
    message = str(err.value)
    assert "stage1/merged-model" in message and "--stage 1" in message
    assert _tree(run.dir) == before


def test_training_without_data_names_the_missing_file(tmp_path, tiny_config):
    run = TrainingRunManager(tmp_path).create_run("tiny-random", tiny_config)
    with pytest.raises(PrerequisiteError, match=r"data/stage1-train\.jsonl"):
        _tuner(run).train("all")
    assert sorted(p.name for p in run.dir.iterdir()) == ["config.json", "run-manifest.json"]


def test_continue_mode_keeps_training_the_stage1_adapter(tmp_path, tiny_config, data_files):
    from peft import PeftModel

    config = TrainingConfig.from_mapping(
        {
            **tiny_config.model_dump(),
            "stage1": {**tiny_config.stage1.model_dump(), "epochs": 1},
            "stage2": {**tiny_config.stage2.model_dump(), "epochs": 1, "mode": "continue"},
        }
    )
    run = _new_run(tmp_path / "runs", config, data_files)
    assert run.manifest.semantics.stage2_adapter_base == "base_model"
    _tuner(run).train("all")
    assert run.is_complete(2)
    base = _load_model(Path(run.manifest.base_model.path))
    ids = torch.tensor([[3, 8, 21, 400, 9]])
    adapted = PeftModel.from_pretrained(base, run.stage2.adapter).eval()
    merged = _load_model(run.stage2.final_model)
    assert torch.allclose(_logits(adapted, ids), _logits(merged, ids), atol=1e-4)


def test_unknown_lora_target_module_is_an_error(tmp_path, tiny_config, data_files):
    config = TrainingConfig.from_mapping(
        {**tiny_config.model_dump(), "lora": {"target_modules": ["q_proj", "qkv_proj"]}}
    )
    run = _new_run(tmp_path / "runs", config, data_files)
    with pytest.raises(ModelLoadError, match=r"qkv_proj.*linear layers are named"):
        _tuner(run).train("1")


def test_a_changed_base_model_is_refused(tmp_path, tiny_config, data_files):
    import shutil

    from vulntune.models.resolve import resolve_model

    local = tmp_path / "my-model"
    shutil.copytree(resolve_model("tiny-random").path, local)
    run = TrainingRunManager(tmp_path / "runs").create_run(str(local), tiny_config)
    run.import_data(read_examples(data_files[0]), read_examples(data_files[1]))
    config = local / "config.json"
    config.write_text(config.read_text().replace('"rms_norm_eps"', '"rms_norm_eps" ', 1))
    os.utime(config)
    with pytest.raises(BaseModelChangedError, match="base model changed"):
        _tuner(run).train("1")


def test_a_run_without_validation_data_trains_both_stages(tmp_path, tiny_config, data_files):
    data = tiny_config.model_dump()
    data["data"]["validation_fraction"] = 0.0
    data["stage1"]["epochs"] = data["stage2"]["epochs"] = 1
    run = _new_run(tmp_path / "runs", TrainingConfig.from_mapping(data), data_files)
    assert run.stage1.validation_data.read_text() == ""
    _tuner(run).train("all")
    assert run.is_complete(1) and run.is_complete(2)
    assert run.read_evaluation(2)["evaluation"] == {}
    # Strict JSON throughout: no NaN stands in for a missing validation loss.
    for path in (run.stage1.evaluation, run.stage2.evaluation, run.stage2.metrics):
        assert "NaN" not in path.read_text()


def test_examples_cut_or_dropped_by_max_seq_len_are_reported(tmp_path, tiny_config, data_files):
    data = tiny_config.model_dump()
    data["data"]["max_seq_len"] = 48  # some prompts alone are longer, many completions are cut
    data["stage1"]["epochs"] = 1
    run = _new_run(tmp_path / "runs", TrainingConfig.from_mapping(data), data_files)
    said: list[str] = []
    SequentialFineTuner(run, say=said.append, show_progress=False).train("1")

    evaluation = run.read_evaluation(1)
    effects = evaluation["max_seq_len_effects"]
    assert set(effects) == {"train", "validation"}
    sizes = {
        "train": len(read_examples(run.stage1.train_data)),
        "validation": len(read_examples(run.stage1.validation_data)),
    }
    for name, report in effects.items():
        assert report["examples"] == sizes[name]
        assert report["kept"] + report["dropped_prompt_too_long"] == report["examples"]
        assert report["dropped_prompt_too_long"] > 0 and report["truncated"] > 0
        assert report["truncated_lost_eos"] == report["truncated"]  # one EOS, at the end
        assert report["longest"] > 48
        assert len(report["dropped_ids"]) == min(20, report["dropped_prompt_too_long"])
    train = effects["train"]
    assert evaluation["examples_trained"] == train["kept"]
    assert evaluation["examples_skipped"] == train["dropped_prompt_too_long"]
    assert evaluation["evaluation"]["validation"]["examples"] == effects["validation"]["kept"]
    # The console says it, once per set, calling out the lost end-of-sequence tokens.
    lines = [line for line in said if "max_seq_len=48" in line]
    assert [line.split(":")[1].strip() for line in lines] == ["train", "validation"]
    assert all("lost their end-of-sequence token" in line for line in lines)
    # And the metrics record it.
    records = [json.loads(line) for line in run.stage1.metrics.read_text().splitlines()]
    logged = {r["set"]: r for r in records if r["type"] == "max_seq_len"}
    assert {name: {k: v for k, v in r.items() if k not in ("type", "step", "set")}
            for name, r in logged.items()} == effects  # fmt: skip
