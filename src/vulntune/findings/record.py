"""The normalised Finding record that every scanner parser emits.

One record shape for every tool, so that everything downstream (datasets, training, analysis)
never needs to know which scanner produced a finding. Records are plain dataclasses with
``slots`` because a large SARIF file yields hundreds of thousands of them.

A record has one serialised form, :meth:`Finding.to_dict` (and :meth:`Finding.to_json`, the
line the findings JSONL file holds): enums as their values, and the optional parts that are
empty (None, False, an empty list) left out, so a finding costs only the fields it has.
:meth:`Finding.from_dict` reads it back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from enum import Enum, StrEnum
from typing import Any, Literal

# The formats findings are read from: SARIF, and one native JSON format per scanner
# (vulntune.findings.native.registry.FORMATS).
FormatName = Literal[
    "sarif",
    "bandit-json",
    "checkov-json",
    "gitleaks-json",
    "npm-audit-json",
    "osv-scanner-json",
    "pip-audit-json",
    "semgrep-json",
    "trivy-json",
    "zap-json",
]


class Severity(StrEnum):
    """Normalised severity, ordered from most to least severe."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for critical ... 4 for info; sorts findings most-severe first."""
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER = list(Severity)


class FindingKind(StrEnum):
    """What a finding is about; decides which context is attached and how it is fixed."""

    CODE = "code"  # a weakness in source code (SAST)
    DEPENDENCY = "dependency"  # a vulnerable package version (SCA, container image)
    SECRET = "secret"  # a committed credential
    CONFIG = "config"  # infrastructure-as-code or configuration misstep
    WEB = "web"  # a weakness observed on a running service (DAST)


@dataclass(slots=True)
class Location:
    """A place in the scanned source tree. ``path`` is relative to the source root, POSIX."""

    path: str | None = None
    start_line: int | None = None
    start_column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    message: str | None = None  # for related locations and code-flow steps


@dataclass(slots=True)
class Package:
    """The vulnerable package of a dependency finding."""

    name: str
    ecosystem: str | None = None  # e.g. "PyPI", "npm", "Maven", "debian"
    installed_version: str | None = None
    fixed_versions: list[str] = field(default_factory=list)
    purl: str | None = None


@dataclass(slots=True)
class WebInstance:
    """One place a DAST alert was observed."""

    url: str
    method: str | None = None
    parameter: str | None = None
    evidence: str | None = None
    attack: str | None = None


@dataclass(slots=True)
class WebTarget:
    """Where a DAST finding was observed: the first instance plus all instances."""

    url: str
    method: str | None = None
    parameter: str | None = None
    evidence: str | None = None
    instances: list[WebInstance] = field(default_factory=list)


@dataclass(slots=True)
class FixChange:
    """Replace a region of a file with new text (SARIF ``replacement``, Semgrep ``fix``)."""

    path: str | None
    inserted_text: str
    start_line: int | None = None
    start_column: int | None = None
    end_line: int | None = None
    end_column: int | None = None


@dataclass(slots=True)
class Fix:
    """A fix the tool itself proposed."""

    description: str | None = None
    changes: list[FixChange] = field(default_factory=list)


@dataclass(slots=True)
class CodeContext:
    """Source lines around a finding, read from the source root (``ingest --source-root``)."""

    path: str
    start_line: int  # line number of ``lines[0]``
    lines: list[str]
    enclosing: str | None = None  # name/signature of the enclosing function or block


@dataclass(slots=True)
class Origin:
    """Where a finding came from: the input file, the format, and its position in the file."""

    file: str
    format: FormatName
    index: int  # 0-based position of the result in the file (across runs)
    run_index: int | None = None  # SARIF run index
    # The revision (commit) of the scanned source the report was made at: `ingest --revision`,
    # else the SARIF run's versionControlProvenance. Datasets mine fixes across revisions.
    revision: str | None = None


