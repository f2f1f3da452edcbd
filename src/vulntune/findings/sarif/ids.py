"""What a SARIF result's id is made of, and the id.

:func:`result_key` takes the parts of a result its id depends on (:class:`ResultKey`: rule,
file, start, end, the package named in a Trivy message) from a key struct of the first pass
or from a whole result; :func:`identity` resolves them in the result's run into the rule, the
package and the id. Ids follow the native parsers of the same tools, never SARIF
``partialFingerprints``: Trivy's from vulnerability + artifact + package (or rule + artifact +
line) and, in an image scan, the image; everybody else's from tool, rule, path and start
position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from vulntune.findings.native.trivy_ids import (
    trivy_dependency_fingerprint,
    trivy_location_fingerprint,
)
from vulntune.findings.record import Location as FindingLocation
from vulntune.findings.record import Package, fingerprint, place_fingerprint
from vulntune.findings.sarif.model import (
    ArtifactLocation,
    KeyLocation,
    KeyMessage,
    KeyPhysicalLocation,
    KeyRegion,
    KeyResult,
    Location,
    Message,
    PhysicalLocation,
    Region,
    Result,
)
from vulntune.findings.sarif.quirks import parse_trivy_message, trivy_package
from vulntune.findings.sarif.run import SarifRule, SarifRun, mapping, text_of


class ResultKey(NamedTuple):
    """The parts of a result its id is computed from; known before the run's metadata."""

    rule_id: str | None  # result.ruleId, else result.rule.id
    rule_index: Any  # result.ruleIndex, else result.rule.index
    component: Any  # result.rule.toolComponent
    uri: Any
    uri_base: Any
    artifact_index: Any
    start_line: int | None
    start_column: int | None
    end: str  # end line and column as common.end_key() writes them
    package_message: str | None  # the message text when it names a package (Trivy)


@dataclass(slots=True)
class Identity:
    """A result's rule, rule id, package and id, computed from its :class:`ResultKey`."""

    rule: SarifRule | None
    rule_id: str
    trivy_fields: dict[str, str] | None
    package: Package | None
    id: str


def result_key(result: KeyResult | Result[Any], strings: dict[str, str] | None = None) -> ResultKey:
    """What the id of ``result`` (a key struct, or a whole result) depends on (see
    :func:`identity`). With ``strings`` (one dict per file), equal rule ids, URIs and ends
    are kept once, not once per result."""
    rule_id, rule_index, component = _rule_reference(result)
    locations = result.locations
    first = locations[0] if type(locations) is list and locations else None
    physical = first.physical_location if type(first) in _LOCATIONS else None
    uri = uri_base = artifact_index = None
    start_line = start_column = end_line = end_column = None
    if type(physical) in _PHYSICAL_LOCATIONS:
        artifact = physical.artifact_location
        if type(artifact) is ArtifactLocation:
            uri, uri_base, artifact_index = artifact.uri, artifact.uri_base_id, artifact.index
        region = physical.region
        if type(region) in _REGIONS:
            start_line, start_column = region.start_line, region.start_column
            end_line, end_column = region.end_line, region.end_column
        elif type(region) is dict:
            start_line, start_column = region.get("startLine"), region.get("startColumn")
            end_line, end_column = region.get("endLine"), region.get("endColumn")
        # positive() inlined: 1-based numbers only (bools are not numbers)
        start_line = start_line if type(start_line) is int and start_line >= 1 else None
        start_column = start_column if type(start_column) is int and start_column >= 1 else None
        end_line = end_line if type(end_line) is int and end_line >= 1 else None
        end_column = end_column if type(end_column) is int and end_column >= 1 else None
    message = getattr(result, "message", None)
    text = message.text if type(message) in _MESSAGES else None
    end = f"{end_line or start_line or ''}:{end_column or ''}"
    if strings is not None:
        if rule_id is not None:
            rule_id = strings.setdefault(rule_id, rule_id)
        end = strings.setdefault(end, end)
        if type(uri) is str:
            uri = strings.setdefault(uri, uri)
    return ResultKey(
        rule_id,
        rule_index,
        component,
        uri,
        uri_base,
        artifact_index,
        start_line,
        start_column,
        end,
        text if type(text) is str and "Package:" in text else None,
    )


