"""The parts of a SARIF result that findings are made of, as typed msgspec structs.

Decoding a result into these structs skips every property findings do not use
(``partialFingerprints``, ``fingerprints``, ``hostedViewerUri``, ...) and makes no dict for
the objects it keeps, which is what makes large files fast. The types are lenient on purpose:
where SARIF expects an object or an array, any other JSON value is accepted too (and read
like a missing one, as the rest of the parser does), so a valid JSON document always decodes.

Regions are the one place where what a struct drops matters: a location with neither file
nor message is kept when it has a region, and the region ``{"x-custom": 1}`` counts as one
(its dict is not empty). So results decode in two variants of the same generic types:
:data:`Result` ``[Region]``, whose :class:`Region` lists every property SARIF defines for a
region and refuses any other, and ``Result[dict[str, Any]]``, which keeps regions as dicts;
:func:`decode_result` takes the first and falls back to the second for the rare result the
first refuses. :mod:`vulntune.findings.sarif.result` reads either kind of region.

Field names are SARIF's own (``ruleId``, ``physicalLocation``) through ``rename="camel"``.
Results already decoded as dicts (the exact standard-library path, used for files the fast
path does not take) become the same structs through :func:`result_from_dict`, so one builder
serves both.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, Union

import msgspec

# Every JSON value that is not an object / not an array. Unions of a struct (or a list) with
# these accept any JSON value, so decoding never fails on a value of an unexpected type.
_NOT_OBJECT = Union[None, bool, int, float, str, list[Any]]  # noqa: UP007 - runtime type
_NOT_ARRAY = Union[None, bool, int, float, str, dict[str, Any]]  # noqa: UP007

_OPTIONS = {"kw_only": True, "rename": "camel", "gc": False}  # gc: trees of JSON data, no cycles
_UNSET: Any = msgspec.UNSET  # a property the region does not have (null is a value)

R = TypeVar("R")  # how a region is held: Region, or dict[str, Any]


class Message(msgspec.Struct, **_OPTIONS):
    """A SARIF ``message``: literal text or markdown, or a message id with arguments."""

    text: Any = None
    markdown: Any = None
    id: Any = None
    arguments: Any = None


class ArtifactLocation(msgspec.Struct, **_OPTIONS):
    """A SARIF ``artifactLocation``: a URI relative to a base, or an index into artifacts."""

    uri: Any = None
    uri_base_id: Any = None
    index: Any = None


class Snippet(msgspec.Struct, **_OPTIONS):
    """A region's ``snippet`` (an artifactContent)."""

    text: Any = None


class Region(msgspec.Struct, forbid_unknown_fields=True, **_OPTIONS):
    """A SARIF ``region`` with every property the schema gives it (absent ones UNSET, so
    ``Region() == region`` tells an empty region); any other property fails the decode."""

    start_line: Any = _UNSET
    start_column: Any = _UNSET
    end_line: Any = _UNSET
    end_column: Any = _UNSET
    char_offset: Any = _UNSET
    char_length: Any = _UNSET
    byte_offset: Any = _UNSET
    byte_length: Any = _UNSET
    snippet: Snippet | _NOT_OBJECT = _UNSET
    message: Any = _UNSET
    source_language: Any = _UNSET
    properties: Any = _UNSET


class PhysicalLocation(msgspec.Struct, Generic[R], **_OPTIONS):
    """A SARIF ``physicalLocation``."""

    artifact_location: ArtifactLocation | _NOT_OBJECT = None
    region: R | _NOT_OBJECT = None
    context_region: R | _NOT_OBJECT = None


class Location(msgspec.Struct, Generic[R], **_OPTIONS):
    """A SARIF ``location``: a place and an optional message about it."""

    physical_location: PhysicalLocation[R] | _NOT_OBJECT = None
    message: Message | _NOT_OBJECT = None


class ThreadFlowLocation(msgspec.Struct, Generic[R], **_OPTIONS):
    """One step of a thread flow."""

    location: Location[R] | _NOT_OBJECT = None


