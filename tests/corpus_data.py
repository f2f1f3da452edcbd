"""The scanner corpus the tests read: real CI output kept in the repository.

``tests/data/corpus`` holds the reports of one public project's CI (``webauthn-server-ci``:
Trivy, Checkov, Semgrep, gitleaks and OSV-Scanner SARIF/JSON, ZAP JSON/HTML/Markdown) in
their original folder layout, the large files gzip-compressed (``semgrep.sarif.gz``).
``SHA256SUMS`` lists every file under its real name with the digest of its real content: it
is the list the tests draw their cases from, so a file that goes missing fails the suite
(``tests/test_corpus_data.py``) instead of silently dropping the cases made of it.

Tests read the corpus through the session fixture ``scanner_corpus`` (``tests/conftest.py``),
which writes it out decompressed, under the real names, into a temporary folder.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

CORPUS_DATA = Path(__file__).resolve().parent / "data" / "corpus"
MANIFEST = CORPUS_DATA / "SHA256SUMS"
WEBAUTHN = "webauthn-server-ci"  # the one project in the corpus


def corpus_manifest() -> dict[str, str]:
    """Every corpus file (a POSIX path relative to the corpus root, its real name) -> the
    SHA-256 of its real content, in manifest order."""
    manifest: dict[str, str] = {}
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        manifest[name] = digest
    return manifest


def corpus_files(*suffixes: str) -> list[str]:
    """The manifest's file names (relative to the corpus root), those ending in one of
    ``suffixes`` when given, sorted."""
    return sorted(n for n in corpus_manifest() if not suffixes or n.endswith(suffixes))


def stored_path(name: str) -> Path:
    """Where the repository keeps corpus file ``name``: as is, or gzip-compressed (``.gz``)."""
    plain = CORPUS_DATA / name
    return plain if plain.is_file() else plain.with_name(plain.name + ".gz")


def read_corpus_file(name: str) -> bytes:
    """The real content of corpus file ``name``. Raises FileNotFoundError when the repository
    has it in neither form."""
    path = stored_path(name)
    if path.suffix == ".gz":
        with gzip.open(path) as handle:
            return handle.read()
    return path.read_bytes()


def materialise(destination: Path) -> Path:
    """Write every corpus file decompressed, under its real name, below ``destination``;
    returns ``destination`` (the corpus root: ``destination / WEBAUTHN`` is the project)."""
    for name in corpus_manifest():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        source = stored_path(name)
        if source.suffix == ".gz":
            with gzip.open(source) as packed, open(target, "wb") as out:
                shutil.copyfileobj(packed, out)
        else:
            shutil.copyfile(source, target)
    return destination