def _rule_reference(result: KeyResult | Result[Any]) -> tuple[str | None, Any, Any]:
    """The rule id, rule index and tool component a result names (``ruleId``/``ruleIndex``,
    else ``rule.id``/``rule.index``; ``rule.toolComponent``)."""
    rule_id, rule_index = text_of(result.rule_id), result.rule_index
    if result.rule is None:
        return rule_id, rule_index if type(rule_index) is int and rule_index >= 0 else None, None
    reference = mapping(result.rule)
    if type(rule_index) is not int or rule_index < 0:
        rule_index = reference.get("index")
    return rule_id or text_of(reference.get("id")), rule_index, reference.get("toolComponent")


def placed_identity(
    result: Result[Any], location: FindingLocation | None, run: SarifRun
) -> tuple[Identity, str]:
    """``identity(result_key(result), run)`` and the key's end, for a run that is not
    Trivy's, taken from the result's primary ``location`` as
    :func:`~vulntune.findings.sarif.result.location_of` makes it (its path, start and end
    are the key's): the one pass over a mapped file makes that location anyway."""
    rule_id, rule_index, component = _rule_reference(result)
    rule = run.rule_for(rule_id, rule_index, component)
    rule_id = rule_id or (rule.id if rule is not None else None) or "unknown"
    if location is None:
        finding_id = _place_id(run.tool, rule_id, None, None, None)
        return Identity(rule, rule_id, None, None, finding_id), ":"
    finding_id = _place_id(
        run.tool, rule_id, location.path, location.start_line, location.start_column
    )
    end = f"{location.end_line or ''}:{location.end_column or ''}"
    return Identity(rule, rule_id, None, None, finding_id), end


def _place_id(
    tool: str, rule_id: str, path: str | None, start_line: int | None, start_column: int | None
) -> str:
    if path is None and start_line is None:
        return fingerprint(tool, rule_id)
    return place_fingerprint(tool, rule_id, path, start_line, start_column)


# The struct types result_key reads: of a key (pass 1) or of a whole result.
_LOCATIONS = (KeyLocation, Location)
_PHYSICAL_LOCATIONS = (KeyPhysicalLocation, PhysicalLocation)
_REGIONS = (KeyRegion, Region)
_MESSAGES = (KeyMessage, Message)


def identity(key: ResultKey, run: SarifRun) -> Identity:
    """The id of a result: Trivy's from vulnerability + artifact + package (or rule + artifact
    + line) and the run's image (:attr:`SarifRun.image_scope`, None outside image scans),
    everybody else's from tool, rule, path and start position."""
    rule = run.rule_for(key.rule_id, key.rule_index, key.component)
    rule_id = key.rule_id or (rule.id if rule is not None else None) or "unknown"
    trivy_fields = package = None
    if run.tool == "trivy":
        raw_path = run.raw_path(key.uri, key.uri_base, key.artifact_index)
        trivy_fields = parse_trivy_message(key.package_message) if key.package_message else {}
        package = trivy_package(trivy_fields)
        if package is not None:
            finding_id = trivy_dependency_fingerprint(
                rule_id, raw_path, package.name, package.installed_version or "", run.image_scope
            )
        else:
            finding_id = trivy_location_fingerprint(
                rule_id, raw_path, key.start_line, run.image_scope
            )
    else:
        path = run.resolve_path(key.uri, key.uri_base, key.artifact_index)
        finding_id = _place_id(run.tool, rule_id, path, key.start_line, key.start_column)
    return Identity(rule, rule_id, trivy_fields, package, finding_id)
