"""Dependency upgrades: the manifest line that declares a vulnerable package, re-pinned.

Findings on one package version (same ecosystem, name, installed version and revision) give
one example: the smallest listed fixed version above the installed one that fixes every
advisory on it (:func:`~vulntune.datasets.fixes.versions.smallest_common_fix`), written into
the manifest that declares the package (requirements*.txt, pyproject.toml, package.json,
pom.xml, build.gradle(.kts), go.mod, Gemfile, Cargo.toml). Lock files are never edited: when
a tool reports one (OSV-Scanner names package-lock.json, gradle.lockfile), the declaring
manifest is looked up, in the same folder first. The prompt shows the advisory whose own
fixed version is the chosen one; the others are dropped as ``covered-by-package-upgrade``.
OS packages are dropped (``no-fixed-base-image``): no scanner fact names the base image tag
that fixes them, and vulntune never invents one.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections import defaultdict
from collections.abc import Sequence

from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.datasets.fixes.common import (
    FixAttempt,
    ReferenceFix,
    codefix_example,
    drop,
    window_context,
)
from vulntune.datasets.fixes.versions import smallest_common_fix, version_key
from vulntune.datasets.observed import Observed
from vulntune.datasets.render import fixed_version
from vulntune.datasets.secret_guard import SecretGuard
from vulntune.datasets.sources import SourceFiles
from vulntune.findings.context.manifests import find_line, manifest_rank, package_ecosystem
from vulntune.findings.record import CodeContext, Location, Package

_VERSION = re.compile(r"\d+(?:\.\d+)*(?:[-.+]?[0-9A-Za-z]+)*")
_POM_VERSION = re.compile(r"<version>\s*([^<$]+?)\s*</version>")


def dependency_fixes(
    observed: Sequence[Observed],
    sources: SourceFiles | None,
    guard: SecretGuard,
    catalogue: CweCatalogue,
) -> list[FixAttempt]:
    """One attempt per dependency finding of ``observed`` (see the module docstring)."""
    groups: dict[tuple[str, str, str, str], list[Observed]] = defaultdict(list)
    attempts: list[FixAttempt] = []
    for item in observed:
        pkg = item.finding.package
        if pkg is None:
            continue
        eco = package_ecosystem(pkg)
        if eco == "os":
            attempts.append(drop(item, "dependency", "no-fixed-base-image", pkg.name))
        elif not pkg.fixed_versions:
            attempts.append(drop(item, "dependency", "no-fixed-version", pkg.name))
        elif sources is None:
            attempts.append(drop(item, "dependency", "no-source-root"))
        else:
            key = (eco or "", pkg.name.lower(), pkg.installed_version or "", item.commit or "")
            groups[key].append(item)
    for (eco, _, _, _), items in groups.items():
        assert sources is not None
        attempts += _upgrade(items, eco or None, sources, guard, catalogue)
    return attempts


def _upgrade(
    items: list[Observed],
    eco: str | None,
    sources: SourceFiles,
    guard: SecretGuard,
    catalogue: CweCatalogue,
) -> list[FixAttempt]:
    first = items[0]
    pkg = first.finding.package
    assert pkg is not None
    chosen = smallest_common_fix(
        pkg.installed_version, [i.finding.package.fixed_versions for i in items], eco
    )
    if chosen is None:
        return [drop(i, "dependency", "no-common-fixed-version", pkg.name) for i in items]
    key = version_key(eco)
    # The prompt names the advisory whose own smallest fix is the upgrade, else the first.
    lead = next(
        (i for i in items if key(fixed_version(i.finding.package) or "") == key(chosen)), first
    )
    rest = [drop(i, "dependency", "covered-by-package-upgrade") for i in items if i is not lead]
    found = _declaration(lead, pkg, eco, sources)
    if found is None:
        return [drop(lead, "dependency", "manifest-not-found", pkg.name), *rest]
    path, number, raw = found
    edit = edit_manifest(raw, number, path, pkg.installed_version, chosen)
    if edit is None:
        return [drop(lead, "dependency", "version-not-in-manifest", f"{path}:{number}"), *rest]
    new_raw, edited_line = edit
    old_lines = guard.redact(path, raw, 1, lead.revision)
    new_lines = guard.redact(path, new_raw, 1, None)
    start, shown = window_context(old_lines, number, edited_line)
    finding = dataclasses.replace(
        lead.finding,
        location=Location(path=path, start_line=number),
        context=CodeContext(path=path, start_line=start, lines=shown),
        snippet=None,
    )
    advisories = [i.finding.rule_id for i in items]
    sentence = (
        f"Upgrade {pkg.name} from {pkg.installed_version} to {chosen}, the smallest release "
        f"that fixes {_and(advisories)}."
        if pkg.installed_version
        else f"Upgrade {pkg.name} to {chosen}, the smallest release that fixes {_and(advisories)}."
    )
    fix = ReferenceFix(path, "\n".join(old_lines), "\n".join(new_lines), sentence)
    extra = {
        "package": " ".join(p for p in (pkg.ecosystem, pkg.name, pkg.installed_version) if p),
        "fixed_version": chosen,
    }
    attempt = codefix_example(lead, finding, fix, "dependency", guard, catalogue, extra)
    return [attempt, *rest]


def _and(ids: list[str]) -> str:
    unique = list(dict.fromkeys(ids))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " and " + unique[-1]


def _declaration(
    item: Observed, pkg: Package, eco: str | None, sources: SourceFiles
) -> tuple[str, int, list[str]] | None:
    """(manifest path, declaring line, raw lines) at the finding's revision."""
    reported = item.path or ""
    folder = posixpath.dirname(reported)
    candidates = [p for p in sources.files(item.commit) if manifest_rank(p, eco) == 0]
    candidates.sort(key=lambda p: (_distance(folder, posixpath.dirname(p)), p))
    for path in candidates:
        text = sources.text(path, item.commit)
        if text is None:
            continue
        number = find_line(path, text, pkg, eco)
        if number is not None:
            return path, number, text.split("\n")
    return None


