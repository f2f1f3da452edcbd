"""Step 1 of `vulntune run`: every report, at its revision, into one findings file.

Reports of a named revision get their code context from that revision's tree (exported with
``git archive`` into a temporary folder, the user's checkout untouched), so a finding reported
at r1 shows the code as it was at r1 even when the working tree is at r6. Secrets are redacted
across all revisions: a key that one revision's secret scanner reported disappears from the
findings of every other revision too.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vulntune.findings.ingest import FileError, ingest_paths, write_jsonl
from vulntune.findings.parse import parse_file
from vulntune.findings.record import Finding
from vulntune.findings.redact import SecretIndex, redact_finding
from vulntune.pipeline.inputs import PipelineInputError, ReportInput, git_executable


@dataclass(frozen=True)
class IngestSummary:
    findings: int
    files: int
    revisions: tuple[str, ...]  # the revisions named, in input order ("" for unnamed)


def ingest_reports(
    reports: list[ReportInput], source_root: Path | None, out: Path
) -> IngestSummary:
    """Ingest ``reports`` (grouped by revision) and write the findings JSONL to ``out``.

    Raises PipelineInputError naming the file when any report cannot be read, or when the
    reports hold no finding at all; nothing is written then.
    """
    secrets = SecretIndex()

    def parse(path: Path, display: str) -> Iterator[Finding]:
        for finding in parse_file(path, display, whole_file=True):
            secrets.add(finding)  # the raw match, before any redaction
            yield finding

    groups: dict[tuple[str | None, str | None], list[Path]] = {}
    for report in reports:
        groups.setdefault((report.revision, report.commit), []).append(report.path)
    findings: list[Finding] = []
    errors: list[FileError] = []
    files = 0
    for (revision, commit), paths in groups.items():
        with _tree_at(source_root, commit) as tree:
            report = ingest_paths(paths, tree, parse=parse, revision=revision)
        errors += report.errors
        files += len(report.files)
        findings += report.findings
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise PipelineInputError(
            f"{errors[0].file}: cannot read this report: {errors[0].problem}{more}"
        )
    if not findings:
        raise PipelineInputError(
            f"no findings in {files} report file(s) given "
            f"({', '.join(str(r.path) for r in reports)}): nothing to train on"
        )
    findings = [redact_finding(finding, secrets) for finding in findings]
    write_jsonl(findings, out)
    return IngestSummary(len(findings), files, tuple(r.revision or "" for r in reports))


class _TreeAt:
    """The source tree at ``commit`` (a temporary export), or the source root as it is."""

    def __init__(self, source_root: Path | None, commit: str | None) -> None:
        self.source_root, self.commit = source_root, commit
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Path | None:
        if self.source_root is None or self.commit is None:
            return self.source_root
        git = git_executable()
        if git is None:
            return self.source_root
        self._tmp = tempfile.TemporaryDirectory(prefix="vulntune-tree-")
        dest = Path(self._tmp.name)
        with subprocess.Popen(
            [git, "-C", str(self.source_root), "archive", "--format=tar", self.commit],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as proc:
            assert proc.stdout is not None
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                tar.extractall(dest, filter="data")
            stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.returncode != 0:
            raise PipelineInputError(
                f"{self.source_root}: cannot export revision {self.commit}: {stderr.strip()}"
            )
        return dest

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


def _tree_at(source_root: Path | None, commit: str | None) -> _TreeAt:
    return _TreeAt(source_root, commit)
