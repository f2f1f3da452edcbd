"""Structural validation of model and adapter artifacts, without loading any weights.

"The file exists" is not proof that a stage finished well. These checks read what is cheap
to read -- JSON configs and safetensors headers -- and verify that the pieces fit: every
tensor's bytes are inside its file, and every LoRA matrix matches the shape of the base
module it adapts.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from vulntune.errors import VulntuneError

_DTYPE_BYTES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
    "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "U32": 4, "U64": 8,
}  # fmt: skip
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json")


class ArtifactError(VulntuneError):
    """An artifact that is missing, truncated or inconsistent."""


def read_safetensors_header(path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Return ``{tensor name: (dtype, shape)}`` after checking the header is intact."""
    try:
        with open(path, "rb") as fh:
            size = path.stat().st_size
            head = fh.read(8)
            if len(head) < 8:
                raise ArtifactError(f"{path}: truncated safetensors file ({size} bytes)")
            (n,) = struct.unpack("<Q", head)
            if n > size - 8:
                raise ArtifactError(f"{path}: safetensors header length {n} exceeds file size")
            header: Any = json.loads(fh.read(n))
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot read: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ArtifactError(f"{path}: safetensors header is not valid JSON") from None
    if not isinstance(header, dict):
        raise ArtifactError(f"{path}: safetensors header is not an object")
    data_size = size - 8 - n
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (start, end) = info["dtype"], info["shape"], info["data_offsets"]
        except (TypeError, KeyError, ValueError):
            raise ArtifactError(f"{path}: malformed header entry for tensor {name!r}") from None
        if not (isinstance(dtype, str) and isinstance(shape, list)) or not all(
            type(v) is int and v >= 0 for v in (*shape, start, end)
        ):
            raise ArtifactError(f"{path}: malformed header entry for tensor {name!r}")
        shape = tuple(shape)
        count = 1
        for dim in shape:
            count *= dim
        width = _DTYPE_BYTES.get(dtype)
        if width is not None and end - start != count * width:
            raise ArtifactError(f"{path}: tensor {name!r} has {end - start} bytes for {shape}")
        if not 0 <= start <= end <= data_size:
            raise ArtifactError(f"{path}: tensor {name!r} lies beyond the end of the file")
        tensors[name] = (dtype, shape)
    return tensors


def read_json_object(path: Path) -> dict[str, Any]:
    """Read a JSON file that must hold an object; ArtifactError names the file otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{path}: missing") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: unreadable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ArtifactError(f"{path}: expected a JSON object")
    return data


def model_weight_shapes(model_dir: Path) -> dict[str, tuple[int, ...]]:
    """Shapes of all weights of a model directory (single file or sharded)."""
    single = model_dir / "model.safetensors"
    index = model_dir / "model.safetensors.index.json"
    if single.is_file():
        files = [single]
    elif index.is_file():
        weight_map = read_json_object(index).get("weight_map")
        if not isinstance(weight_map, dict) or not weight_map:
            raise ArtifactError(f"{index}: has no weight_map")
        files = [model_dir / name for name in sorted(set(weight_map.values()))]
    else:
        raise ArtifactError(f"{model_dir}: no model.safetensors (or sharded index) found")
    shapes: dict[str, tuple[int, ...]] = {}
    for file in files:
        if not file.is_file():
            raise ArtifactError(f"{file}: weight shard listed in the index is missing")
        shapes.update({k: shape for k, (_dtype, shape) in read_safetensors_header(file).items()})
    return shapes


def validate_model_dir(model_dir: Path) -> dict[str, tuple[int, ...]]:
    """Check a full model directory: config, intact weights, tokenizer. Returns weight shapes."""
    if not model_dir.is_dir():
        raise ArtifactError(f"{model_dir}: missing model directory")
    config = read_json_object(model_dir / "config.json")
    if "model_type" not in config:
        raise ArtifactError(f"{model_dir / 'config.json'}: has no model_type")
    shapes = model_weight_shapes(model_dir)
    if not shapes:
        raise ArtifactError(f"{model_dir}: weights file holds no tensors")
    if not any((model_dir / name).is_file() for name in TOKENIZER_FILES):
        raise ArtifactError(f"{model_dir}: no tokenizer files ({', '.join(TOKENIZER_FILES)})")
    return shapes


def validate_adapter_dir(adapter_dir: Path, base_shapes: dict[str, tuple[int, ...]]) -> None:
    """Check a PEFT LoRA adapter against the weight shapes of the model it adapts."""
    if not adapter_dir.is_dir():
        raise ArtifactError(f"{adapter_dir}: missing adapter directory")
    config = read_json_object(adapter_dir / "adapter_config.json")
    if config.get("peft_type") != "LORA":
        raise ArtifactError(f"{adapter_dir}: adapter_config.json is not a LoRA adapter")
    rank = config.get("r")
    tensors = read_safetensors_header(adapter_dir / "adapter_model.safetensors")
    if not tensors:
        raise ArtifactError(f"{adapter_dir}: adapter_model.safetensors holds no tensors")
    for name, (_dtype, shape) in tensors.items():
        for part, rank_axis in ((".lora_A.weight", 0), (".lora_B.weight", 1)):
            if not name.endswith(part):
                continue
            module = name.removeprefix("base_model.model.").removesuffix(part)
            base = base_shapes.get(f"{module}.weight")
            if base is None:
                raise ArtifactError(f"{adapter_dir}: {name} adapts {module}, absent from the base")
            if len(base) != 2:
                raise ArtifactError(
                    f"{adapter_dir}: {name} adapts {module}, whose base weight has shape "
                    f"{list(base)}, not a matrix"
                )
            out_features, in_features = base
            expected = (rank, in_features) if rank_axis == 0 else (out_features, rank)
            if shape != expected:
                raise ArtifactError(
                    f"{adapter_dir}: {name} has shape {list(shape)}, expected {list(expected)} "
                    f"for rank {rank} on base weight {list(base)}"
                )
