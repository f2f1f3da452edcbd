"""pip-audit's native JSON output (``pip-audit -f json``).

Current shape: ``{"dependencies": [{"name", "version", "vulns": [{"id", "fix_versions",
"aliases", "description"}]}, {"name", "skip_reason"}], "fixes": [...]}``. Releases before
2.0 wrote the ``dependencies`` list alone, as the whole document, and had no ``aliases``.
Skipped dependencies (not on the index, editable installs) are not findings.

pip-audit reports no severity and no file; the severity is medium, the default SARIF gives a
result without a level, and the tool's own value stays empty.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from vulntune.findings.common import disambiguate_ids, split_versions, string_list
from vulntune.findings.formats import SimpleFormat
from vulntune.findings.native._fields import (
    items,
    require_list,
    require_object,
    require_text,
    text,
    unique,
)
from vulntune.findings.record import (
    Finding,
    FindingKind,
    FormatName,
    Origin,
    Package,
    Severity,
    fingerprint,
)

NAME: FormatName = "pip-audit-json"


def matches(doc: Any) -> bool:
    """``dependencies`` entries with ``name`` and ``vulns`` or ``skip_reason`` (an empty list
    counts when ``fixes`` sits next to it), or the pre-2.0 bare list of such entries."""
    if isinstance(doc, Mapping) and isinstance(doc.get("dependencies"), list):
        deps = doc["dependencies"]
        return all(map(_is_dependency, deps)) and (bool(deps) or "fixes" in doc)
    return isinstance(doc, list) and bool(doc) and all(map(_is_dependency, doc))


def _is_dependency(entry: Any) -> bool:
    return (
        isinstance(entry, Mapping)
        and "name" in entry
        and ("vulns" in entry or "skip_reason" in entry)
    )


def parse(doc: Any, file: str) -> Iterator[Finding]:
    """Yield one finding per vulnerability of every audited dependency."""
    where = "dependencies" if isinstance(doc, Mapping) else "the document"
    deps = require_list(doc["dependencies"] if isinstance(doc, Mapping) else doc, file, where)
    findings: list[Finding] = []
    for d, dep in enumerate(deps):
        dep = require_object(dep, file, f"dependencies[{d}]")
        name = require_text(dep.get("name"), file, f"dependencies[{d}].name")
        audited = Package(name=name, ecosystem="PyPI", installed_version=text(dep.get("version")))
        for v, vuln in enumerate(items(dep.get("vulns"))):
            vuln = require_object(vuln, file, f"dependencies[{d}].vulns[{v}]")
            vuln_id = require_text(vuln.get("id"), file, f"dependencies[{d}].vulns[{v}].id")
            findings.append(_finding(audited, vuln_id, vuln, file, len(findings)))
    yield from disambiguate_ids(findings)


def _finding(
    audited: Package, vuln_id: str, vuln: Mapping[str, Any], file: str, index: int
) -> Finding:
    """The finding of one vulnerability of the ``audited`` dependency (name and version)."""
    package = dataclasses.replace(audited, fixed_versions=split_versions(vuln.get("fix_versions")))
    description = text(vuln.get("description"))
    version = package.installed_version or "(version unknown)"
    headline = f"{vuln_id} in {package.name} {version}"
    summary = description.splitlines()[0].strip() if description else None
    return Finding(
        id=fingerprint("pip-audit", vuln_id, package=package),
        tool="pip-audit",
        rule_id=vuln_id,
        severity=Severity.MEDIUM,
        message=f"{headline}: {summary}" if summary else headline,
        kind=FindingKind.DEPENDENCY,
        origin=Origin(file=file, format=NAME, index=index),
        tool_full_name="pip-audit",
        rule_description=description,
        help_uri=f"https://osv.dev/vulnerability/{vuln_id}",
        vulnerability_ids=unique([vuln_id, *string_list(vuln.get("aliases"))]),
        package=package,
    )


FORMAT = SimpleFormat(NAME, matches, parse)
