"""The findings file that `vulntune ingest -o` writes: its layout, its writer and THE reader.

Every later stage (datasets, analyze) reads findings files with :func:`read_findings` (or
:func:`iter_findings`), never line by line itself, so that the layout can change in one place.

Layout: JSON Lines, UTF-8, one finding per line: :meth:`Finding.to_dict
<vulntune.findings.record.Finding.to_dict>`'s fields (empty ones may be absent or
``null``/``false``/``[]``: they mean the same). A rule's description and help are the bulk of
a scanner's output when they repeat in every finding of the rule (two thirds of the bytes), so
they are written once: the first finding with a given pair of texts carries them and
``"$rule": "7"``, which names the pair; later findings with the same texts carry only
``"$rule": "7"`` (their ``rule_description`` and ``rule_help`` null). The reader puts the texts
back: every reader gets the same :class:`Finding` objects as from a file without references,
and every line is still a finding (a program that only checks the first line's keys, such as
"is this a findings file?", needs no change).

Files with one whole finding per line (older vulntune, other tools) are read as they are.
Problems are reported with file and line, all at once (up to a limit).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import msgspec

from vulntune.errors import VulntuneError
from vulntune.findings.record import Finding

RULE_REF = "$rule"  # the key naming a finding's pair of rule texts
_REF_PREFIX = b'{"' + RULE_REF.encode() + b'":'

_MAX_REPORTED = 10


class FindingsFileError(VulntuneError):
    """A findings file that cannot be read, or lines in it that are not findings."""


def write_findings(findings: Iterable[Finding], out: IO[bytes]) -> int:
    """Write ``findings`` to a binary stream in the findings file layout (see the module docs);
    returns how many were written. The findings are not changed."""
    encode_into = msgspec.json.Encoder().encode_into
    refs: dict[tuple[str | None, str | None], bytes] = {}
    # Lines are encoded straight into one buffer, written out in large pieces: no bytes object
    # per finding, and no copy to put the reference in front (the encoded "{" becomes ",").
    buffer = bytearray()
    count = 0
    for finding in findings:
        texts = finding.rule_description, finding.rule_help
        if texts == (None, None):
            _encode_line(finding, encode_into, buffer, None)
        else:
            ref = refs.get(texts)
            if ref is None:  # the first finding with these texts: it carries them
                ref = refs[texts] = _REF_PREFIX + json.dumps(str(len(refs) + 1)).encode()
                _encode_line(finding, encode_into, buffer, ref)
            else:  # encoded without its texts: cleared for the call, put back whatever happens
                finding.rule_description = finding.rule_help = None
                try:
                    _encode_line(finding, encode_into, buffer, ref)
                finally:
                    finding.rule_description, finding.rule_help = texts
        count += 1
        if len(buffer) >= _WRITE_EVERY:
            out.write(buffer)
            buffer.clear()
    if buffer:
        out.write(buffer)
    return count


_WRITE_EVERY = 1 << 20  # bytes of lines collected before a write


def _encode_line(finding: Finding, encode_into: Any, buffer: bytearray, ref: bytes | None) -> None:
    """Append one finding as a line to ``buffer``, after ``{"$rule":"N",`` when ``ref`` is
    given. msgspec encodes the record itself (every field, empty ones as null/false/[]), eight
    times faster than building a dict; text with a lone surrogate (from a JSON escape in the
    report) cannot be UTF-8 and goes the slow way, escaped."""
    if ref is not None:
        buffer += ref
    at = len(buffer)
    try:
        encode_into(finding, buffer, at)
    except UnicodeEncodeError:
        del buffer[at:]
        buffer += _json(finding.to_dict())
        buffer.pop()  # the newline, appended below like the fast path's
    if ref is not None:
        buffer[at] = 0x2C  # the finding's "{" becomes the "," after the reference
    buffer.append(0x0A)


def _json(value: dict[str, Any]) -> bytes:
    """``value`` as one JSON line, a lone surrogate written as its JSON escape."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "backslashreplace") + b"\n"


def iter_findings(path: Path) -> Iterator[Finding]:
    """The findings of ``path`` in file order, read lazily; FindingsFileError at the first bad
    line. Blank lines are skipped. :func:`read_findings` reports every bad line at once."""
    for item in _parse_lines(Path(path)):
        if isinstance(item, str):
            raise FindingsFileError(f"bad line in a findings file{_HINT}: {item}")
        yield item


def read_findings(path: Path) -> list[Finding]:
    """Every finding of ``path``; FindingsFileError lists each bad line as ``file:line: why``."""
    findings: list[Finding] = []
    problems: list[str] = []
    for item in _parse_lines(Path(path)):
        if isinstance(item, str):
            problems.append(item)
        else:
            findings.append(item)
    if problems:
        shown = problems[:_MAX_REPORTED]
        more = f" (and {len(problems) - len(shown)} more)" if len(problems) > len(shown) else ""
        raise FindingsFileError(
            f"{len(problems)} bad line(s) in a findings file{more}{_HINT}:\n  " + "\n  ".join(shown)
        )
    return findings


_HINT = " (write findings with `vulntune ingest -o FILE`)"


def _parse_lines(path: Path) -> Iterator[Finding | str]:
    """Each line's Finding, or a ``file:line: problem`` string for a line that is not one."""
    rules: dict[str, tuple[Any, Any]] = {}  # rule text lines read so far
    try:
        with open(path, "rb") as handle:
            for lineno, raw in enumerate(handle, start=1):
                yield from _parse_line(path, lineno, raw, rules)
    except FileNotFoundError:
        raise FindingsFileError(f"{path}: no such findings file") from None
    except IsADirectoryError:
        raise FindingsFileError(f"{path}: is a directory, not a findings file") from None
    except OSError as exc:
        raise FindingsFileError(f"{path}: cannot read: {exc.strerror}") from None


def _parse_line(
    path: Path, lineno: int, raw: bytes, rules: dict[str, tuple[Any, Any]]
) -> Iterator[Finding | str]:
    if lineno == 1:
        raw = raw.removeprefix(b"\xef\xbb\xbf")  # a BOM an editor may have added
    if not raw.strip():
        return
    try:
        data = json.loads(raw)
        ref = data.pop(RULE_REF, None) if isinstance(data, dict) else None
        if ref is not None:
            texts = data.get("rule_description"), data.get("rule_help")
            if texts != (None, None):  # the first finding with these texts carries them
                rules[str(ref)] = texts
            elif (known := rules.get(str(ref))) is not None:
                data["rule_description"], data["rule_help"] = known
            else:
                yield f"{path}:{lineno}: names rule text {ref!r}, which no earlier line holds"
                return
        yield Finding.from_dict(data)
    except UnicodeDecodeError as exc:
        yield f"{path}:{lineno}: not UTF-8 ({exc.reason} at byte {exc.start})"
    except json.JSONDecodeError as exc:
        yield f"{path}:{lineno}: invalid JSON ({exc.msg}, column {exc.colno})"
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        yield f"{path}:{lineno}: not a finding ({_why(exc)})"


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
