"""The contract between the ingester and the per-format parsers.

Each native JSON format is a :class:`FindingsFormat`: a content test on the decoded document
and a parser. SARIF is handled by its own streaming reader because SARIF files can be large.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from vulntune.errors import VulntuneError
from vulntune.findings.record import Finding, FormatName


class FindingsInputError(VulntuneError):
    """An input file that cannot be read as scanner output. The message names the file."""

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem


class FindingsFormat(Protocol):
    """A native (non-SARIF) scanner output format."""

    name: FormatName  # recorded in Finding.origin.format

    def matches(self, doc: Any) -> bool:
        """True when the decoded JSON document is in this format (decided by content only)."""
        ...

    def parse(self, doc: Any, file: str) -> Iterator[Finding]:
        """Yield the document's findings; raise FindingsInputError for a broken document."""
        ...


@dataclass(frozen=True)
class SimpleFormat:
    """A FindingsFormat built from two functions (what most parser modules export)."""

    name: FormatName
    matches_fn: Callable[[Any], bool]
    parse_fn: Callable[[Any, str], Iterator[Finding]]

    def matches(self, doc: Any) -> bool:
        return bool(self.matches_fn(doc))

    def parse(self, doc: Any, file: str) -> Iterator[Finding]:
        return self.parse_fn(doc, file)