class ThreadFlow(msgspec.Struct, Generic[R], **_OPTIONS):
    """The steps of one thread of a code flow, source to sink."""

    locations: list[ThreadFlowLocation[R] | _NOT_OBJECT] | _NOT_ARRAY = None


class CodeFlow(msgspec.Struct, Generic[R], **_OPTIONS):
    """A code flow: one or more thread flows."""

    thread_flows: list[ThreadFlow[R] | _NOT_OBJECT] | _NOT_ARRAY = None


class Result(msgspec.Struct, Generic[R], **_OPTIONS):
    """A SARIF ``result``, reduced to what findings use. Rarely present or irregular parts
    (properties, fixes, taxa, suppressions, web requests) stay plain JSON values."""

    rule_id: Any = None
    rule_index: Any = None
    rule: Any = None
    level: Any = None
    kind: Any = None
    message: Message | _NOT_OBJECT = None
    locations: list[Location[R] | _NOT_OBJECT] | _NOT_ARRAY = None
    related_locations: list[Location[R] | _NOT_OBJECT] | _NOT_ARRAY = None
    code_flows: list[CodeFlow[R] | _NOT_OBJECT] | _NOT_ARRAY = None
    properties: Any = None
    taxa: Any = None
    suppressions: Any = None
    fixes: Any = None
    web_request: Any = None


# -- what a result's id is made of (the first of the two passes over a file) ----------------


class KeyRegion(msgspec.Struct, **_OPTIONS):
    """The lines and columns of a region."""

    start_line: Any = None
    start_column: Any = None
    end_line: Any = None
    end_column: Any = None


class KeyPhysicalLocation(msgspec.Struct, **_OPTIONS):
    """The file and region of a location, without snippets."""

    artifact_location: ArtifactLocation | _NOT_OBJECT = None
    region: KeyRegion | _NOT_OBJECT = None


class KeyLocation(msgspec.Struct, **_OPTIONS):
    """A location without its message."""

    physical_location: KeyPhysicalLocation | _NOT_OBJECT = None


class KeyResult(msgspec.Struct, **_OPTIONS):
    """The parts of a result its id is made of (see :func:`vulntune.findings.sarif.identity`)."""

    rule_id: Any = None
    rule_index: Any = None
    rule: Any = None
    locations: list[KeyLocation | _NOT_OBJECT] | _NOT_ARRAY = None


class KeyMessage(msgspec.Struct, **_OPTIONS):
    """A message's literal text."""

    text: Any = None


class KeyResultWithMessage(KeyResult, **_OPTIONS):
    """Trivy's ids also need the message, which names the package."""

    message: KeyMessage | _NOT_OBJECT = None


EMPTY_MESSAGE = Message()
EMPTY_REGION = Region()

# float_hook=float: an out-of-range float (1e400) becomes inf, as in the standard library,
# instead of failing the decode.
_DECODER = msgspec.json.Decoder(Result[Region], float_hook=float)
_DICT_REGIONS_DECODER = msgspec.json.Decoder(Result[dict[str, Any]], float_hook=float)
KEY_DECODER = msgspec.json.Decoder(KeyResult, float_hook=float)
KEY_WITH_MESSAGE_DECODER = msgspec.json.Decoder(KeyResultWithMessage, float_hook=float)


def decode_result(raw: msgspec.Raw) -> Result[Any]:
    """One result from its JSON bytes; regions as :class:`Region` structs, or as dicts for a
    result with a region property SARIF does not define. msgspec's errors for a value it
    cannot hold (an integer of more than 4300 digits) propagate."""
    try:
        return _DECODER.decode(raw)
    except msgspec.ValidationError:
        return _DICT_REGIONS_DECODER.decode(raw)


def result_from_dict(result: dict[str, Any]) -> Result[Any]:
    """A result decoded by the standard library (a dict) as a :class:`Result`, its regions
    left as they are (dicts)."""
    return msgspec.convert(result, Result[dict[str, Any]])


def key_from_dict(result: dict[str, Any]) -> KeyResultWithMessage:
    """A result decoded by the standard library (a dict) as a key (with the message: the
    stream may meet a run's results before its tool)."""
    return msgspec.convert(result, KeyResultWithMessage)
