"""Typed access to loosely structured JSON, shared by the native parsers.

Scanner JSON is messy: optional fields go missing, numbers arrive as strings, lists arrive as
``null``. These helpers read one field with one rule each, so every parser treats such noise
the same way: a missing or wrongly typed *optional* field reads as absent, while a broken
*required* structure raises :class:`FindingsInputError` naming the file and the place.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from vulntune.findings.common import text_of as text
from vulntune.findings.formats import FindingsInputError


def raw_text(value: Any) -> str | None:
    """A non-blank string kept exactly as written (snippets, fix text); None otherwise."""
    if isinstance(value, str) and value.strip():
        return value
    return None


def integer(value: Any) -> int | None:
    """An int, or a string of digits, as an int; None for anything else (bools included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def positive(value: Any) -> int | None:
    """A 1-based line or column: :func:`integer` when it is at least 1, else None."""
    number = integer(value)
    return number if number is not None and number >= 1 else None


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one (for optional sub-objects)."""
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty list (for optional arrays)."""
    return value if isinstance(value, list) else []


def require_list(value: Any, file: str, where: str) -> list[Any]:
    """A required JSON array; raises FindingsInputError naming ``where`` otherwise."""
    if not isinstance(value, list):
        raise FindingsInputError(file, f"{where} must be a JSON array, found {_kind(value)}")
    return value


def require_object(value: Any, file: str, where: str) -> Mapping[str, Any]:
    """A required JSON object; raises FindingsInputError naming ``where`` otherwise."""
    if not isinstance(value, Mapping):
        raise FindingsInputError(file, f"{where} must be a JSON object, found {_kind(value)}")
    return value


def require_text(value: Any, file: str, where: str) -> str:
    """A required non-blank string; raises FindingsInputError naming ``where`` otherwise."""
    result = text(value)
    if result is None:
        raise FindingsInputError(file, f"{where} must be a non-empty string, found {_kind(value)}")
    return result


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def unique(values: list[str]) -> list[str]:
    """``values`` without duplicates, in order of first appearance."""
    return list(dict.fromkeys(values))


_BLOCK_TAG_RE = re.compile(r"<\s*(?:br\s*/?|/p|/li|/div|/h\d)\s*>", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]+>")
_BLANK_LINES_RE = re.compile(r"\n\s*\n+")


def html_to_text(value: Any) -> str | None:
    """HTML fragments such as ZAP's ``<p>...</p><p>...</p>`` as plain text, one paragraph a
    line; plain text passes through (entities decoded). None for blank or non-string input."""
    if not isinstance(value, str):
        return None
    body = _BLOCK_TAG_RE.sub("\n", value)
    body = html.unescape(_TAG_RE.sub("", body))
    lines = [" ".join(line.split()) for line in body.splitlines()]
    joined = _BLANK_LINES_RE.sub("\n", "\n".join(line for line in lines if line))
    return joined.strip() or None


_URL_RE = re.compile(r"https?://[^\s<>\"')\]]+")


def urls_in(value: Any) -> list[str]:
    """Every http(s) URL in a string, in order, without duplicates."""
    if not isinstance(value, str):
        return []
    return unique([url.rstrip(".,;") for url in _URL_RE.findall(value)])
