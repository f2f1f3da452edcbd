"""Structural validation of checkpoints and adapters from their headers and configs."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file

from vulntune.runs.artifacts import (
    ArtifactError,
    read_json_object,
    read_safetensors_header,
    validate_adapter_dir,
    validate_model_dir,
)

BASE_WEIGHTS = {
    "model.layers.0.self_attn.q_proj.weight": (8, 16),
    "model.layers.0.mlp.down_proj.weight": (16, 24),
    "model.norm.weight": (16,),
    "lm_head.weight": (32, 16),
}


def _raw_safetensors(path: Path, header: Any, data: bytes = b"") -> Path:
    """A safetensors file with an arbitrary (possibly broken) header."""
    blob = json.dumps(header).encode() if not isinstance(header, bytes) else header
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + data)
    return path


def _model_dir(root: Path, *, tokenizer: bool = True, config: bool = True) -> Path:
    root.mkdir(parents=True)
    save_file({k: torch.zeros(s) for k, s in BASE_WEIGHTS.items()}, root / "model.safetensors")
    if config:
        (root / "config.json").write_text(json.dumps({"model_type": "llama"}))
    if tokenizer:
        (root / "tokenizer.json").write_text("{}")
    return root


def _adapter_dir(
    root: Path, rank: int = 4, shapes: dict[str, tuple[int, ...]] | None = None, **config: Any
) -> Path:
    """A PEFT-style LoRA adapter on q_proj and down_proj of BASE_WEIGHTS."""
    root.mkdir(parents=True)
    prefix = "base_model.model."
    if shapes is None:
        shapes = {
            f"{prefix}model.layers.0.self_attn.q_proj.lora_A.weight": (rank, 16),
            f"{prefix}model.layers.0.self_attn.q_proj.lora_B.weight": (8, rank),
            f"{prefix}model.layers.0.mlp.down_proj.lora_A.weight": (rank, 24),
            f"{prefix}model.layers.0.mlp.down_proj.lora_B.weight": (16, rank),
        }
    save_file({k: torch.zeros(s) for k, s in shapes.items()}, root / "adapter_model.safetensors")
    cfg = {"peft_type": "LORA", "r": rank, **config}
    (root / "adapter_config.json").write_text(json.dumps(cfg))
    return root


# -- safetensors headers ---------------------------------------------------------------


def test_header_of_a_good_file(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file(
        {"a": torch.zeros(3, 5), "b": torch.zeros(7, dtype=torch.bfloat16), "c": torch.zeros(())},
        path,
        metadata={"format": "pt"},
    )
    assert read_safetensors_header(path) == {
        "a": ("F32", (3, 5)),
        "b": ("BF16", (7,)),
        "c": ("F32", ()),
    }


def test_header_of_an_empty_tensor_file(tmp_path):
    path = _raw_safetensors(tmp_path / "w.safetensors", {"__metadata__": {"format": "pt"}})
    assert read_safetensors_header(path) == {}


@pytest.mark.parametrize("size", [0, 1, 7])
def test_a_file_shorter_than_the_length_prefix(tmp_path, size):
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"\x01" * size)
    with pytest.raises(ArtifactError) as err:
        read_safetensors_header(path)
    assert str(err.value) == f"{path}: truncated safetensors file ({size} bytes)"


def test_a_file_cut_inside_its_data(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file({"a": torch.zeros(64), "b": torch.zeros(64)}, path)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ArtifactError, match="tensor 'b' lies beyond the end of the file"):
        read_safetensors_header(path)


def test_a_file_cut_inside_its_header(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file({"a": torch.zeros(4)}, path)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(ArtifactError, match=r"safetensors header length \d+ exceeds file size"):
        read_safetensors_header(path)


def test_a_header_length_beyond_the_file(tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(struct.pack("<Q", 2**63) + b"{}")
    with pytest.raises(ArtifactError) as err:
        read_safetensors_header(path)
    assert str(err.value) == f"{path}: safetensors header length {2**63} exceeds file size"


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (b"\x89PNG\r\n\x1a\n garbage", "safetensors header is not valid JSON"),
        (b"\xff\xfe{}", "safetensors header is not valid JSON"),
        (b'{"a": ', "safetensors header is not valid JSON"),
        ([1, 2, 3], "safetensors header is not an object"),
        ({"a": "F32"}, "malformed header entry for tensor 'a'"),
        ({"a": {"dtype": "F32", "shape": [2]}}, "malformed header entry for tensor 'a'"),
        (
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4, 8]}},
            "malformed header entry for tensor 'a'",
        ),
        (
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": ["0", "8"]}},
            "malformed header entry for tensor 'a'",
        ),
        (
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": "08"}},
            "malformed header entry for tensor 'a'",
        ),
        (
            {"a": {"dtype": "F32", "shape": [-1, -2], "data_offsets": [0, 8]}},
            "malformed header entry for tensor 'a'",
        ),
        (
            {"a": {"dtype": "F32", "shape": {"x": 2}, "data_offsets": [0, 8]}},
            "malformed header entry for tensor 'a'",
        ),
        (
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0.0, 8.0]}},
            "malformed header entry for tensor 'a'",
        ),
        (
            {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}},
            "tensor 'a' has 8 bytes for (3,)",
        ),
        (
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}},
            "tensor 'a' lies beyond the end of the file",
        ),
    ],
)
def test_garbage_headers_are_refused(tmp_path, header, problem):
    path = _raw_safetensors(tmp_path / "w.safetensors", header, data=b"\x00" * 8)
    with pytest.raises(ArtifactError) as err:
        read_safetensors_header(path)
    assert str(err.value) == f"{path}: {problem}"


def test_a_missing_file_is_an_artifact_error(tmp_path):
    with pytest.raises(ArtifactError, match=r"w\.safetensors: cannot read: No such file"):
        read_safetensors_header(tmp_path / "w.safetensors")


@pytest.mark.parametrize(
    ("text", "problem"), [(None, "missing"), ("{", "unreadable JSON"), ("[]", "expected a JSON")]
)
def test_read_json_object(tmp_path, text, problem):
    path = tmp_path / "x.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ArtifactError, match=f"^{path}: {problem}"):
        read_json_object(path)


# -- model directories -----------------------------------------------------------------


def test_a_complete_model_dir_gives_its_weight_shapes(tmp_path):
    assert validate_model_dir(_model_dir(tmp_path / "m")) == BASE_WEIGHTS


def test_the_real_tiny_random_checkpoint_validates():
    from vulntune.models.resolve import resolve_model

    shapes = validate_model_dir(resolve_model("tiny-random").path)
    assert len(shapes) == 25
    assert shapes["model.layers.1.mlp.down_proj.weight"] == (128, 768)
    assert shapes["lm_head.weight"] == (1024, 128)


def test_a_model_without_tokenizer(tmp_path):
    model = _model_dir(tmp_path / "m", tokenizer=False)
    with pytest.raises(ArtifactError) as err:
        validate_model_dir(model)
    assert str(err.value) == (
        f"{model}: no tokenizer files (tokenizer.json, tokenizer.model, vocab.json)"
    )


def test_a_model_without_config(tmp_path):
    model = _model_dir(tmp_path / "m", config=False)
    with pytest.raises(ArtifactError) as err:
        validate_model_dir(model)
    assert str(err.value) == f"{model / 'config.json'}: missing"


def test_a_config_without_model_type(tmp_path):
    model = _model_dir(tmp_path / "m")
    (model / "config.json").write_text('{"hidden_size": 16}')
    with pytest.raises(ArtifactError, match=r"config\.json: has no model_type"):
        validate_model_dir(model)


def test_a_model_without_weights_or_directory(tmp_path):
    model = _model_dir(tmp_path / "m")
    (model / "model.safetensors").unlink()
    with pytest.raises(ArtifactError, match=r"no model\.safetensors \(or sharded index\) found"):
        validate_model_dir(model)
    with pytest.raises(ArtifactError, match="missing model directory"):
        validate_model_dir(tmp_path / "nothing")


def test_a_sharded_model_and_a_missing_shard(tmp_path):
    model = _model_dir(tmp_path / "m")
    (model / "model.safetensors").unlink()
    names = list(BASE_WEIGHTS)
    save_file({n: torch.zeros(BASE_WEIGHTS[n]) for n in names[:2]}, model / "part-1.safetensors")
    save_file({n: torch.zeros(BASE_WEIGHTS[n]) for n in names[2:]}, model / "part-2.safetensors")
    weight_map = {
        n: "part-1.safetensors" if i < 2 else "part-2.safetensors" for i, n in enumerate(names)
    }
    (model / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    assert validate_model_dir(model) == BASE_WEIGHTS
    (model / "part-2.safetensors").unlink()
    with pytest.raises(
        ArtifactError, match=r"part-2\.safetensors: weight shard listed in the index"
    ):
        validate_model_dir(model)


def test_a_truncated_weights_file_fails_the_model(tmp_path):
    model = _model_dir(tmp_path / "m")
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1])
    with pytest.raises(ArtifactError, match="lies beyond the end of the file"):
        validate_model_dir(model)


# -- adapters --------------------------------------------------------------------------


def test_a_matching_adapter_validates_and_the_same_one_on_another_base_does_not(tmp_path):
    wider = {name: (*shape[:-1], shape[-1] + 1) for name, shape in BASE_WEIGHTS.items()}
    for name, rank in (("a", 4), ("b", 1)):
        adapter = _adapter_dir(tmp_path / name, rank=rank)
        assert validate_adapter_dir(adapter, BASE_WEIGHTS) is None  # the shapes fit
        with pytest.raises(ArtifactError, match=rf"expected \[{rank}, 25\] for rank {rank}"):
            validate_adapter_dir(adapter, wider)


def test_an_adapter_whose_config_rank_differs_from_its_tensors(tmp_path):
    adapter = _adapter_dir(tmp_path / "a", rank=4)
    (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 8}))
    with pytest.raises(ArtifactError) as err:
        validate_adapter_dir(adapter, BASE_WEIGHTS)
    assert str(err.value) == (
        f"{adapter}: base_model.model.model.layers.0.mlp.down_proj.lora_A.weight has shape "
        "[4, 24], expected [8, 24] for rank 8 on base weight [16, 24]"
    )


def test_an_adapter_made_for_another_base_model(tmp_path):
    adapter = _adapter_dir(tmp_path / "a", rank=4)
    other_base = {**BASE_WEIGHTS, "model.layers.0.self_attn.q_proj.weight": (12, 16)}
    with pytest.raises(ArtifactError) as err:
        validate_adapter_dir(adapter, other_base)
    assert str(err.value) == (
        f"{adapter}: base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight has shape "
        "[8, 4], expected [12, 4] for rank 4 on base weight [12, 16]"
    )


def test_an_adapter_for_a_module_the_base_lacks(tmp_path):
    adapter = _adapter_dir(
        tmp_path / "a",
        shapes={"base_model.model.model.layers.9.self_attn.q_proj.lora_A.weight": (4, 16)},
    )
    with pytest.raises(ArtifactError, match=r"adapts model\.layers\.9\.self_attn\.q_proj, absent"):
        validate_adapter_dir(adapter, BASE_WEIGHTS)


def test_an_adapter_on_a_base_weight_that_is_not_a_matrix(tmp_path):
    adapter = _adapter_dir(
        tmp_path / "a", shapes={"base_model.model.model.norm.lora_A.weight": (4, 16)}
    )
    with pytest.raises(ArtifactError) as err:
        validate_adapter_dir(adapter, BASE_WEIGHTS)
    assert str(err.value) == (
        f"{adapter}: base_model.model.model.norm.lora_A.weight adapts model.norm, whose base "
        "weight has shape [16], not a matrix"
    )


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        ("no-config", "adapter_config.json: missing"),
        ("not-lora", "adapter_config.json is not a LoRA adapter"),
        ("no-weights", "adapter_model.safetensors: cannot read"),
        ("empty-weights", "adapter_model.safetensors holds no tensors"),
        ("no-dir", "missing adapter directory"),
    ],
)
def test_broken_adapters(tmp_path, damage, problem):
    adapter = _adapter_dir(tmp_path / "a")
    if damage == "no-config":
        (adapter / "adapter_config.json").unlink()
    elif damage == "not-lora":
        (adapter / "adapter_config.json").write_text('{"peft_type": "IA3", "r": 4}')
    elif damage == "no-weights":
        (adapter / "adapter_model.safetensors").unlink()
    elif damage == "empty-weights":
        _raw_safetensors(adapter / "adapter_model.safetensors", {})
    else:
        adapter = tmp_path / "missing"
    with pytest.raises(ArtifactError, match=problem):
        validate_adapter_dir(adapter, BASE_WEIGHTS)