def _distance(a: str, b: str) -> int:
    pa = [p for p in a.split("/") if p]
    pb = [p for p in b.split("/") if p]
    common = 0
    for x, y in zip(pa, pb, strict=False):
        if x != y:
            break
        common += 1
    return len(pa) + len(pb) - 2 * common


def edit_manifest(
    raw: list[str], number: int, path: str, installed: str | None, chosen: str
) -> tuple[list[str], int] | None:
    """The file with the declared version replaced by ``chosen``, and the edited line:
    the declaring line (or, in a pom.xml, the dependency's ``<version>`` line)."""
    candidates = [number]
    if posixpath.basename(path) == "pom.xml":
        candidates = list(range(number, min(len(raw), number + 6) + 1))
    for line_no in candidates:
        line = raw[line_no - 1]
        if line_no != number and "</dependency>" in raw[line_no - 2]:
            break
        new = _replace_version(
            line, installed, chosen, pom=line_no != number or "<version>" in line
        )
        if new is not None and new != line:
            out = list(raw)
            out[line_no - 1] = new
            return out, line_no
    return None


def _replace_version(line: str, installed: str | None, chosen: str, *, pom: bool) -> str | None:
    if pom:
        m = _POM_VERSION.search(line)
        if m is None:
            return None
        return line[: m.start(1)] + chosen + line[m.end(1) :]
    if installed and installed in line:
        at = line.index(installed)
        before, after = line[at - 1 : at], line[at + len(installed) : at + len(installed) + 1]
        if not (before.isalnum() or after.isalnum() or after == "."):
            return line[:at] + chosen + line[at + len(installed) :]
    matches = list(_VERSION.finditer(line))
    if len(matches) == 1 or (installed is None and matches):
        m = matches[-1]
        return line[: m.start()] + chosen + line[m.end() :]
    return None
