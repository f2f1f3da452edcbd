"""SARIF 2.1.0 -> :class:`Finding`, from any producer, result by result.

Results are decoded into the typed structs of :mod:`vulntune.findings.sarif.model` and built
into findings by :mod:`vulntune.findings.sarif.result`, with their run's context
(:class:`~vulntune.findings.sarif.run.SarifRun`) and their id
(:mod:`vulntune.findings.sarif.ids`). Ids shared within a file by findings that end in
different places are told apart as :func:`~vulntune.findings.common.disambiguate_ids` does in
the native parsers, which needs every id of the file before the first finding is final. So a
file is read in two passes over its ``results`` arrays, neither of which holds more than one
decoded result at a time:

1. the runs are read without their results (``tool``, ``originalUriBaseIds`` and ``artifacts``
   may come before or after ``results``), and of each result only what its id is made of is
   kept (:class:`~vulntune.findings.sarif.ids.ResultKey`);
2. :func:`iter_findings` computes the ids and the shared ones, then reads the results again
   and builds the findings.

The results are read from the file mapped into memory and decoded by msgspec where
:mod:`vulntune.findings.sarif.fast` accepts the file (:func:`fast_headers` is pass 1), otherwise
through the standard library's decoder and the incremental
:class:`~vulntune.findings.reader.JsonStream` (:func:`scan_runs`); both give the same findings.
For a caller that keeps all findings of a file anyway, :func:`fast_findings` reads a mapped
file in one pass and settles the shared ids at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from vulntune.findings.common import end_disambiguated_id
from vulntune.findings.formats import FindingsInputError
from vulntune.findings.reader import JsonStream
from vulntune.findings.record import Finding
from vulntune.findings.sarif.fast import FastRun
from vulntune.findings.sarif.ids import (
    Identity,
    ResultKey,
    identity,
    placed_identity,
    result_key,
)
from vulntune.findings.sarif.model import (
    KEY_DECODER,
    KEY_WITH_MESSAGE_DECODER,
    Result,
    decode_result,
    key_from_dict,
    result_from_dict,
)
from vulntune.findings.sarif.result import (
    FORMAT_NAME,
    build_finding,
    kind_name,
    primary_location,
)
from vulntune.findings.sarif.run import SarifRun

__all__ = [
    "FORMAT_NAME",
    "RunHeader",
    "check_version",
    "fast_findings",
    "fast_headers",
    "is_sarif_document",
    "iter_document_findings",
    "iter_findings",
    "scan_runs",
]


@dataclass(slots=True)
class RunHeader:
    """A run read without its results: its context and where its results start."""

    run: SarifRun
    results_offset: int | None  # byte offset of the results array; None: no array
    keys: list[ResultKey] = field(default_factory=list)
    inline_results: list[Any] | None = None  # a lone result object written as "results"
    raw_results: list[msgspec.Raw] | None = None  # slices of the mapped file (sarif.fast)


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


# --------------------------------------------------------------------------------------------
# Memory-mapped UTF-8 files (sarif.fast)
# --------------------------------------------------------------------------------------------


def fast_headers(runs: list[FastRun]) -> list[RunHeader]:
    """Pass 1 over the runs :meth:`FastSarif.runs_at
    <vulntune.findings.sarif.fast.FastSarif.runs_at>` read: each run's context and each
    result's :class:`ResultKey`. Raises msgspec's errors for a value it cannot hold."""
    headers: list[RunHeader] = []
    strings: dict[str, str] = {}  # equal strings kept once (see result_key)
    for run_index, fast_run in enumerate(runs):
        run = SarifRun.from_json(fast_run.meta, run_index)
        decoder = KEY_WITH_MESSAGE_DECODER if run.tool == "trivy" else KEY_DECODER
        raws = fast_run.results
        keys = [result_key(decoder.decode(raw), strings) for raw in raws or ()]
        headers.append(RunHeader(run, None, keys, raw_results=raws))
    return headers


def fast_findings(
    runs: list[FastRun], file: str, on_read: Callable[[int], None] | None = None
) -> list[Finding]:
    """All findings of the runs :meth:`FastSarif.runs_at
    <vulntune.findings.sarif.fast.FastSarif.runs_at>` read, in one pass, for a caller that
    holds them all anyway: each result is decoded once, and the ids shared by findings that
    end in different places are settled at the end. Raises msgspec's errors for a value it
    cannot hold, before returning anything."""
    findings: list[Finding] = []
    ends: list[str] = []
    index = 0
    for run_index, fast_run in enumerate(runs):
        run = SarifRun.from_json(fast_run.meta, run_index)
        raws, fast_run.results = fast_run.results or [], None
        trivy = run.tool == "trivy"  # Trivy's ids need more than the primary location
        read = 0
        for raw in raws:
            result = decode_result(raw)
            if trivy:
                key = result_key(result)
                findings.append(build_finding(result, run, identity(key, run), file, index, ()))
                ends.append(key.end)
            else:
                location = primary_location(result, run)
                ident, end = placed_identity(result, location, run)
                findings.append(build_finding(result, run, ident, file, index, (), location))
                ends.append(end)
            index += 1
            read += len(raw)
            if on_read is not None and read > _REPORT_READ_EVERY:
                on_read(read)
                read = 0
    first_end: dict[str, str] = {}
    shared = {
        f.id
        for f, end in zip(findings, ends, strict=True)
        if first_end.setdefault(f.id, end) != end
    }
    for finding in findings if shared else ():
        if finding.id in shared:
            finding.id = end_disambiguated_id(finding.tool, finding.id, finding.location)
    return findings


_REPORT_READ_EVERY = 1 << 20  # bytes of results between two on_read calls


# --------------------------------------------------------------------------------------------
# Any other file: the stream, two passes
# --------------------------------------------------------------------------------------------


def scan_runs(stream: JsonStream, file: str) -> list[RunHeader]:
    """Pass 1 over the ``runs`` array at the stream's position: each run's context, the
    offset of its results array, and each result's :class:`ResultKey`."""
    headers: list[RunHeader] = []
    strings: dict[str, str] = {}  # equal strings kept once (see result_key)
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
                    keys.append(result_key(key_from_dict(result), strings))
            else:
                inline = _lone_result(stream.read_value(), run_index, file)
                keys = [result_key(key_from_dict(r), strings) for r in inline or []]
        header = RunHeader(SarifRun.from_json(meta, run_index), offset, keys, inline)
        headers.append(header)
    return headers


