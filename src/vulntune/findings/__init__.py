"""Scanner output -> normalised :class:`Finding` records."""

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
    "Fix",
    "FixChange",
    "Location",
    "Origin",
    "Package",
    "Severity",
    "WebInstance",
    "WebTarget",
    "fingerprint",
]
