"""The fast way through a UTF-8 SARIF file: memory-mapped, decoded by msgspec's C decoder.

:func:`vulntune.findings.parse.parse_file` walks the top level of every file with the exact,
standard-library :class:`~vulntune.findings.reader.JsonStream`. When it reaches the ``runs``
array of a UTF-8 file it asks :meth:`FastSarif.runs_at` for the runs; this maps the file,
checks that the whole of it is valid UTF-8 and valid JSON, and returns each run's context
with its results as undecoded byte slices of the mapping (``msgspec.Raw``), which
:mod:`vulntune.findings.sarif` decodes one at a time into typed structs
(:mod:`vulntune.findings.sarif.model`). Nothing of the file is copied into memory.

The fast path only answers where it reads the file exactly as the standard library would; it
returns None otherwise, and the caller reads the runs with the stream instead, which gives
the same findings or the same error message as ever:

- not UTF-8, not valid UTF-8, or not valid JSON (msgspec is as strict as the standard library
  about JSON, but not about UTF-8 in the strings it skips: that is checked first, and
  ``NaN``, lone surrogate escapes and the like, which msgspec refuses, send a file back);
- a run that is not an object, ``results`` that is neither an array nor null (a lone result
  object); a result that is not an object fails its decode (msgspec's errors send the file
  back to the stream too, see :func:`vulntune.findings.parse.parse_file`);
- a document whose ``runs`` key is repeated with another value: the stream reads the first
  ``runs``, msgspec keeps the last; decoding the first one's bytes with the last one's length
  succeeds only when they are the same.

Two things the standard library refuses in a valid JSON document are accepted: integers of
more than 4300 digits, and nesting close to the interpreter's recursion limit, when either is
in a part of the file that findings do not read (the stream decodes everything).
"""

from __future__ import annotations

import codecs
import contextlib
import mmap
import os
from dataclasses import dataclass
from typing import Any, BinaryIO

import msgspec

_CHECK_CHUNK = 1 << 20
_JSON_WHITESPACE = b" \t\r\n"
# A mapping's pages stay resident once read; past this many bytes read, they are given back to
# the page cache, so that reading a file once does not hold all of it in the resident set.
_RELEASE_EVERY = 8 << 20
_MADV_DONTNEED = getattr(mmap, "MADV_DONTNEED", None)


class _RunProperties(msgspec.Struct, rename="camel", gc=False):
    """The one run property findings read: the image a Trivy image scan scanned."""

    image_name: Any = None


class _Run(msgspec.Struct, rename="camel", gc=False):
    """A run without its results decoded: the context the findings need, and the results
    as byte slices. Every other property of the run is skipped (validated, not decoded)."""

    tool: Any = None
    original_uri_base_ids: Any = None
    version_control_provenance: Any = None
    artifacts: Any = None
    # Any JSON value: what is not an object has no imageName, as in SarifRun.from_json.
    properties: _RunProperties | bool | int | float | str | list[Any] | None = None
    results: list[msgspec.Raw] | None = None


_TOP_DECODER = msgspec.json.Decoder(dict[str, msgspec.Raw])
_RUNS_DECODER = msgspec.json.Decoder(list[_Run], float_hook=float)


@dataclass(slots=True)
class FastRun:
    """One run: the parts of the run object that :meth:`SarifRun.from_json
    <vulntune.findings.sarif.run.SarifRun.from_json>` reads (it makes of them what it makes of
    the whole run object the stream reader gives it), and its results (None: no array,
    ``"results": null``)."""

    meta: dict[str, Any]
    results: list[msgspec.Raw] | None


