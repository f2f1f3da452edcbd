"""Reading the reports `analyze` annotates: `ingest` plus what the output needs to go back.

The findings come from :func:`~vulntune.findings.ingest.ingest_paths`, exactly as `vulntune
ingest` reads them (formats by content, de-duplication, code context, redaction). Two more
things are kept on the way, because the merged, redacted findings no longer tell them:

- where each finding came from before duplicates were merged: a finding merged from several
  results (the same scan in SARIF and native JSON, two identical results) maps back to every
  one of them (:attr:`AnalyzeInputs.origins`);
- the secrets the secret scanners reported (a :class:`~vulntune.findings.redact.SecretIndex`),
  so that the original SARIF documents written back, and the model's answers, can be redacted
  with them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vulntune.findings.ingest import IngestReport, ingest_paths
from vulntune.findings.parse import detect_format, parse_file
from vulntune.findings.record import Finding, FormatName
from vulntune.findings.redact import SecretIndex, is_secret_finding

FindingKey = tuple[str, str | None]  # (finding id, revision): what ingest merges on


@dataclass(frozen=True, slots=True)
class ResultOrigin:
    """One result of one input file: its 0-based position across the file's runs (what
    ``Finding.origin.index`` counts) and the finding it became before merging."""

    file: str
    format: FormatName
    index: int
    key: FindingKey


@dataclass
class AnalyzeInputs:
    """The ingest report, every result's origin, and the secrets reported: ``secrets`` holds
    those of all secret findings (distinctive values only), ``own_secrets`` each secret
    finding's own values, weak ones included (for its own texts)."""

    report: IngestReport
    origins: list[ResultOrigin] = field(default_factory=list)
    secrets: SecretIndex = field(default_factory=SecretIndex)
    own_secrets: dict[FindingKey, SecretIndex] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)  # display name -> file read
    formats: dict[str, FormatName] = field(default_factory=dict)  # display name -> format

    def by_key(self) -> dict[FindingKey, Finding]:
        """The merged, redacted findings by (id, revision)."""
        return {(f.id, f.origin.revision): f for f in self.report.findings}

    def origins_of_file(self, file: str) -> dict[int, FindingKey]:
        """Result position in ``file`` -> the finding it belongs to."""
        return {o.index: o.key for o in self.origins if o.file == file}

    def sarif_files(self) -> list[str]:
        """The SARIF inputs that were read (those without results too), in reading order."""
        return [name for name in self.report.files if self.formats.get(name) == "sarif"]

    def path_of(self, file: str) -> Path:
        """The file an input's display name stands for."""
        return self.paths.get(file, Path(file))


def read_inputs(
    paths: Sequence[Path],
    source_root: Path | None = None,
    *,
    exclude: Sequence[Path] = (),
) -> AnalyzeInputs:
    """Ingest ``paths`` as `vulntune ingest` does, keeping every result's origin and the
    reported secrets. Origins of files that could not be read are dropped with them."""
    origins: list[ResultOrigin] = []
    secrets = SecretIndex()
    own_secrets: dict[FindingKey, SecretIndex] = {}
    paths_read: dict[str, Path] = {}
    formats: dict[str, FormatName] = {}

    def recording_parse(path: Path, display: str) -> Iterator[Finding]:
        paths_read[display] = path
        for finding in parse_file(path, display, whole_file=True):
            formats[display] = finding.origin.format
            origin = finding.origin
            key = (finding.id, origin.revision)
            secrets.add(finding)
            if is_secret_finding(finding):
                own_secrets.setdefault(key, SecretIndex()).add(finding, weak_values=True)
            origins.append(ResultOrigin(display, origin.format, origin.index, key))
            yield finding
        if display not in formats:  # a report without results: its runs are kept too
            formats[display] = detect_format(path, display)

    report = ingest_paths(paths, source_root, exclude=exclude, parse=recording_parse)
    read = set(report.files)
    return AnalyzeInputs(
        report,
        [o for o in origins if o.file in read],
        secrets,
        own_secrets,
        {name: p for name, p in paths_read.items() if name in read},
        {name: f for name, f in formats.items() if name in read},
    )
