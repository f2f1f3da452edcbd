"""What one SARIF run knows about its results: the tool, its rules, and where paths start.

A :class:`SarifRun` is built once per run from everything in the run except ``results`` and
then answers the questions every result asks: which rule is mine (by index, by id, in the
driver or in an extension such as CodeQL's query packs), what is my message (message ids
resolved through ``messageStrings`` with ``{0}`` arguments), and where is my file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vulntune.findings.common import (
    canonical_tool,
    cwe_id,
    extract_cwe_ids,
    string_list,
    text_of,
    uri_to_path,
)
from vulntune.findings.native.trivy_ids import trivy_image_scope
from vulntune.findings.record import FindingKind
from vulntune.findings.sarif.model import EMPTY_MESSAGE, ArtifactLocation, Message

if TYPE_CHECKING:
    from vulntune.findings.sarif.quirks import SeverityChoice

_EMPTY: Mapping[str, Any] = {}
_UNSEEN = object()  # a cache miss (None is a cached answer)
# "{0}" placeholders and the "{{" / "}}" escapes of SARIF message strings (SARIF 3.11.5).
_PLACEHOLDER_RE = re.compile(r"\{\{|\}\}|\{(\d+)\}")
# Embedded links whose target is a related location id: "[user input](1)" (SARIF 3.11.6).
_LOCATION_LINK_RE = re.compile(r"\[((?:[^\[\]\\]|\\.)*)\]\((\d+)\)")


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty mapping."""
    if type(value) is dict:  # what the JSON decoder makes; much faster than the ABC check
        return value
    if value is None:
        return _EMPTY
    return value if isinstance(value, Mapping) else _EMPTY


