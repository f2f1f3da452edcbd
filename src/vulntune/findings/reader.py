"""Read scanner output files: detect the text encoding from the content and walk the JSON
incrementally, so a SARIF file of tens of MB is never held in memory as one Python tree.

:class:`JsonStream` keeps a window of decoded text (about a MiB) and decodes one JSON value at
a time with the standard library's C decoder (``JSONDecoder.raw_decode``). Callers walk
objects and arrays with :meth:`JsonStream.iter_object` / :meth:`JsonStream.iter_array` and
decode or skip each member. Positions are byte offsets into the file, so a caller can skip a
large array, read what follows it, and come back (SARIF puts ``tool`` after ``results``
at times).
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from vulntune.findings.formats import FindingsInputError

DEFAULT_CHUNK_CHARS = 1 << 20
# Files up to this size are decoded in one piece: fewer steps, and re-reading is free.
WHOLE_FILE_BYTES = 8 << 20

_BOMS: list[tuple[bytes, str]] = [
    # UTF-32 before UTF-16: the UTF-32 LE BOM starts with the UTF-16 LE BOM.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
# A decode error this far before the end of the window cannot be caused by the window ending.
_TRUNCATION_MARGIN = 64


def detect_encoding(head: bytes) -> tuple[str, int]:
    """The codec and BOM length for a file starting with ``head`` (its first 4+ bytes).

    A BOM decides (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE). Without one, the pattern of zero bytes
    in the first four bytes tells UTF-16/32 JSON from UTF-8, because JSON text starts with
    an ASCII character (RFC 8259 section 8.1); anything else is read as UTF-8.
    """
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec, len(bom)
    if len(head) >= 4:
        zeros = tuple(b == 0 for b in head[:4])
        if zeros == (True, True, True, False):
            return "utf-32-be", 0
        if zeros == (False, True, True, True):
            return "utf-32-le", 0
    if len(head) >= 2:
        if head[0] == 0 and head[1] != 0:
            return "utf-16-be", 0
        if head[0] != 0 and head[1] == 0:
            return "utf-16-le", 0
    return "utf-8", 0


def _encoded_length(text: str, codec: str) -> int:
    """Bytes ``text`` takes in ``codec`` (the input was decoded strictly, so this is exact)."""
    if text.isascii():
        return len(text) * {"utf-8": 1, "utf-16-le": 2, "utf-16-be": 2}.get(codec, 4)
    return len(text.encode(codec, "surrogatepass"))


class JsonStream:
    """Incremental reader of one JSON document in a binary file.

    Every method that moves forward consumes exactly one syntactic piece; structural errors
    raise :class:`FindingsInputError` naming the file and the byte offset.
    """

    def __init__(
        self,
        fileobj: BinaryIO,
        name: str,
        codec: str = "utf-8",
        start: int = 0,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
    ) -> None:
        self.name = name
        self.codec = codec
        self.start = start  # byte offset of the document (after a byte order mark)
        self._file = fileobj
        self._chunk = chunk_chars
        self._bytes_per_read = chunk_chars  # UTF-8 text is roughly one byte per character
        self._marks: dict[int, int] | None = None
        self.seek(start)

    # -- low level ------------------------------------------------------------------------

    def seek(self, offset: int) -> None:
        """Continue reading at byte ``offset`` (one returned by :meth:`tell`)."""
        if self._marks is not None and offset in self._marks:
            self._pos = self._marks[offset]  # still in the window: no need to read it again
            return
        self._file.seek(offset)
        self._decoder = codecs.getincrementaldecoder(self.codec)("strict")
        self._buf = ""
        self._pos = 0
        self._buf_start = offset  # byte offset of self._buf[0]
        self._eof = False
        # Byte offset -> window index of the positions tell() gave out since the window last
        # dropped text; lets seek() go back without reading again (small files: always).
        self._marks = {}

    def tell(self) -> int:
        """Byte offset of the next value (whitespace skipped)."""
        self.peek()
        offset = self._buf_start + _encoded_length(self._buf[: self._pos], self.codec)
        if self._marks is not None:
            self._marks[offset] = self._pos
        return offset

    def _fill(self, at_least: int) -> bool:
        """Append at least ``at_least`` more characters to the window unless the file ends
        first; drops the consumed part of the window. False when nothing more could be read."""
        if self._eof:
            return False
        if self._pos:
            self._buf_start += _encoded_length(self._buf[: self._pos], self.codec)
            self._buf = self._buf[self._pos :]
            self._pos = 0
            self._marks = None
        parts = [self._buf]
        added = 0
        while added < at_least:
            raw = self._file.read(max(self._bytes_per_read, at_least - added))
            try:
                text = self._decoder.decode(raw, final=not raw)
            except UnicodeDecodeError as exc:
                offset = self._buf_start + _encoded_length("".join(parts), self.codec)
                raise FindingsInputError(
                    self.name,
                    f"not valid {self.codec.upper()} text near byte {offset + exc.start}",
                ) from None
            parts.append(text)
            added += len(text)
            if not raw:
                self._eof = True
                break
        self._buf = "".join(parts)
        return added > 0

    def peek(self) -> str | None:
        """The next non-whitespace character (not consumed), or None at the end of the file."""
        pos = self._pos
        if pos < len(self._buf) and self._buf[pos] not in " \t\n\r":
            return self._buf[pos]  # the common case in compact JSON
        while True:
            self._pos = _WHITESPACE.match(self._buf, self._pos).end()
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._fill(self._chunk):
                return None

    def _consume(self, char: str, what: str) -> None:
        found = self.peek()
        if found != char:
            self._fail_expected(what, found)
        self._pos += 1

    def _fail_expected(self, what: str, found: str | None) -> None:
        shown = "end of file" if found is None else repr(found)
        raise FindingsInputError(
            self.name, f"invalid JSON at byte {self.tell()}: expected {what}, found {shown}"
        )

    # -- values ---------------------------------------------------------------------------

    def read_value(self) -> Any:
        """Decode and consume the next complete JSON value."""
        if self.peek() is None:
            self._fail_expected("a value", None)
        while True:
            try:
                value, end = _DECODER.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                maybe_truncated = exc.msg.startswith("Unterminated string") or (
                    exc.pos >= len(self._buf) - _TRUNCATION_MARGIN
                )
                if maybe_truncated and self._fill(max(self._chunk, len(self._buf) - self._pos)):
                    continue
                raise self._decode_error(exc) from None
            except RecursionError:
                raise FindingsInputError(
                    self.name, f"JSON nested too deeply at byte {self.tell()}"
                ) from None
            except ValueError as exc:  # e.g. an integer with more digits than Python allows
                raise FindingsInputError(
                    self.name, f"unreadable JSON value at byte {self.tell()}: {exc}"
                ) from None
            # A number (or literal) ending exactly at the window's end may continue after it.
            if end == len(self._buf) and self._fill(self._chunk):
                continue
            self._pos = end
            return value

    def _decode_error(self, exc: json.JSONDecodeError) -> FindingsInputError:
        offset = self._buf_start + _encoded_length(self._buf[: exc.pos], self.codec)
        tail = self._buf[exc.pos :]
        truncated = exc.msg.startswith("Unterminated string") or (
            len(tail.strip()) <= 8 and not any(c in tail for c in '"{}[],:')
        )
        if self._eof and truncated:
            problem = f"JSON ends early at byte {offset} (truncated file?): {exc.msg}"
        else:
            problem = f"invalid JSON at byte {offset}: {exc.msg}"
        return FindingsInputError(self.name, problem)

    def skip_value(self) -> None:
        """Consume the next value without keeping it. An array goes element by element, so
        skipping a huge array needs no more memory than its largest element."""
        if self.peek() == "[":
            for _ in self.iter_array():
                self.read_value()
        else:
            self.read_value()

    def iter_object(self) -> Iterator[str]:
        """Walk the object at the current position: yields each key with the stream placed at
        its value. The caller must consume the value (read, skip or walk) before resuming."""
        self._consume("{", "'{'")
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            if self.peek() != '"':
                self._fail_expected("an object key", self.peek())
            key = self.read_value()
            self._consume(":", "':'")
            yield key
            char = self.peek()
            if char == ",":
                self._pos += 1
            elif char == "}":
                self._pos += 1
                return
            else:
                self._fail_expected("',' or '}'", char)

    def iter_array(self) -> Iterator[int]:
        """Walk the array at the current position: yields each element's index with the
        stream placed at the element, which the caller must consume before resuming."""
        self._consume("[", "'['")
        if self.peek() == "]":
            self._pos += 1
            return
        index = 0
        while True:
            yield index
            index += 1
            char = self.peek()
            if char == ",":
                self._pos += 1
            elif char == "]":
                self._pos += 1
                return
            else:
                self._fail_expected("',' or ']'", char)

    def expect_end(self) -> None:
        """Fail unless only whitespace is left."""
        char = self.peek()
        if char is not None:
            raise FindingsInputError(
                self.name, f"unexpected data after the JSON document at byte {self.tell()}"
            )


def open_json_stream(
    path: Path, name: str | None = None, chunk_chars: int = DEFAULT_CHUNK_CHARS
) -> tuple[BinaryIO, JsonStream]:
    """Open ``path`` and return ``(file, JsonStream)``; the caller closes the file.

    Raises FindingsInputError (naming ``name`` or the path) when the file cannot be opened,
    is empty, or holds only whitespace.
    """
    display = name or str(path)
    try:
        fileobj = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    except OSError as exc:
        raise FindingsInputError(display, f"cannot open: {exc.strerror or exc}") from None
    try:
        head = fileobj.read(4)
        if not head:
            raise FindingsInputError(display, "empty file")
        codec, bom = detect_encoding(head)
        size = os.fstat(fileobj.fileno()).st_size
        if size <= WHOLE_FILE_BYTES:
            # One read and one decode; +1 so that the first read also sees the end of file.
            chunk_chars = max(chunk_chars, size + 1)
        stream = JsonStream(fileobj, display, codec, bom, chunk_chars)
        if stream.peek() is None:
            raise FindingsInputError(display, "empty file (only whitespace)")
    except BaseException:
        fileobj.close()
        raise
    return fileobj, stream