def iter_findings(
    stream: JsonStream,
    headers: list[RunHeader],
    file: str,
    on_read: Callable[[int], None] | None = None,
) -> Iterator[Finding]:
    """Pass 2: the findings of the runs :func:`scan_runs` or :func:`fast_headers` read, in
    file order. ``on_read(n)`` is told the size of each result read from the mapped file;
    msgspec's errors for a value it cannot hold propagate."""
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
        if header.raw_results is not None:
            raws, header.raw_results = header.raw_results, None
            read = 0
            for raw, ident in zip(raws, run_identities, strict=True):
                yield build_finding(decode_result(raw), run, ident, file, index, shared)
                index += 1
                read += len(raw)
                if on_read is not None and read > _REPORT_READ_EVERY:
                    on_read(read)
                    read = 0
            continue
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
            ident = run_identities[position]
            yield build_finding(_as_result(result), run, ident, file, index, shared)
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
    identities: list[list[Identity]] = []
    for run, results in prepared:
        keys = [result_key(key_from_dict(_as_dict(r))) for r in results]
        identities.append([identity(key, run) for key in keys])
        for key, ident in zip(keys, identities[-1], strict=True):
            if first_end.setdefault(ident.id, key.end) != key.end:
                shared.add(ident.id)
    index = 0
    for (run, results), run_identities in zip(prepared, identities, strict=True):
        for result, ident in zip(results, run_identities, strict=True):
            yield build_finding(_as_result(result), run, ident, file, index, shared)
            index += 1


def _as_result(result: Any) -> Result[Any]:
    """A decoded result as a struct."""
    return result_from_dict(_as_dict(result))


def _as_dict(result: Any) -> dict[str, Any]:
    """A decoded result: a dict, or another mapping given to :func:`iter_document_findings`."""
    return result if type(result) is dict else dict(result)


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