@dataclass(slots=True)
class Finding:
    """One normalised security finding."""

    id: str  # stable fingerprint, see fingerprint()
    tool: str  # canonical lowercase tool family, e.g. "semgrep", "trivy", "codeql"
    rule_id: str
    severity: Severity
    message: str
    kind: FindingKind
    origin: Origin
    tool_version: str | None = None
    tool_full_name: str | None = None  # as the tool names itself, e.g. "Semgrep OSS"
    rule_name: str | None = None
    original_severity: str | None = None  # the tool's own value, verbatim
    rule_description: str | None = None
    rule_help: str | None = None
    help_uri: str | None = None
    cwe_ids: list[str] = field(default_factory=list)  # "CWE-79"
    vulnerability_ids: list[str] = field(default_factory=list)  # "CVE-...", "GHSA-...", ...
    tags: list[str] = field(default_factory=list)
    location: Location | None = None
    related_locations: list[Location] = field(default_factory=list)
    code_flows: list[list[Location]] = field(default_factory=list)
    snippet: str | None = None
    context: CodeContext | None = None
    package: Package | None = None
    web: WebTarget | None = None
    fix: Fix | None = None
    suppressed: bool = False
    suppression: str | None = None  # e.g. "inSource", "external", with justification
    redacted: bool = False  # a secret was replaced by a marker somewhere in this record

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: enums as their values, empty optional parts (None, False, an
        empty list) left out at every level; ``0`` and ``""`` are values and are kept."""
        return _plain(self)

    def to_json(self) -> str:
        """:meth:`to_dict` as one line of JSON (no trailing newline), non-ASCII text as is."""
        return _ENCODER.encode(_plain(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """Inverse of :meth:`to_dict`."""
        d = dict(data)
        d["severity"] = Severity(d["severity"])
        d["kind"] = FindingKind(d["kind"])
        d["origin"] = Origin(**d["origin"])
        if d.get("location") is not None:
            d["location"] = Location(**d["location"])
        d["related_locations"] = [Location(**x) for x in d.get("related_locations", [])]
        d["code_flows"] = [[Location(**x) for x in flow] for flow in d.get("code_flows", [])]
        if d.get("context") is not None:
            d["context"] = CodeContext(**d["context"])
        if d.get("package") is not None:
            d["package"] = Package(**d["package"])
        if d.get("web") is not None:
            web = dict(d["web"])
            web["instances"] = [WebInstance(**x) for x in web.get("instances", [])]
            d["web"] = WebTarget(**web)
        if d.get("fix") is not None:
            fix = dict(d["fix"])
            # A change without a file (path None) was written without "path".
            fix["changes"] = [FixChange(**{"path": None, **x}) for x in fix.get("changes", [])]
            d["fix"] = Fix(**fix)
        return cls(**d)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: object) -> Any:
    """``value`` (a record, a list, an enum or a JSON scalar) as JSON-ready data: records
    become dicts without their None/False/empty-list fields, enums their values.

    Written out rather than ``dataclasses.asdict`` plus a pruning pass, which deep-copies
    every value first and makes writing a large ingest three times slower."""
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    names = _FIELD_NAMES.get(type(value))
    if names is None:
        names = _FIELD_NAMES.setdefault(type(value), tuple(f.name for f in fields(value)))
    out = {}
    for name in names:
        item = getattr(value, name)
        # Identity checks: 0 and "" are real values (index 0, empty message) and are kept.
        if item is None or item is False or (isinstance(item, list) and not item):
            continue
        out[name] = _plain(item)
    return out


def fingerprint(
    tool: str,
    rule_id: str,
    location: Location | None = None,
    package: Package | None = None,
    web: WebTarget | None = None,
    extra: str = "",
) -> str:
    """A stable id for a finding: the same finding in two scans (or in the SARIF and the native
    JSON of one scan) gets the same id.

    It hashes what identifies the weakness, not how the tool worded it: tool family, rule,
    file and start position, the package coordinates, the web target. ``extra`` is for the
    rare tool whose rule+place is not unique (e.g. two secrets on one line).
    """
    parts = [tool.lower(), rule_id]
    if location is not None:
        parts += [
            location.path or "",
            str(location.start_line or ""),
            str(location.start_column or ""),
        ]
    if package is not None:
        parts += [package.ecosystem or "", package.name, package.installed_version or ""]
    if web is not None:
        parts += [web.url, web.method or "", web.parameter or ""]
    parts.append(extra)
    return _digest(parts)


def place_fingerprint(
    tool: str,
    rule_id: str,
    path: str | None,
    start_line: int | None,
    start_column: int | None,
    extra: str = "",
) -> str:
    """``fingerprint(tool, rule_id, Location(path, start_line, start_column), extra=extra)``
    without building the Location (parsers compute one id per result)."""
    return _digest(
        [tool.lower(), rule_id, path or "", str(start_line or ""), str(start_column or ""), extra]
    )


def _digest(parts: list[str]) -> str:
    # A JSON "\\ud800" escape decodes to a lone surrogate: it must hash, not crash ingest.
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:20]
