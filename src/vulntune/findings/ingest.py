"""Ingest scanner reports: files and folders in, one de-duplicated, redacted list of findings
out, with everything that went wrong on the way.

Order of work: each file is parsed (format by content) and its findings get code context from
the source root; findings are de-duplicated across all files and formats
(:mod:`vulntune.findings.dedup`: the same weakness at the same place);
then every finding is redacted, knowing the secrets that *all* secret findings reported, so a
secret also disappears from the context of the finding on the next line. Redaction comes
after context on purpose: the scanner's raw match is what finds the secret in the source
lines. Nothing is written until the caller writes the report (atomically,
:func:`write_jsonl`).

Which files are tried (folders walked, archives opened) is decided by
:mod:`vulntune.findings.inputs`; formats are detected by content, not by name. A file found in
a folder (or an archive) that is not JSON at all (the HTML and Markdown reports next to the
JSON ones in a CI artifacts folder) or is empty is listed as *skipped*, not as an error. JSON
that is broken or in no known format is an error even in a folder: it may be a truncated
report or one of a scanner that is not supported, and the user should see it (``--strict``
fails on it). A file named explicitly always counts as an error when it cannot be read. A file
that breaks half way contributes no findings (all or nothing per file), but the secrets it
reported are still redacted everywhere else.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vulntune.errors import VulntuneError
from vulntune.findings.collector import exempt_while_alive, paused_collector
from vulntune.findings.dedup import MergeKey, merge_duplicates, merge_key, placeless_id
from vulntune.findings.formats import FindingsInputError
from vulntune.findings.inputs import (  # FileError, SkippedFile: part of IngestReport's API
    FileError,
    SkippedFile,
    input_files,
    not_a_report,
)
from vulntune.findings.jsonl import write_findings
from vulntune.findings.parse import parse_file
from vulntune.findings.record import Finding, Severity
from vulntune.findings.redact import SecretIndex, redact_finding
from vulntune.io.archives import ArchiveLimits
from vulntune.io.atomic import atomic_open_binary

if TYPE_CHECKING:  # code context is imported where it is used: most ingests have no source root
    from vulntune.findings.context import ContextOptions, ContextProblem, SourceTree

ParseFn = Callable[[Path, str], Iterable[Finding]]


class IngestError(VulntuneError):
    """The ingest as a whole cannot go on: a bad source root, an unwritable output."""


_TOOL_AND_SEVERITY = operator.attrgetter("tool", "severity")


@dataclass
class IngestReport:
    """What :func:`ingest_paths` read, kept, dropped and could not do."""

    findings: list[Finding] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)  # input read -> findings in it
    errors: list[FileError] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    duplicates: int = 0  # findings dropped (merged) because their id was already seen
    context_problems: list[ContextProblem] = field(default_factory=list)

    @property
    def redacted(self) -> int:
        """Number of findings in which something was replaced by a redaction marker."""
        return sum(f.redacted for f in self.findings)

    def by_tool(self) -> Counter[str]:
        """Kept findings per tool."""
        return Counter(f.tool for f in self.findings)

    def by_severity(self) -> Counter[Severity]:
        """Kept findings per normalised severity."""
        return Counter(f.severity for f in self.findings)

    def by_tool_and_severity(self) -> dict[str, Counter[Severity]]:
        """Kept findings per tool, then per severity; tools sorted by name."""
        table: dict[str, Counter[Severity]] = {}
        for (tool, severity), n in Counter(map(_TOOL_AND_SEVERITY, self.findings)).items():
            table.setdefault(tool, Counter())[severity] = n
        return dict(sorted(table.items()))


def ingest_paths(
    paths: Sequence[Path],
    source_root: Path | None = None,
    *,
    context_options: ContextOptions | None = None,
    exclude: Sequence[Path] = (),
    parse: ParseFn | None = None,
    revision: str | None = None,
    archive_limits: ArchiveLimits | None = None,
) -> IngestReport:
    """Read every scanner report in ``paths`` (files and folders, recursively) into one
    report: findings de-duplicated by id, redacted, with code context when ``source_root``
    is given. Per-file problems are collected, never raised. ``exclude`` names files to
    leave out (the output file of a previous run); ``parse`` replaces the format parser
    (default: :func:`~vulntune.findings.parse.parse_file` with ``whole_file=True``).
    ``revision`` is the commit the reports were made at; it replaces the revision a SARIF run
    names in its ``versionControlProvenance``. Findings of different revisions are never
    merged: the same weakness at two revisions is two observations (datasets compare them).
    Archives are opened (:mod:`vulntune.findings.inputs`) within ``archive_limits`` (default:
    :class:`~vulntune.io.archives.ArchiveLimits`).

    The cyclic garbage collector is paused meanwhile and kept off the report's findings
    while the report is alive (:mod:`vulntune.findings.collector`)."""
    with paused_collector():
        report = _ingest(
            paths,
            source_root,
            context_options,
            exclude,
            parse or _parse_whole,
            revision,
            archive_limits,
        )
        # Before the collector runs again: its first collection would walk every finding.
        exempt_while_alive(report)
    return report


def _ingest(
    paths: Sequence[Path],
    source_root: Path | None,
    context_options: ContextOptions | None,
    exclude: Sequence[Path],
    parse: ParseFn,
    revision: str | None,
    archive_limits: ArchiveLimits | None,
) -> IngestReport:
    tree = None
    if source_root is not None:
        if not Path(source_root).is_dir():
            raise IngestError(f"{source_root}: the source root is not a directory")
        from vulntune.findings.context import SourceTree

        tree = SourceTree(Path(source_root), context_options)
    report = IngestReport()
    merged: dict[MergeKey, Finding] = {}
    secret_keys: set[MergeKey] = set()  # merged findings of which a copy is a secret finding
    problems: dict[tuple[str, str], ContextProblem] = {}
    secret_index = SecretIndex()
    inputs = input_files(paths, report.errors, report.skipped, exclude, archive_limits)
    for path, display, explicit in ((i.path, i.display, i.explicit) for i in inputs):
        findings: list[Finding] = []
        try:
            file_problems = _read_file(parse, path, display, tree, findings)
        except FindingsInputError as exc:
            for finding in findings:  # a broken file's secrets still must not leak elsewhere
                secret_index.add(finding)
            reason = None if explicit else not_a_report(path)
            if reason is None:
                report.errors.append(FileError(display, exc.problem))
            else:
                report.skipped.append(SkippedFile(display, reason))
            continue
        report.files[display] = len(findings)
        for problem in file_problems:
            problems.setdefault((problem.finding_id, problem.kind), problem)
        for finding in findings:
            secret = secret_index.add(finding)
            if revision is not None:
                finding.origin.revision = revision
            finding.id = placeless_id(finding)
            key = merge_key(finding)
            if secret:
                secret_keys.add(key)
            seen = merged.get(key)
            if seen is None:
                merged[key] = finding
            else:
                merged[key] = merge_duplicates(seen, finding)
                report.duplicates += 1
    report.findings = [
        redact_finding(finding, secret_index, key in secret_keys) for key, finding in merged.items()
    ]
    report.context_problems = list(problems.values())
    return report


def _parse_whole(path: Path, display: str) -> Iterable[Finding]:
    """:func:`parse_file` for a caller that keeps every finding of the file (see there)."""
    return parse_file(path, display, whole_file=True)


def _read_file(
    parse: ParseFn, path: Path, display: str, tree: SourceTree | None, into: list[Finding]
) -> list[ContextProblem]:
    """Append the findings of one file to ``into``, with code context; returns the context
    problems. Raises FindingsInputError, leaving what was read so far in ``into``."""
    problems: list[ContextProblem] = []
    if tree is None:
        into.extend(parse(path, display))  # extend keeps what came before an error
        return problems
    from vulntune.findings.context import attach_context

    for finding in parse(path, display):
        finding, problem = attach_context(finding, tree)
        if problem is not None:
            problems.append(problem)
        into.append(finding)
    return problems


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def write_jsonl(findings: Iterable[Finding], path: Path) -> int:
    """Write the findings file ``path`` (:func:`~vulntune.findings.jsonl.write_findings`:
    the layout every stage reads with ``read_findings``) atomically (see
    :func:`atomic_open_binary`): a crash leaves the old file or the complete new one, never
    half of it. Returns the number of findings written."""
    path = Path(path)
    try:
        with atomic_open_binary(path) as handle:
            return write_findings(findings, handle)
    except OSError as exc:
        raise IngestError(f"{path}: cannot write the findings: {exc.strerror or exc}") from None
