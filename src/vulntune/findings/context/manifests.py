"""Dependency manifests: which files can declare a package, and which line declares it.

Pure functions over file names and lines; reading files (strictly inside the source root) is
:mod:`vulntune.findings.context.tree`'s job. Declaring manifests are preferred to lock files, and
lock files to a plain mention, so the line a user would edit comes first.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass

from vulntune.findings.record import Package


@dataclass(frozen=True)
class ManifestKind:
    """A family of manifest files and how a package is declared in them."""

    ecosystem: str
    patterns: tuple[str, ...]  # file name globs
    rank: int  # 0 declares (edit here), 1 locks, 2 mentions


_MANIFESTS: tuple[ManifestKind, ...] = (
    ManifestKind("pypi", ("requirements*.txt", "requirements*.in", "constraints*.txt"), 0),
    ManifestKind("pypi", ("pyproject.toml", "Pipfile", "setup.cfg", "setup.py"), 0),
    ManifestKind("pypi", ("poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock"), 1),
    ManifestKind("npm", ("package.json",), 0),
    ManifestKind("npm", ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock"), 1),
    ManifestKind("npm", ("pnpm-lock.yaml",), 1),
    ManifestKind("go", ("go.mod",), 0),
    ManifestKind("maven", ("pom.xml", "build.gradle", "build.gradle.kts"), 0),
    ManifestKind("maven", ("libs.versions.toml", "gradle.lockfile"), 1),
    ManifestKind("rubygems", ("Gemfile", "*.gemspec"), 0),
    ManifestKind("rubygems", ("Gemfile.lock",), 1),
    ManifestKind("cargo", ("Cargo.toml",), 0),
    ManifestKind("cargo", ("Cargo.lock",), 1),
    ManifestKind("composer", ("composer.json",), 0),
    ManifestKind("composer", ("composer.lock",), 1),
    ManifestKind("nuget", ("*.csproj", "packages.config", "Directory.Packages.props"), 0),
    ManifestKind("os", ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "Containerfile"), 2),
)

_ECOSYSTEM_ALIASES = {
    "pypi": "pypi", "pip": "pypi", "python": "pypi", "python-pkg": "pypi", "poetry": "pypi",
    "npm": "npm", "node": "npm", "node-pkg": "npm", "yarn": "npm", "pnpm": "npm",
    "go": "go", "golang": "go", "gomod": "go", "gobinary": "go",
    "maven": "maven", "gradle": "maven", "jar": "maven", "java": "maven",
    "rubygems": "rubygems", "gem": "rubygems", "gemspec": "rubygems", "bundler": "rubygems",
    "cargo": "cargo", "crates.io": "cargo", "rust": "cargo", "rustbinary": "cargo",
    "composer": "composer", "packagist": "composer", "php": "composer",
    "nuget": "nuget", "dotnet-core": "nuget", ".net": "nuget",
    "debian": "os", "ubuntu": "os", "alpine": "os", "apk": "os", "deb": "os", "rpm": "os",
    "redhat": "os", "centos": "os", "rocky": "os", "alma": "os", "amazon": "os", "wolfi": "os",
    "chainguard": "os", "photon": "os", "oracle": "os", "suse": "os", "mariner": "os",
}  # fmt: skip


def package_ecosystem(package: Package) -> str | None:
    """The manifest family of a package, from its ecosystem or purl type; None if unknown."""
    candidates = [package.ecosystem or ""]
    if package.purl and package.purl.startswith("pkg:"):
        candidates.append(package.purl[4:].split("/", 1)[0])
    for value in candidates:
        key = value.strip().lower().split(":", 1)[0]
        if key in _ECOSYSTEM_ALIASES:
            return _ECOSYSTEM_ALIASES[key]
    return None


def manifest_rank(path: str, ecosystem: str | None) -> int | None:
    """How good ``path`` is as the declaring file of a package of ``ecosystem`` (lower is
    better), or None when it is not a manifest for it. Unknown ecosystems accept any
    language manifest but not Dockerfiles."""
    name = posixpath.basename(path)
    for kind in _MANIFESTS:
        if ecosystem is None and kind.ecosystem == "os":
            continue
        if ecosystem is not None and kind.ecosystem != ecosystem:
            continue
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in kind.patterns):
            return kind.rank
    return None


def is_manifest(path: str) -> bool:
    """True when the file name is one of the known dependency manifests or lock files."""
    return any(manifest_rank(path, kind.ecosystem) is not None for kind in _MANIFESTS)


def _name_pattern(name: str, ecosystem: str | None) -> str:
    """A regex for the package name; in Python names '-', '_' and '.' are interchangeable."""
    if ecosystem == "pypi":
        return "[-_.]".join(re.escape(part) for part in re.split(r"[-_.]+", name))
    return re.escape(name)


def declaration_patterns(
    path: str, package: Package, ecosystem: str | None
) -> list[re.Pattern[str]]:
    """Regexes for the line declaring ``package`` in the file at ``path``, most specific first;
    the last one is a bounded mention of the name anywhere on a line."""
    name = package.name
    group, _, artifact = name.rpartition(":") if ":" in name else ("", "", name)
    if "/" in name and ecosystem == "maven":
        group, _, artifact = name.rpartition("/")
    base = posixpath.basename(path)
    n = _name_pattern(artifact if ecosystem == "maven" else name, ecosystem)
    word = rf"(?<![\w.@/-]){n}(?![\w-])"
    specific: list[str] = []
    if fnmatch.fnmatchcase(base, "requirements*") or fnmatch.fnmatchcase(base, "constraints*"):
        specific.append(rf"^\s*{n}\s*(?:\[|[=<>!~;@ ]|$)")
    elif base in ("package.json", "package-lock.json", "npm-shrinkwrap.json", "composer.json"):
        specific.append(rf"\"(?:[^\"]*node_modules/)?{n}\"\s*:")
    elif base == "yarn.lock":
        specific.append(rf"^\"?{n}@")
    elif base == "go.mod":
        specific.append(rf"^\s*(?:require\s+)?{n}\s+v")
    elif base == "pom.xml":
        specific.append(rf"<artifactId>\s*{n}\s*</artifactId>")
    elif base.startswith("build.gradle") or (base.endswith(".toml") and ecosystem == "maven"):
        if group:
            specific.append(rf"{re.escape(group)}:{n}(?![\w.-])")
    elif base in ("Gemfile", "Gemfile.lock") or base.endswith(".gemspec"):
        specific.append(rf"^\s*(?:gem\s+['\"]{n}['\"]|{n} \()")
    elif base.endswith((".csproj", ".props")) or base == "packages.config":
        specific.append(rf"(?i)(?:Include|id)=\"{n}\"")
    elif base.endswith(".toml") or base.endswith(".lock"):
        specific.append(rf"^\s*(?:name\s*=\s*)?\"?{n}\"?\s*=|^name\s*=\s*\"{n}\"")
    flags = re.IGNORECASE if ecosystem in ("pypi", "nuget") else 0
    return [re.compile(p, flags | re.MULTILINE) for p in [*specific, word]]


def find_line(path: str, text: str, package: Package, ecosystem: str | None) -> int | None:
    """The 1-based number of the line of ``text`` (the file at ``path``, lines joined with
    ``\n``) that declares ``package``; None when no line does."""
    for pattern in declaration_patterns(path, package, ecosystem):
        m = pattern.search(text)
        if m is not None:
            return text.count("\n", 0, m.start()) + 1
    return None


_TOML_SECTION = re.compile(r"^\s*\[\[?([^\]]+)\]\]?\s*$")
_JSON_SECTION = re.compile(r"^\s*\"(\w*(?:[dD]ependencies|require(?:-dev)?))\"\s*:")


def section_of(path: str, lines: list[str], number: int) -> str | None:
    """The section that contains line ``number``: ``[tool.poetry.dependencies]`` in TOML/INI
    files, ``"devDependencies"`` in package.json/composer.json; None elsewhere."""
    base = posixpath.basename(path)
    if base.endswith((".toml", ".cfg", "Pipfile")):
        for line in reversed(lines[: number - 1]):
            if m := _TOML_SECTION.match(line):
                return f"[{m.group(1).strip()}]"
    elif base in ("package.json", "composer.json"):
        for line in reversed(lines[: number - 1]):
            if m := _JSON_SECTION.match(line):
                return m.group(1)
    return None