class FastSarif:
    """The fast reader of one file; :meth:`close` it (or use it as a context manager)."""

    def __init__(self, fileobj: BinaryIO, codec: str, bom: int) -> None:
        self._fileobj = fileobj
        self._usable = codec == "utf-8"
        self._bom = bom
        self._map: mmap.mmap | None = None
        self._top: dict[str, msgspec.Raw] | None = None
        self._released_at = 0
        self.end: int | None = None  # byte offset just after the runs array, once read

    def __enter__(self) -> FastSarif:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the decoded top level and unmap the file (once no slice of it is in use)."""
        self._top = None
        if self._map is not None:
            # Results still pointing into the mapping keep it open (BufferError): it is unmapped
            # when the last of them is freed.
            with contextlib.suppress(BufferError):
                self._map.close()
            self._map = None

    def runs_at(self, offset: int) -> list[FastRun] | None:
        """The runs of the array that starts at byte ``offset`` (the first ``runs`` key of the
        top-level object), or None where the fast path does not apply (see the module docs).
        Afterwards :attr:`end` is where the stream reader continues."""
        if not self._map_file():
            return None
        # Mostly "runs" is the last key: then the array ends at the document's last "]", and
        # decoding up to there succeeds only if it does (no other key can follow it).
        end = self._end_of_last_array()
        runs = self._decode_runs(offset, end) if end is not None else None
        if runs is None:
            # The general way: the array's length from a decode of the whole top level. With a
            # second "runs" key this is the length of the last one, and the first one decodes
            # in that length only if the two are the same.
            top = self._top_level()
            runs_raw = top.get("runs") if top is not None else None
            if runs_raw is None:
                return None
            end = offset + len(runs_raw)
            runs = self._decode_runs(offset, end)
            if runs is None:
                return None
        found: list[FastRun] = []
        for run in runs:
            meta = {}
            if run.tool is not None:
                meta["tool"] = run.tool
            if run.original_uri_base_ids is not None:
                meta["originalUriBaseIds"] = run.original_uri_base_ids
            if run.artifacts is not None:
                meta["artifacts"] = run.artifacts
            if run.version_control_provenance is not None:
                meta["versionControlProvenance"] = run.version_control_provenance
            if type(run.properties) is _RunProperties and run.properties.image_name is not None:
                meta["properties"] = {"imageName": run.properties.image_name}
            found.append(FastRun(meta, run.results))
        self._top = None
        self.end = end
        self.release()
        return found

    def release(self, read: int = 0) -> None:
        """Note that ``read`` more bytes of the mapping were decoded; every
        ``_RELEASE_EVERY`` bytes (and at once for ``read=0``) the pages read so far leave the
        resident set: they are clean file pages, and reading them again costs a page-cache
        lookup, not a disk read."""
        self._released_at += read
        if self._map is None or _MADV_DONTNEED is None:
            return
        if read == 0 or self._released_at >= _RELEASE_EVERY:
            self._released_at = 0
            self._map.madvise(_MADV_DONTNEED)

    def _map_file(self) -> bool:
        """Map the file (once); False where it is not UTF-8, not valid UTF-8, or empty."""
        if self._map is None and self._usable:
            self._usable = False  # one try per file
            try:
                size = os.fstat(self._fileobj.fileno()).st_size
                mapped = mmap.mmap(self._fileobj.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                return False  # not a regular file, or a file system without mappings
            if size > self._bom and _valid_utf8(mapped):
                self._map = mapped
            else:
                mapped.close()
        return self._map is not None

    def _end_of_last_array(self) -> int | None:
        """The offset just after the document's last "]" when only "}" and whitespace follow
        it; None otherwise."""
        assert self._map is not None
        size = len(self._map)
        tail = self._map[max(self._bom, size - 256) :]
        trimmed = tail.rstrip(_JSON_WHITESPACE)
        if not trimmed.endswith(b"}"):
            return None
        trimmed = trimmed[:-1].rstrip(_JSON_WHITESPACE)
        if not trimmed.endswith(b"]"):
            return None
        return size - len(tail) + len(trimmed)

    def _decode_runs(self, start: int, end: int) -> list[_Run] | None:
        """The runs array at ``[start, end)``; None when that is not exactly one valid array of
        run objects."""
        assert self._map is not None
        try:
            return _RUNS_DECODER.decode(memoryview(self._map)[start:end])
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None

    def _top_level(self) -> dict[str, msgspec.Raw] | None:
        """The top-level object with undecoded values; None for invalid JSON."""
        if self._top is None and self._map is not None:
            try:
                self._top = _TOP_DECODER.decode(memoryview(self._map)[self._bom :])
            except (msgspec.DecodeError, msgspec.ValidationError):
                return None
        return self._top


def _valid_utf8(data: mmap.mmap) -> bool:
    """True when ``data`` is valid UTF-8 (ASCII chunks, the common case, are not decoded)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        for start in range(0, len(data), _CHECK_CHUNK):
            chunk = data[start : start + _CHECK_CHUNK]
            if not (chunk.isascii() and not decoder.getstate()[0]):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
