"""MITRE's CWE catalogue: names, hierarchy, descriptions and demonstrative examples by id.

The catalogue file is the one the ``cwe2`` package ships (``cwe2/database_v49/
cwec_v4.14.xml``, CWE 4.14, MITRE's terms of use). It is located without importing cwe2's
code. A newer catalogue downloaded from MITRE can be used instead: pass its path to
:meth:`CweCatalogue.load` or set ``$VULNTUNE_CWE_XML``.

Parsing the 15 MB XML takes about 1.5 s, so the parsed records are cached as JSON in
``$VULNTUNE_CACHE/cwe/`` (else ``$XDG_CACHE_HOME/vulntune/cwe/``, else
``~/.cache/vulntune/cwe/``), keyed by the XML's sha256: a later load reads the cache in a few
tens of milliseconds, and an edited or different XML never reads a stale cache. A cache that
cannot be decoded is rebuilt; one that cannot be written (a read-only home) is skipped.
Within a process, :meth:`CweCatalogue.load` returns the same object for the same file.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import re
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

import msgspec

from vulntune.datasets.cwe_xml import (
    CatalogueError,
    CodeBlock,
    Consequence,
    CweEntry,
    DemoExample,
    EntryKind,
    ParsedCatalogue,
    parse_catalogue,
)
from vulntune.io.atomic import atomic_write_bytes

__all__ = [
    "CatalogueError",
    "CodeBlock",
    "Consequence",
    "CweCatalogue",
    "CweEntry",
    "DemoExample",
    "EntryKind",
    "catalogue_cache_dir",
    "default_catalogue_path",
    "parse_cwe_id",
]

ENV_XML = "VULNTUNE_CWE_XML"
# Bump when CweEntry or the parsing changes: older cache files are then simply not read.
CACHE_FORMAT = 3
_BUNDLED_GLOB = "database_v*/cwec_v*.xml"

_LOADED: dict[Path, CweCatalogue] = {}


class CweCatalogue:
    """The parsed catalogue with lookups by id. Build it with :meth:`load`."""

    def __init__(self, parsed: ParsedCatalogue, source: Path) -> None:
        self.version = parsed.version  # "4.14"
        self.date = parsed.date  # "2024-02-29"
        self.source = source
        self._entries: dict[int, CweEntry] = {e.id: e for e in parsed.entries}

    @classmethod
    def load(cls, path: str | Path | None = None, *, cache_dir: Path | None = None) -> CweCatalogue:
        """The catalogue in ``path``, else ``$VULNTUNE_CWE_XML``, else the one cwe2 ships.

        Loaded once per process and file; parsed records are cached on disk (see the module
        docstring; ``cache_dir`` overrides the directory). Raises CatalogueError when the
        file is missing or not a CWE catalogue."""
        source = Path(path) if path is not None else None
        if source is None and os.environ.get(ENV_XML):
            source = Path(os.environ[ENV_XML])
        if source is None:
            source = default_catalogue_path()
        source = source.resolve()
        if source not in _LOADED:
            _LOADED[source] = cls(_parse_cached(source, cache_dir), source)
        return _LOADED[source]

    def get(self, cwe_id: int) -> CweEntry | None:
        """The entry with this id, or None when the catalogue has none."""
        return self._entries.get(cwe_id)

    def name(self, cwe_id: int) -> str | None:
        """MITRE's name of the entry, or None for an unknown id."""
        entry = self._entries.get(cwe_id)
        return entry.name if entry is not None else None

    def ids(self, kind: EntryKind | None = None) -> list[int]:
        """All ids in ascending order, or those of one kind (weakness, category, view)."""
        return sorted(i for i, e in self._entries.items() if kind is None or e.kind == kind)

    def deprecated(self, cwe_id: int) -> bool:
        """True when MITRE has deprecated the entry or marked it obsolete (it must not be used
        to classify new findings). Unknown ids raise KeyError."""
        return self._entries[cwe_id].status in ("Deprecated", "Obsolete")

    def parents(self, cwe_id: int) -> tuple[int, ...]:
        """The entry's parents (see :class:`CweEntry`); () for an unknown id."""
        entry = self._entries.get(cwe_id)
        return entry.parents if entry is not None else ()

    def children(self, cwe_id: int) -> tuple[int, ...]:
        """The entries that name ``cwe_id`` among their parents, in ascending order."""
        return self._children.get(cwe_id, ())

    def ancestors(self, cwe_id: int) -> tuple[int, ...]:
        """Every entry above ``cwe_id`` through :meth:`parents`, nearest first (breadth
        first, each once); () for a pillar or an unknown id."""
        seen: dict[int, None] = {}
        frontier = list(self.parents(cwe_id))
        while frontier:
            following: list[int] = []
            for parent in frontier:
                if parent not in seen and parent != cwe_id:
                    seen[parent] = None
                    following += self.parents(parent)
            frontier = following
        return tuple(seen)

    def is_related(self, a: int, b: int) -> bool:
        """True when ``a`` and ``b`` are the same id or one is a direct parent of the other
        (view 1000, as :meth:`parents`): how close a predicted CWE is to the reference."""
        return a == b or b in self.parents(a) or a in self.parents(b)

    @cached_property
    def _children(self) -> Mapping[int, tuple[int, ...]]:
        found: dict[int, list[int]] = {}
        for entry in self._entries.values():
            for parent in entry.parents:
                found.setdefault(parent, []).append(entry.id)
        return {parent: tuple(sorted(ids)) for parent, ids in found.items()}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, cwe_id: object) -> bool:
        return cwe_id in self._entries

    def __repr__(self) -> str:
        return f"CweCatalogue(version={self.version!r}, entries={len(self)}, source={self.source})"


