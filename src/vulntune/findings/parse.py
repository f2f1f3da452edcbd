"""The one entry point from a scanner output file to findings: :func:`parse_file`.

The format is decided by content, never by file name: a JSON object with a ``runs`` array is
SARIF (:mod:`vulntune.findings.sarif`; UTF-8 files are memory-mapped and decoded by msgspec
where :mod:`vulntune.findings.sarif.fast` accepts them, others are streamed); any other JSON
document is decoded once and given to the first native format in
:data:`vulntune.findings.native.registry.FORMATS` whose ``matches`` accepts it. Everything else
raises one :class:`FindingsInputError` naming the file and what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from vulntune.findings import sarif
from vulntune.findings.formats import FindingsFormat, FindingsInputError
from vulntune.findings.reader import JsonStream, open_json_stream
from vulntune.findings.record import Finding, FormatName
from vulntune.findings.sarif.fast import FastRun, FastSarif

SARIF_FORMAT = sarif.FORMAT_NAME
_MSGSPEC_ERRORS = (msgspec.DecodeError, msgspec.ValidationError)

# What a file starts with when it is a report in another notation, for the error message.
_NOT_JSON_HINTS = {
    "<": "it starts with '<' (an HTML or XML report?)",
    "#": "it starts with '#' (a Markdown report?)",
    "-": "it starts with '-' (YAML or plain text?)",
}


@dataclass(slots=True)
class _Opened:
    """A document read as far as needed to know its format."""

    format: FormatName
    sarif_runs: list[sarif.RunHeader] | None = None
    fast_runs: list[FastRun] | None = None  # SARIF read by sarif.fast (sarif_runs is [])
    doc: Any = None
    native: FindingsFormat | None = None


def parse_file(
    path: Path, display_name: str | None = None, *, whole_file: bool = False
) -> Iterator[Finding]:
    """Yield the findings of one scanner output file, in file order.

    ``display_name`` is what error messages and ``Finding.origin.file`` call the file
    (default: ``str(path)``). Raises :class:`FindingsInputError` (while iterating) for a file
    that is empty, not JSON, broken, or JSON in no known format; findings already yielded by
    then belong to a file that turned out to be broken, so a caller wanting all-or-nothing
    per file should collect them first.

    Memory: SARIF results are read one at a time (twice: ids first), so iterating holds one
    finding at a time. ``whole_file=True`` is for a caller that keeps every finding of the
    file anyway (ingest): a memory-mapped UTF-8 SARIF file is then read in one pass that
    builds all its findings before the first is yielded.
    """
    name = display_name or str(path)
    fileobj, stream = open_json_stream(Path(path), name)
    with fileobj, FastSarif(fileobj, stream.codec, stream.start) as fast:
        opened = _open(stream, name, fast)
        # msgspec's errors below come before any finding is yielded, from a result that is no
        # JSON object or a value msgspec cannot hold (an integer of more than 4300 digits):
        # the stream reads the file again, and names the problem where there is one.
        if opened.fast_runs is not None and whole_file:
            try:
                findings = sarif.fast_findings(opened.fast_runs, name, fast.release)
            except _MSGSPEC_ERRORS:
                opened = _reopen(stream, name)
            else:
                yield from findings
                return
        if opened.fast_runs is not None:
            try:
                opened.sarif_runs = sarif.fast_headers(opened.fast_runs)
                opened.fast_runs = None
            except _MSGSPEC_ERRORS:
                opened = _reopen(stream, name)
            fast.release()
        if opened.sarif_runs is None:
            assert opened.native is not None
            yield from opened.native.parse(opened.doc, name)
            return
        try:
            yield from sarif.iter_findings(stream, opened.sarif_runs, name, fast.release)
        except _MSGSPEC_ERRORS as exc:
            # Pass 1 decoded less of each result than pass 2: only a value the standard
            # library cannot read either gets here, and its error names the byte.
            _reopen(stream, name)
            raise FindingsInputError(name, f"unreadable JSON value: {exc}") from None


def _reopen(stream: JsonStream, name: str) -> _Opened:
    """The document read again from its start, by the stream alone."""
    stream.seek(stream.start)
    return _open(stream, name, None)


def detect_format(path: Path, display_name: str | None = None) -> FormatName:
    """The format name of a file (``"sarif"`` or a native format's ``name``), by content;
    raises FindingsInputError like :func:`parse_file` when it is in no known format."""
    name = display_name or str(path)
    fileobj, stream = open_json_stream(Path(path), name)
    with fileobj, FastSarif(fileobj, stream.codec, stream.start) as fast:
        return _open(stream, name, fast).format


def parse_document(doc: Any, name: str) -> Iterator[Finding]:
    """Findings of an already decoded JSON document (SARIF or a native format)."""
    if sarif.is_sarif_document(doc):
        return sarif.iter_document_findings(doc, name)
    return _native_format(doc, name).parse(doc, name)


def _open(stream: JsonStream, name: str, fast: FastSarif | None) -> _Opened:
    first = stream.peek()
    if first == "{":
        top: dict[str, Any] = {}
        runs: list[sarif.RunHeader] | None = None
        fast_runs: list[FastRun] | None = None
        for key in stream.iter_object():
            if key == "runs" and stream.peek() == "[" and runs is None:
                if "version" in top:  # reject SARIF 1.x before reading its runs
                    sarif.check_version(top, name)
                fast_runs = fast.runs_at(stream.tell()) if fast is not None else None
                if fast_runs is not None and fast.end is not None:
                    runs = []
                    stream.seek(fast.end)  # the top level goes on after the runs array
                else:
                    runs = sarif.scan_runs(stream, name)
            else:
                top[key] = stream.read_value()
        stream.expect_end()
        if runs is not None:
            sarif.check_version(top, name)
            return _Opened(SARIF_FORMAT, sarif_runs=runs, fast_runs=fast_runs)
        native = _native_format(top, name)
        return _Opened(native.name, doc=top, native=native)
    if first == "[":
        doc = []
        for _ in stream.iter_array():
            doc.append(stream.read_value())
        stream.expect_end()
        native = _native_format(doc, name)
        return _Opened(native.name, doc=doc, native=native)
    if first is not None and first in '"-0123456789tfn':
        try:
            value = stream.read_value()
        except FindingsInputError:
            value = None
        else:
            raise FindingsInputError(
                name,
                f"not a recognised scanner report: the JSON document is a single "
                f"{type(value).__name__}",
            )
    hint = _NOT_JSON_HINTS.get(first or "", f"it starts with {first!r}")
    raise FindingsInputError(name, f"not a JSON document: {hint}")


def _native_format(doc: Any, name: str) -> FindingsFormat:
    # Imported here: a file of SARIF only never loads the native parsers.
    from vulntune.findings.native.registry import FORMATS

    for fmt in FORMATS:
        if fmt.matches(doc):
            return fmt
    raise FindingsInputError(name, f"not a recognised scanner report: {_describe(doc)}")


def _describe(doc: Any) -> str:
    if isinstance(doc, Mapping):
        keys = list(doc)
        shown = ", ".join(repr(k) for k in keys[:12]) + (", ..." if len(keys) > 12 else "")
        return f"JSON object with keys [{shown}]" if keys else "empty JSON object"
    if isinstance(doc, list):
        if not doc:
            return "empty JSON array"
        first = doc[0]
        if isinstance(first, Mapping):
            keys = ", ".join(repr(k) for k in list(first)[:8])
            return f"JSON array of {len(doc)} item(s); the first has keys [{keys}]"
        return f"JSON array of {len(doc)} item(s) starting with a {type(first).__name__}"
    return f"JSON {type(doc).__name__}"
