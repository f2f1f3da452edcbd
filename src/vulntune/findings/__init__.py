"""Scanner output -> normalised :class:`Finding` records."""

from vulntune.findings.jsonl import FindingsFileError, iter_findings, read_findings
from vulntune.findings.record import (
    CodeContext,
    Finding,
    FindingKind,
    Fix,
    FixChange,
    Location,
    Origin,
    Package,
    Severity,
    WebInstance,
    WebTarget,
    fingerprint,
)

__all__ = [
    "CodeContext",
    "Finding",
    "FindingKind",
    "FindingsFileError",
    "Fix",
    "FixChange",
    "Location",
    "Origin",
    "Package",
    "Severity",
    "WebInstance",
    "WebTarget",
    "fingerprint",
    "iter_findings",
    "read_findings",
]