def default_catalogue_path() -> Path:
    """The catalogue XML installed by the cwe2 package (the newest ``database_v*`` folder),
    found through the import system without running cwe2's code."""
    spec = importlib.util.find_spec("cwe2")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    found = sorted(
        (path for folder in folders for path in Path(folder).glob(_BUNDLED_GLOB)),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.name)],
    )
    if not found:
        raise CatalogueError(
            "no CWE catalogue found: the cwe2 package (a vulntune dependency) is not installed "
            f"or ships no {_BUNDLED_GLOB}; reinstall vulntune (scripts/bootstrap) or set "
            f"${ENV_XML} to a cwec_v4.*.xml file downloaded from MITRE"
        )
    return found[-1]


def catalogue_cache_dir() -> Path:
    """Where parsed catalogues are cached: ``$VULNTUNE_CACHE/cwe``, else
    ``$XDG_CACHE_HOME/vulntune/cwe``, else ``~/.cache/vulntune/cwe``."""
    if os.environ.get("VULNTUNE_CACHE"):
        return Path(os.environ["VULNTUNE_CACHE"]) / "cwe"
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "vulntune" / "cwe"
    return Path.home() / ".cache" / "vulntune" / "cwe"


def _parse_cached(source: Path, cache_dir: Path | None) -> ParsedCatalogue:
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"cannot read CWE catalogue {source}: {exc.strerror}") from None
    digest = hashlib.sha256(data).hexdigest()
    cache = (cache_dir or catalogue_cache_dir()) / f"cwec-{digest[:32]}-f{CACHE_FORMAT}.json"
    try:
        return msgspec.json.decode(cache.read_bytes(), type=ParsedCatalogue)
    except (OSError, msgspec.DecodeError):
        pass  # no cache yet, or a damaged one: parse the XML and (re)write it
    parsed = parse_catalogue(source)
    # A read-only cache directory only costs the parse time again on the next load.
    with contextlib.suppress(OSError):
        atomic_write_bytes(cache, msgspec.json.encode(parsed))
    return parsed


_PREFIXED_ID = re.compile(r"cwe[\s_:#-]*(?:id[\s_:#-]*)?(\d{1,6})(?!\w|\.\d)", re.I)


def parse_cwe_id(text: str | int | None) -> int | None:
    """The CWE number ``text`` names: ``"CWE-89"``, ``"cwe-89"``, ``"89"``, ``"CWE 89"``,
    ``"CWE-089"``, ``"CWE-89: Improper Neutralization..."``; None when it names none
    (``"89 apples"``, ``"CWE-89.5"``, ``"CWE-0"``, ``""``)."""
    if isinstance(text, int):
        return text if text > 0 else None
    value = (text or "").strip()
    if value.isascii() and value.isdigit():
        number = int(value)
    elif (match := _PREFIXED_ID.match(value)) is not None:
        number = int(match.group(1))
    else:
        return None
    return number if number > 0 else None
