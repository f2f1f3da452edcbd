"""The inputs of ``vulntune datasets``: findings files and scanner reports, told apart by
content.

A findings JSONL file (what ``vulntune ingest`` writes) is read with
:func:`vulntune.findings.read_findings`; anything else (a SARIF or native scanner report, a
folder of CI artifacts) goes through :func:`~vulntune.findings.ingest.ingest_paths` first,
with the source root for code context and ``revision`` as the revision the reports were
made at. A file that is neither fails with its name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vulntune.errors import VulntuneError
from vulntune.findings import read_findings
from vulntune.findings.record import Finding

_FINDING_KEYS = {"id", "tool", "rule_id", "severity", "kind", "origin"}


class DatasetInputError(VulntuneError):
    """An input of ``vulntune datasets`` that cannot be read."""


@dataclass
class LoadedInputs:
    """The findings of all inputs, and what ingesting the reports among them reported."""

    findings: list[Finding] = field(default_factory=list)
    findings_files: list[str] = field(default_factory=list)
    report_files: list[str] = field(default_factory=list)
    report_errors: list[str] = field(default_factory=list)


def is_findings_file(path: Path) -> bool:
    """True when the first non-empty line of ``path`` is a finding record, or the file is
    empty (what ``vulntune ingest`` writes for reports without findings)."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            for line in handle:
                if line.strip():
                    try:
                        record = json.loads(line)
                    except ValueError:
                        return False
                    return isinstance(record, dict) and record.keys() >= _FINDING_KEYS
    except OSError as exc:
        raise DatasetInputError(f"{path}: cannot read: {exc.strerror}") from None
    return path.suffix.lower() == ".jsonl"  # empty: a findings file without findings


def load_inputs(
    paths: Sequence[Path], source_root: Path | None = None, revision: str | None = None
) -> LoadedInputs:
    """Findings from ``paths`` (findings files as they are, reports ingested)."""
    out = LoadedInputs()
    reports: list[Path] = []
    for path in paths:
        if not path.exists():
            raise DatasetInputError(f"{path}: no such file or folder")
        if path.is_file() and is_findings_file(path):
            out.findings += read_findings(path)
            out.findings_files.append(str(path))
        else:
            reports.append(path)
    if reports:
        from vulntune.findings.ingest import ingest_paths

        report = ingest_paths(reports, source_root, revision=revision)
        out.findings += report.findings
        out.report_files += list(report.files)
        out.report_errors += [f"{e.file}: {e.problem}" for e in report.errors]
        named = {str(p) for p in reports if p.is_file()}
        named_errors = [e for e in report.errors if e.file in named]
        if named_errors:
            first = named_errors[0]
            raise DatasetInputError(
                f"{first.file}: neither a findings file nor a scanner report vulntune reads "
                f"({first.problem})"
            )
    return out
