"""Reading a findings file: the JSONL that `vulntune ingest -o` writes, one Finding per line.

This is THE reader of findings files for every later stage (datasets, analyze), so that a
change of the file's layout is made in one place. Problems are reported with file and line,
all at once (up to a limit), like the training-data reader.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from vulntune.errors import VulntuneError
from vulntune.findings.record import Finding

_MAX_REPORTED = 10


class FindingsFileError(VulntuneError):
    """A findings file that cannot be read, or lines in it that are not findings."""


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
    try:
        with open(path, "rb") as handle:
            for lineno, raw in enumerate(handle, start=1):
                yield from _parse_line(path, lineno, raw)
    except FileNotFoundError:
        raise FindingsFileError(f"{path}: no such findings file") from None
    except IsADirectoryError:
        raise FindingsFileError(f"{path}: is a directory, not a findings file") from None
    except OSError as exc:
        raise FindingsFileError(f"{path}: cannot read: {exc.strerror}") from None


def _parse_line(path: Path, lineno: int, raw: bytes) -> Iterator[Finding | str]:
    if lineno == 1:
        raw = raw.removeprefix(b"\xef\xbb\xbf")  # a BOM an editor may have added
    if not raw.strip():
        return
    try:
        yield Finding.from_dict(json.loads(raw))
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
