"""SARIF 2.1.0 -> :class:`Finding`, from any producer, streamed result by result.

A SARIF file is read in two passes over its ``results`` arrays, neither of which holds more
than one decoded result at a time:

1. :func:`scan_runs` reads every run except its results (``tool``, ``originalUriBaseIds`` and
   ``artifacts`` may come before or after ``results``), notes where each results array
   starts, and keeps of each result only what its id is made of (:class:`ResultKey`);
2. :func:`iter_findings` computes the ids, finds ids shared within the file by findings that
   end in different places (told apart as :func:`~vulntune.findings.common.disambiguate_ids`
   does in the native parsers), then reads the results again and builds the findings
   (:mod:`vulntune.findings.sarif_result`).

Ids follow the native parsers of the same tools, never SARIF ``partialFingerprints``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from vulntune.findings.common import trivy_dependency_fingerprint, trivy_location_fingerprint
from vulntune.findings.formats import FindingsInputError
from vulntune.findings.reader import JsonStream
from vulntune.findings.record import Finding, Location, Package, fingerprint
from vulntune.findings.sarif_quirks import parse_trivy_message, trivy_package
from vulntune.findings.sarif_result import FORMAT_NAME, build_finding, kind_name
from vulntune.findings.sarif_run import SarifRule, SarifRun, mapping, positive, text_of

__all__ = [
    "FORMAT_NAME",
    "RunHeader",
    "check_version",
    "is_sarif_document",
    "iter_document_findings",
    "iter_findings",
    "scan_runs",
]


class ResultKey(NamedTuple):
    """The parts of a result its id is computed from; known before the run's metadata."""

    rule_id: str | None  # result.ruleId, else result.rule.id
    rule_index: Any  # result.ruleIndex, else result.rule.index
    component: Any  # result.rule.toolComponent
    uri: Any
    uri_base: Any
    artifact_index: Any
    start_line: int | None
    start_column: int | None
    end: str  # end line and column as common.end_key() writes them
    package_message: str | None  # the message text when it names a package (Trivy)


@dataclass(slots=True)
class Identity:
    """A result's rule, rule id, package and id, computed from its :class:`ResultKey`."""

    rule: SarifRule | None
    rule_id: str
    trivy_fields: dict[str, str] | None
    package: Package | None
    id: str


@dataclass(slots=True)
class RunHeader:
    """A run read without its results: its context and where its results start."""

    run: SarifRun
    results_offset: int | None  # byte offset of the results array; None: no array
    keys: list[ResultKey] = field(default_factory=list)
    inline_results: list[Any] | None = None  # a lone result object written as "results"


def is_sarif_document(doc: Any) -> bool:
    """True for a decoded JSON document shaped like SARIF: a ``runs`` array at top level."""
    return isinstance(doc, Mapping) and isinstance(doc.get("runs"), list)


def check_version(top: Mapping[str, Any], file: str) -> None:
    """Reject SARIF 1.x, whose result shape is different; a missing version is tolerated."""
    version = top.get("version")
    if isinstance(version, str) and version.strip().startswith("1."):
        raise FindingsInputError(
            file, f"SARIF version {version} is not supported; only SARIF 2.1.0 is read"
        )


def result_key(result: Mapping[str, Any], strings: dict[Any, Any] | None = None) -> ResultKey:
    """What the id of ``result`` depends on (see :func:`identity`). With ``strings`` (one dict
    per file), equal rule ids, URIs and ends are kept once, not once per result."""
    get = result.get
    reference = mapping(get("rule"))
    rule_index = get("ruleIndex")
    if type(rule_index) is not int or rule_index < 0:
        rule_index = reference.get("index")
    locations = get("locations")
    physical = (
        mapping(mapping(locations[0]).get("physicalLocation"))
        if type(locations) is list and locations
        else mapping(None)
    )
    artifact = mapping(physical.get("artifactLocation"))
    region = mapping(physical.get("region"))
    text = mapping(get("message")).get("text")
    start_line = positive(region.get("startLine"))
    end_line = positive(region.get("endLine")) or start_line
    end_column = positive(region.get("endColumn"))
    rule_id = text_of(get("ruleId")) or text_of(reference.get("id"))
    uri = artifact.get("uri")
    end = f"{end_line or ''}:{end_column or ''}"
    if strings is not None:
        rule_id = strings.setdefault(rule_id, rule_id)
        end = strings.setdefault(end, end)
        if type(uri) is str:
            uri = strings.setdefault(uri, uri)
    return ResultKey(
        rule_id,
        rule_index,
        reference.get("toolComponent"),
        uri,
        artifact.get("uriBaseId"),
        artifact.get("index"),
        start_line,
        positive(region.get("startColumn")),
        end,
        text if type(text) is str and "Package:" in text else None,
    )


def identity(key: ResultKey, run: SarifRun) -> Identity:
    """The id of a result: Trivy's from vulnerability + artifact + package (or rule + artifact
    + line), everybody else's from tool, rule, path and start position."""
    rule = run.rule_for(key.rule_id, key.rule_index, key.component)
    rule_id = key.rule_id or (rule.id if rule is not None else None) or "unknown"
    trivy_fields = package = None
    if run.tool == "trivy":
        raw_path = run.raw_path(key.uri, key.uri_base, key.artifact_index)
        trivy_fields = parse_trivy_message(key.package_message or "")
        package = trivy_package(trivy_fields)
        if package is not None:
            finding_id = trivy_dependency_fingerprint(
                rule_id, raw_path, package.name, package.installed_version or ""
            )
        else:
            finding_id = trivy_location_fingerprint(rule_id, raw_path, key.start_line)
    else:
        path = run.resolve_path(key.uri, key.uri_base, key.artifact_index)
        location = (
            Location(path, key.start_line, key.start_column)
            if path is not None or key.start_line is not None
            else None
        )
        finding_id = fingerprint(run.tool, rule_id, location)
    return Identity(rule, rule_id, trivy_fields, package, finding_id)


