"""The one entry point from a scanner output file to findings: :func:`parse_file`.

The format is decided by content, never by file name: a JSON object with a ``runs`` array is
SARIF and is streamed (:mod:`vulntune.findings.sarif`); any other JSON document is decoded
once and given to the first native format in :data:`vulntune.findings.native.FORMATS` whose
``matches`` accepts it. Everything else raises one :class:`FindingsInputError` naming the
file and what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vulntune.findings import sarif
from vulntune.findings.formats import FindingsFormat, FindingsInputError
from vulntune.findings.reader import JsonStream, open_json_stream
from vulntune.findings.record import Finding

SARIF_FORMAT = sarif.FORMAT_NAME

# What a file starts with when it is a report in another notation, for the error message.
_NOT_JSON_HINTS = {
    "<": "it starts with '<' (an HTML or XML report?)",
    "#": "it starts with '#' (a Markdown report?)",
    "-": "it starts with '-' (YAML or plain text?)",
}


@dataclass(slots=True)
class _Opened:
    """A document read as far as needed to know its format."""

    format: str  # "sarif" or a native format name
    sarif_runs: list[sarif.RunHeader] | None = None
    doc: Any = None
    native: FindingsFormat | None = None


def parse_file(path: Path, display_name: str | None = None) -> Iterator[Finding]:
    """Yield the findings of one scanner output file, in file order.

    ``display_name`` is what error messages and ``Finding.origin.file`` call the file
    (default: ``str(path)``). Raises :class:`FindingsInputError` (while iterating) for a file
    that is empty, not JSON, broken, or JSON in no known format; findings already yielded by
    then belong to a file that turned out to be broken, so a caller wanting all-or-nothing
    per file should collect them first.
    """
    name = display_name or str(path)
    fileobj, stream = open_json_stream(Path(path), name)
    with fileobj:
        opened = _open(stream, name)
        if opened.sarif_runs is not None:
            yield from sarif.iter_findings(stream, opened.sarif_runs, name)
        else:
            assert opened.native is not None
            yield from opened.native.parse(opened.doc, name)


def detect_format(path: Path, display_name: str | None = None) -> str:
    """The format name of a file (``"sarif"`` or a native format's ``name``), by content;
    raises FindingsInputError like :func:`parse_file` when it is in no known format."""
    name = display_name or str(path)
    fileobj, stream = open_json_stream(Path(path), name)
    with fileobj:
        return _open(stream, name).format


def parse_document(doc: Any, name: str) -> Iterator[Finding]:
    """Findings of an already decoded JSON document (SARIF or a native format)."""
    if sarif.is_sarif_document(doc):
        return sarif.iter_document_findings(doc, name)
    return _native_format(doc, name).parse(doc, name)


def _open(stream: JsonStream, name: str) -> _Opened:
    first = stream.peek()
    if first == "{":
        top: dict[str, Any] = {}
        runs: list[sarif.RunHeader] | None = None
        for key in stream.iter_object():
            if key == "runs" and stream.peek() == "[" and runs is None:
                if "version" in top:  # reject SARIF 1.x before reading its runs
                    sarif.check_version(top, name)
                runs = sarif.scan_runs(stream, name)
            else:
                top[key] = stream.read_value()
        stream.expect_end()
        if runs is not None:
            sarif.check_version(top, name)
            return _Opened(SARIF_FORMAT, sarif_runs=runs)
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
    from vulntune.findings.native import FORMATS  # import here: native parsers are optional

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