def items(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty list."""
    return value if isinstance(value, list) else []


def message_text(value: Any) -> str | None:
    """The ``text`` (else ``markdown``) of a SARIF message (a struct) or multiformat string
    (a dict, as in rule descriptions)."""
    if type(value) is Message:
        return text_of(value.text) or text_of(value.markdown)
    message = mapping(value)
    return text_of(message.get("text")) or text_of(message.get("markdown"))


def positive(value: Any) -> int | None:
    """A 1-based line/column number; None for anything else."""
    return value if type(value) is int and value >= 1 else None  # bools are not numbers


@dataclass(slots=True)
class SarifRule:
    """The parts of a SARIF ``reportingDescriptor`` that findings use."""

    id: str | None
    name: str | None
    description: str | None
    help: str | None
    help_uri: str | None
    default_level: str | None
    properties: Mapping[str, Any]
    tags: list[str]
    cwe_ids: list[str]
    message_strings: Mapping[str, Any]
    component: int  # 0 = driver, i + 1 = tool.extensions[i]

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], component: int) -> SarifRule:
        props = mapping(raw.get("properties"))
        tags = string_list(props.get("tags"))
        cwes = extract_cwe_ids(tags, props.get("cwe"), props.get("cwes"))
        for relationship in items(raw.get("relationships")):
            target = mapping(mapping(relationship).get("target"))
            taxonomy = text_of(mapping(target.get("toolComponent")).get("name")) or ""
            found = cwe_id(target.get("id")) if taxonomy.upper() == "CWE" else None
            if found and found not in cwes:
                cwes.append(found)
        return cls(
            id=text_of(raw.get("id")),
            name=text_of(raw.get("name")),
            description=message_text(raw.get("fullDescription"))
            or message_text(raw.get("shortDescription")),
            help=message_text(raw.get("help")),
            help_uri=text_of(raw.get("helpUri")),
            default_level=text_of(mapping(raw.get("defaultConfiguration")).get("level")),
            properties=props,
            tags=tags,
            cwe_ids=cwes,
            message_strings=mapping(raw.get("messageStrings")),
            component=component,
        )


@dataclass(slots=True)
class SarifRun:
    """One run's context, built from the run object without its ``results`` (of its
    ``properties``, only Trivy's ``imageName`` is read)."""

    index: int
    tool: str
    tool_full_name: str | None
    tool_version: str | None
    components: list[Mapping[str, Any]]
    base_uris: Mapping[str, Any]
    artifacts: list[Any]
    # A Trivy image scan (``properties.imageName``): what scopes its ids (see
    # native.trivy_ids.trivy_image_scope) and the tag its findings carry,
    # ``"image:<name as written>"``.
    image_scope: str | None = None
    image_tag: str | None = None
    # The scanned commit: the first ``versionControlProvenance`` entry with a ``revisionId``.
    revision: str | None = None
    _rules: dict[tuple[int, int], SarifRule | None] = field(default_factory=dict)
    _rule_ids: dict[str, tuple[int, int]] | None = None
    # What the builder derives once per rule (most results of a rule agree on these): the
    # severity by (rule properties' id, default level, level, kind), the kind by (rule id,
    # rule name, has a package), CWE ids by (result tags, result "cwe"), advisory ids by
    # (rule id, *tags).
    severity_memo: dict[tuple[int, str | None, str | None, str | None], SeverityChoice] = field(
        default_factory=dict
    )
    kind_memo: dict[tuple[str, str | None, bool], FindingKind] = field(default_factory=dict)
    cwe_memo: dict[tuple[tuple[str, ...], str | None], list[str]] = field(default_factory=dict)
    vulnerability_memo: dict[tuple[str, ...], list[str]] = field(default_factory=dict)
    _paths: dict[tuple[str | None, str | None, int | None], str | None] = field(
        default_factory=dict
    )
    _raw_paths: dict[tuple[str | None, int | None], str | None] = field(default_factory=dict)
    _rule_refs: dict[tuple[str | None, int | None], SarifRule | None] = field(default_factory=dict)

    @classmethod
    def from_json(cls, run: Mapping[str, Any], index: int) -> SarifRun:
        tool = mapping(run.get("tool"))
        driver = mapping(tool.get("driver"))
        name = text_of(driver.get("name")) or text_of(driver.get("fullName"))
        tool_name = canonical_tool(name)
        # Trivy writes the image it scanned into the run's properties (image scans only).
        image = (
            text_of(mapping(run.get("properties")).get("imageName"))
            if tool_name == "trivy"
            else None
        )
        return cls(
            index=index,
            tool=tool_name,
            tool_full_name=name,
            tool_version=text_of(driver.get("version")) or text_of(driver.get("semanticVersion")),
            components=[driver, *(mapping(x) for x in items(tool.get("extensions")))],
            base_uris=mapping(run.get("originalUriBaseIds")),
            artifacts=items(run.get("artifacts")),
            image_scope=trivy_image_scope(image),
            image_tag=f"image:{image}" if image is not None else None,
            revision=next(
                (
                    revision
                    for entry in items(run.get("versionControlProvenance"))
                    if (revision := text_of(mapping(entry).get("revisionId")))
                ),
                None,
            ),
        )

    # -- rules ----------------------------------------------------------------------------

    def rule_for(self, rule_id: str | None, index: Any, component_ref: Any) -> SarifRule | None:
        """The rule a result names: by ``index`` (``ruleIndex`` or ``rule.index``) in the
        component named by ``component_ref`` (``rule.toolComponent``; default: the driver)
        when its id agrees with ``rule_id``, else by id (a hierarchical id ``"a/b"`` also
        finds rule ``"a"``)."""
        if component_ref is None and (index is None or type(index) is int):
            # The usual reference (no toolComponent): answered once per rule id and index.
            key = (rule_id, index)
            rule = self._rule_refs.get(key, _UNSEEN)
            if rule is _UNSEEN:
                rule = self._rule_refs[key] = self._find_rule(rule_id, index, None)
            return rule
        return self._find_rule(rule_id, index, component_ref)

    def _find_rule(self, rule_id: str | None, index: Any, component_ref: Any) -> SarifRule | None:
        component = self._component_index(component_ref) if component_ref is not None else 0
        if type(index) is int and index >= 0:
            rule = self._rule_at(component, index)
            if rule is not None and (rule_id is None or _same_rule(rule.id, rule_id)):
                return rule
        if rule_id is None:
            return None
        ids = self._id_table()
        key = ids.get(rule_id) or ids.get(rule_id.split("/", 1)[0])
        return self._rule_at(*key) if key else None

    def _component_index(self, reference: Any) -> int:
        ref = mapping(reference)
        index = ref.get("index")
        if isinstance(index, int) and not isinstance(index, bool) and index >= 0:
            return index + 1 if index + 1 < len(self.components) else 0
        for key in ("guid", "name"):
            wanted = text_of(ref.get(key))
            if wanted:
                for position, component in enumerate(self.components):
                    if text_of(component.get(key)) == wanted:
                        return position
        return 0

    def _rule_at(self, component: int, index: int) -> SarifRule | None:
        key = (component, index)
        if key not in self._rules:
            rules = items(self.components[component].get("rules"))
            raw = rules[index] if index < len(rules) else None
            self._rules[key] = (
                SarifRule.from_json(raw, component) if isinstance(raw, Mapping) else None
            )
        return self._rules[key]

    def _id_table(self) -> dict[str, tuple[int, int]]:
        if self._rule_ids is None:
            table: dict[str, tuple[int, int]] = {}
            for position, component in enumerate(self.components):
                for index, raw in enumerate(items(component.get("rules"))):
                    rule_id = text_of(mapping(raw).get("id"))
                    if rule_id:
                        table.setdefault(rule_id, (position, index))
            self._rule_ids = table
        return self._rule_ids

    # -- messages -------------------------------------------------------------------------

    def resolve_message(self, message: Any, rule: SarifRule | None) -> str | None:
        """A result's message text (``message`` is a :class:`Message`, or any other JSON
        value, which has none): its ``text`` (else ``markdown``), or its ``id`` looked up
        in the rule's ``messageStrings`` then the components' ``globalMessageStrings``;
        ``{n}`` replaced by ``arguments[n]``; related-location links reduced to their text."""
        msg = message if type(message) is Message else EMPTY_MESSAGE
        arguments = [str(a) for a in msg.arguments] if type(msg.arguments) is list else []
        text = text_of(msg.text) or text_of(msg.markdown)
        formatted = bool(arguments)
        if text is None:
            message_id = text_of(msg.id)
            if message_id is None:
                return None
            template = None
            if rule is not None:
                template = message_text(rule.message_strings.get(message_id))
            for component in self.components:
                if template is not None:
                    break
                strings = mapping(component.get("globalMessageStrings"))
                template = message_text(strings.get(message_id))
            if template is None:
                return None
            text, formatted = template, True
        if formatted:
            text = _PLACEHOLDER_RE.sub(lambda m: _substitute(m, arguments), text)
        if "](" in text:
            text = _LOCATION_LINK_RE.sub(r"\1", text)
        return text

    # -- paths ----------------------------------------------------------------------------

    def path_for(self, artifact_location: Any) -> str | None:
        """The normalised path of an ``artifactLocation`` (``uri`` + ``uriBaseId``, or an
        ``index`` into the run's ``artifacts``), resolved through ``originalUriBaseIds``;
        a struct of a result, or a dict (fixes)."""
        if type(artifact_location) is ArtifactLocation:
            location = artifact_location
            return self.resolve_path(location.uri, location.uri_base_id, location.index)
        location = mapping(artifact_location)
        return self.resolve_path(
            location.get("uri"), location.get("uriBaseId"), location.get("index")
        )

    def resolve_path(self, uri: Any, base: Any, artifact_index: Any = None) -> str | None:
        """:meth:`path_for` from the parts of an ``artifactLocation``."""
        # Anything but a string (index: an int) is not usable; it also keeps the key hashable.
        uri = uri if isinstance(uri, str) else None
        base = base if isinstance(base, str) else None
        artifact_index = artifact_index if type(artifact_index) is int else None
        key = (uri, base, artifact_index)
        path = self._paths.get(key, _UNSEEN)
        if path is _UNSEEN:
            uri, base = self._uri_and_base(uri, base, artifact_index)
            path = uri_to_path(uri, base, self.base_uris) if uri is not None else None
            self._paths[key] = path
        return path

    def raw_path(self, uri: Any, base: Any, artifact_index: Any = None) -> str | None:
        """Like :meth:`resolve_path` without applying ``uriBaseId``: the path as the tool wrote
        it, relative to its own base (Trivy ids use this: its native JSON has no base)."""
        uri = uri if isinstance(uri, str) else None
        artifact_index = artifact_index if type(artifact_index) is int else None
        key = (uri, artifact_index)
        path = self._raw_paths.get(key, _UNSEEN)
        if path is _UNSEEN:
            uri, _ = self._uri_and_base(uri, base, artifact_index)
            path = uri_to_path(uri) if uri is not None else None
            self._raw_paths[key] = path
        return path

    def _uri_and_base(self, uri: Any, base: Any, artifact_index: Any) -> tuple[str | None, Any]:
        if (
            not isinstance(uri, str)
            and type(artifact_index) is int
            and 0 <= artifact_index < len(self.artifacts)
        ):
            artifact = mapping(mapping(self.artifacts[artifact_index]).get("location"))
            uri, base = artifact.get("uri"), artifact.get("uriBaseId", base)
        return (uri if isinstance(uri, str) and uri.strip() else None), base


def _same_rule(rule_id: str | None, wanted: str) -> bool:
    return rule_id is None or rule_id == wanted or wanted.startswith(rule_id + "/")


def _substitute(match: re.Match[str], arguments: list[str]) -> str:
    token = match.group(0)
    if token == "{{":
        return "{"
    if token == "}}":
        return "}"
    position = int(match.group(1))
    return arguments[position] if position < len(arguments) else token
