"""Fixtures shared by the whole suite: an isolated model cache, small example datasets, and
the scanner corpus kept in the repository."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from .corpus_data import WEBAUTHN, materialise

_WORDS = (
    "sql injection query parameter user input escape cursor execute token secret header "
    "cookie path traversal file open read write upgrade version package fixed critical high "
    "medium low cwe root cause impact attacker request response validate sanitize"
).split()


@pytest.fixture(scope="session", autouse=True)
def isolated_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Built models (tiny-random) go to a per-session cache, never the user's.

    Tests that use the real SmolLM2 pass the user cache explicitly so that its ~700 MB
    conversion is done once per machine, not once per test session.
    """
    cache = tmp_path_factory.mktemp("vulntune-cache")
    old = os.environ.get("VULNTUNE_CACHE")
    os.environ["VULNTUNE_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("VULNTUNE_CACHE", None)
    else:
        os.environ["VULNTUNE_CACHE"] = old


def _synthetic_examples(kind: str, n: int, seed: int) -> list[dict[str, str]]:
    """Deterministic prompt/completion records of varied length (mechanics, not meaning)."""
    rng = random.Random(f"{kind}-{seed}")
    records = []
    for i in range(n):
        prompt = f"{kind} finding {i}: " + " ".join(rng.choices(_WORDS, k=rng.randint(5, 60)))
        completion = " ".join(rng.choices(_WORDS, k=rng.randint(3, 30)))
        records.append({"id": f"{kind}-{i:03d}", "prompt": prompt, "completion": completion})
    return records


def _write_jsonl(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _data_files(directory: Path, n: int = 40) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    return (
        _write_jsonl(directory / "analysis.jsonl", _synthetic_examples("analysis", n, 0)),
        _write_jsonl(directory / "codefix.jsonl", _synthetic_examples("codefix", n, 1)),
    )


@pytest.fixture(scope="session")
def make_data_files():
    """Factory: ``make_data_files(directory, n=40)`` -> (analysis.jsonl, codefix.jsonl)."""
    return _data_files


@pytest.fixture
def data_files(tmp_path: Path) -> tuple[Path, Path]:
    """(analysis.jsonl, codefix.jsonl) with 40 synthetic examples each."""
    return _data_files(tmp_path / "data")


# A configuration for the ~1M-parameter tiny-random model: fp32 for exact, portable losses,
# frequent checkpoints so that interruption tests have something to resume from.
TINY_CONFIG = {
    "precision": "fp32",
    "stage1": {"epochs": 2, "batch_size": 4, "checkpoint_every": 3, "learning_rate": 1e-3},
    "stage2": {"epochs": 2, "batch_size": 4, "checkpoint_every": 3, "learning_rate": 1e-3},
}


@pytest.fixture(scope="session")
def tiny_config():
    """The TrainingConfig used by tiny-random training tests."""
    from vulntune.runs.config import TrainingConfig

    return TrainingConfig.from_mapping(TINY_CONFIG)


@pytest.fixture(scope="session")
def tiny_config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TINY_CONFIG as a JSON file, for the CLI and subprocesses."""
    path = tmp_path_factory.mktemp("config") / "tiny.json"
    path.write_text(json.dumps(TINY_CONFIG))
    return path


@pytest.fixture(scope="session")
def scanner_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scanner corpus of tests/data/corpus written out once per session, decompressed and
    under the real file names: a folder holding ``webauthn-server-ci/``."""
    return materialise(tmp_path_factory.mktemp("scanner-corpus"))


@pytest.fixture(scope="session")
def webauthn_corpus(scanner_corpus: Path) -> Path:
    """The webauthn-server-ci folder of the corpus (real CI output of one public project)."""
    return scanner_corpus / WEBAUTHN


# A simple prefix-consistent template: every turn ends with EOS and a newline.
SIMPLE_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}{{ eos_token }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


@pytest.fixture
def tokenizer():
    """A fresh tiny-random tokenizer (tests may give it a chat template)."""
    from transformers import AutoTokenizer

    from vulntune.models.resolve import resolve_model

    return AutoTokenizer.from_pretrained(resolve_model("tiny-random").path)


@pytest.fixture
def chat_tokenizer(tokenizer):
    """The tiny-random tokenizer with a simple prefix-consistent chat template."""
    tokenizer.chat_template = SIMPLE_TEMPLATE
    return tokenizer
