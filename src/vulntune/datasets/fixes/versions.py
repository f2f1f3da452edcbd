"""Version ordering per ecosystem, and the smallest upgrade that fixes every advisory.

- PyPI: PEP 440 (``packaging``); a version it cannot parse sorts by the generic key.
- npm, Cargo, Go: semver (a leading ``v`` ignored; a pre-release sorts before its release).
- Maven: the ordering of Maven's ComparableVersion for the usual shapes: numbers compare as
  numbers, qualifiers ``alpha < beta < milestone < rc < snapshot < (release) < sp``, other
  qualifiers after them alphabetically; trailing zeros do not count (``1.0 == 1``).
- RubyGems: segments split on dots; a segment with letters makes a pre-release.
- Anything else: numbers as numbers, words as words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from packaging.version import InvalidVersion, Version

VersionKey = tuple[object, ...]
_TOKEN = re.compile(r"\d+|[A-Za-z]+")


def generic_key(version: str) -> VersionKey:
    """Numbers compare as numbers, words as words (before numbers)."""
    return tuple(
        (1, int(t), "") if t.isdigit() else (0, 0, t.lower()) for t in _TOKEN.findall(version)
    )


def pep440_key(version: str) -> VersionKey:
    """PEP 440 order."""
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, generic_key(version))


_SEMVER = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$")


def semver_key(version: str) -> VersionKey:
    """Semantic-versioning order (npm, Cargo, Go modules)."""
    m = _SEMVER.match(version.strip())
    if m is None:
        return (0, generic_key(version))
    core = tuple(int(g or 0) for g in m.group(1, 2, 3))
    pre = m.group(4)
    if pre is None:
        return (1, core, 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (1, core, 0, parts)


_MAVEN_QUALIFIERS = {
    "alpha": 0, "a": 0, "beta": 1, "b": 1, "milestone": 2, "m": 2, "rc": 3, "cr": 3,
    "snapshot": 4, "": 5, "ga": 5, "final": 5, "release": 5, "sp": 6,
}  # fmt: skip


def maven_key(version: str) -> VersionKey:
    """Maven's ComparableVersion order for the usual shapes (see the module docstring)."""
    items: list[tuple[int, int, str]] = []
    for token in re.findall(r"\d+|[A-Za-z]+", version.lower()):
        if token.isdigit():
            items.append((1, int(token), ""))
        else:
            rank = _MAVEN_QUALIFIERS.get(token)
            items.append((0, rank, "") if rank is not None else (0, 7, token))
    items = _without_padding(items, (0, 5, ""))  # 1.0 == 1 == 1.0.0-final, 1.0-rc1 == 1-rc1
    # A release (no more items) sorts after a qualifier below "release" and before "sp".
    return (*tuple(items), (0, 5, ""))


def rubygems_key(version: str) -> VersionKey:
    """RubyGems order: a segment with letters marks a pre-release."""
    out: list[tuple[int, int, str]] = []
    for segment in re.split(r"[.-]", version):
        for token in _TOKEN.findall(segment):
            out.append((1, int(token), "") if token.isdigit() else (0, 0, token.lower()))
    out = _without_padding(out, None)
    return (*out, (0, 9, ""))  # a release sorts after its pre-releases


def _without_padding(
    items: list[tuple[int, int, str]], release: tuple[int, int, str] | None
) -> list[tuple[int, int, str]]:
    """``items`` without the zeros (and release words) before a word or the end: padding,
    so that ``1.0-rc1`` compares as ``1-rc1`` and ``1.0`` as ``1``."""
    out: list[tuple[int, int, str]] = []
    for item in [*items, None]:
        if item is None or item[0] == 0:
            while out and (out[-1] == (1, 0, "") or (release is not None and out[-1] == release)):
                out.pop()
        if item is not None:
            out.append(item)
    return out


_KEYS: dict[str, Callable[[str], VersionKey]] = {
    "pypi": pep440_key,
    "npm": semver_key,
    "cargo": semver_key,
    "go": semver_key,
    "maven": maven_key,
    "rubygems": rubygems_key,
}


def version_key(ecosystem: str | None) -> Callable[[str], VersionKey]:
    """The ordering of an ecosystem's versions (its manifest family name, as
    ``package_ecosystem`` gives it)."""
    return _KEYS.get(ecosystem or "", generic_key)


def smallest_common_fix(
    installed: str | None, fixed_lists: Sequence[Sequence[str]], ecosystem: str | None
) -> str | None:
    """The smallest listed fixed version above ``installed`` that fixes every advisory:
    one that is at or above some fixed version of each list. None when none does (or an
    advisory lists none)."""
    if not fixed_lists or any(not fixed for fixed in fixed_lists):
        return None
    key = version_key(ecosystem)
    floor = key(installed) if installed else None
    candidates = sorted(
        {v for fixed in fixed_lists for v in fixed if floor is None or key(v) > floor}, key=key
    )
    for candidate in candidates:
        k = key(candidate)
        if all(any(key(f) <= k for f in fixed) for fixed in fixed_lists):
            return candidate
    return None