def scan_runs(stream: JsonStream, file: str) -> list[RunHeader]:
    """Pass 1 over the ``runs`` array at the stream's position: each run's context, the
    offset of its results array, and each result's :class:`ResultKey`."""
    headers: list[RunHeader] = []
    strings: dict[Any, Any] = {}
    for run_index in stream.iter_array():
        if stream.peek() != "{":
            found = kind_name(stream.read_value())
            raise FindingsInputError(
                file, f"runs[{run_index}] must be a JSON object, found {found}"
            )
        meta: dict[str, Any] = {}
        offset: int | None = None
        keys: list[ResultKey] = []
        inline: list[Any] | None = None
        for key in stream.iter_object():
            if key != "results":
                meta[key] = stream.read_value()
                continue
            offset, keys, inline = None, [], None  # a repeated key: the last one counts
            if stream.peek() == "[":
                offset = stream.tell()
                for position in stream.iter_array():
                    result = stream.read_value()
                    _check_result(result, run_index, position, file)
                    keys.append(result_key(result, strings))
            else:
                inline = _lone_result(stream.read_value(), run_index, file)
                keys = [result_key(r, strings) for r in inline or []]
        header = RunHeader(SarifRun.from_json(meta, run_index), offset, keys, inline)
        headers.append(header)
    return headers


def iter_findings(stream: JsonStream, headers: list[RunHeader], file: str) -> Iterator[Finding]:
    """Pass 2: the findings of the runs :func:`scan_runs` read, in file order."""
    first_end: dict[str, str] = {}
    shared: set[str] = set()  # ids that findings ending in different places share
    identities: list[list[Identity]] = []
    for header in headers:
        run_identities = [identity(key, header.run) for key in header.keys]
        for key, ident in zip(header.keys, run_identities, strict=True):
            if first_end.setdefault(ident.id, key.end) != key.end:
                shared.add(ident.id)
        header.keys = []  # no longer needed
        identities.append(run_identities)
    index = 0
    for header, run_identities in zip(headers, identities, strict=True):
        run = header.run
        if header.inline_results is not None:
            results: Iterable[Any] = header.inline_results
        elif header.results_offset is not None:
            stream.seek(header.results_offset)
            results = (stream.read_value() for _ in stream.iter_array())
        else:
            continue
        # The file is read in the same order as in pass 1, so identities line up.
        position = -1
        for position, result in enumerate(results):
            if position >= len(run_identities):
                raise FindingsInputError(file, "the file changed while it was being read")
            _check_result(result, run.index, position, file)
            yield build_finding(result, run, run_identities[position], file, index, shared)
            index += 1
        if position + 1 != len(run_identities):
            raise FindingsInputError(file, "the file changed while it was being read")


def iter_document_findings(doc: Mapping[str, Any], file: str) -> Iterator[Finding]:
    """Findings of an already decoded SARIF document, by the same rules as the stream."""
    check_version(doc, file)
    runs = doc.get("runs")
    if not isinstance(runs, list):
        raise FindingsInputError(file, "not SARIF: no 'runs' array")
    prepared: list[tuple[SarifRun, list[Any]]] = []
    for run_index, raw_run in enumerate(runs):
        if not isinstance(raw_run, Mapping):
            found = kind_name(raw_run)
            raise FindingsInputError(
                file, f"runs[{run_index}] must be a JSON object, found {found}"
            )
        results = raw_run.get("results")
        if isinstance(results, list):
            for position, result in enumerate(results):
                _check_result(result, run_index, position, file)
        else:
            results = _lone_result(results, run_index, file) or []
        prepared.append((SarifRun.from_json(raw_run, run_index), results))
    first_end: dict[str, str] = {}
    shared: set[str] = set()
    for run, results in prepared:
        for result in results:
            key = result_key(result)
            finding_id = identity(key, run).id
            if first_end.setdefault(finding_id, key.end) != key.end:
                shared.add(finding_id)
    index = 0
    for run, results in prepared:
        for result in results:
            yield build_finding(result, run, identity(result_key(result), run), file, index, shared)
            index += 1


def _lone_result(value: Any, run_index: int, file: str) -> list[Any] | None:
    """``results`` that is not an array: null means "not computed" (no findings); a single
    result object is read as one result; anything else is an error."""
    if value is None:
        return None
    if isinstance(value, Mapping) and ("message" in value or "ruleId" in value):
        return [value]
    raise FindingsInputError(
        file,
        f"runs[{run_index}].results must be a JSON array of results, found {kind_name(value)}",
    )


def _check_result(result: Any, run_index: int, position: int, file: str) -> None:
    if type(result) is not dict and not isinstance(result, Mapping):
        raise FindingsInputError(
            file,
            f"runs[{run_index}].results[{position}] must be a JSON object, "
            f"found {kind_name(result)}",
        )
