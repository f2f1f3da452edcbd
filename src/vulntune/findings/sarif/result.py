"""One SARIF result -> one :class:`Finding`: message, severity, locations, code flows, fix,
suppression. The result is a :class:`~vulntune.findings.sarif.model.Result` struct; run-level
context comes from :class:`~vulntune.findings.sarif.run.SarifRun`, the id from
:func:`vulntune.findings.sarif.ids.identity`.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import TYPE_CHECKING, Any

from msgspec import UNSET, UnsetType

from vulntune.findings.common import (
    classify_kind,
    cwe_id,
    end_disambiguated_id,
    extract_cwe_ids,
    extract_vulnerability_ids,
    is_vulnerability_id,
    string_list,
)
from vulntune.findings.record import (
    Finding,
    FindingKind,
    Fix,
    FixChange,
    FormatName,
    Location,
    Origin,
    WebTarget,
)
from vulntune.findings.sarif.model import (
    EMPTY_REGION,
    ArtifactLocation,
    CodeFlow,
    PhysicalLocation,
    Region,
    Result,
    Snippet,
    ThreadFlow,
    ThreadFlowLocation,
)
from vulntune.findings.sarif.model import Location as SarifLocation
from vulntune.findings.sarif.quirks import choose_severity, parse_trivy_message
from vulntune.findings.sarif.run import SarifRun, items, mapping, message_text, positive, text_of

if TYPE_CHECKING:
    from vulntune.findings.sarif.ids import Identity

FORMAT_NAME: FormatName = "sarif"


def build_finding(
    result: Result[Any],
    run: SarifRun,
    ident: Identity,
    file: str,
    index: int,
    shared_ids: Container[str],
    location: Location | UnsetType | None = UNSET,
) -> Finding:
    """One SARIF result as a Finding. An id in ``shared_ids`` (shared in the file by results
    that end in different places) is made distinct by the end, as the native parsers do.
    ``location``: the result's :func:`primary_location`, where the caller has it already."""
    rule = ident.rule
    result_props = mapping(result.properties)
    primary = _primary(result)
    if location is UNSET:
        location = location_of(primary, run)
    message = (
        run.resolve_message(result.message, rule)
        or (rule.description or rule.name if rule is not None else None)
        or ident.rule_id
    )
    trivy_fields = ident.trivy_fields
    if run.tool == "trivy" and not trivy_fields:
        # The id only needs the message of package results; severity reads every message.
        trivy_fields = parse_trivy_message(message_text(result.message) or "")
    severity = choose_severity(result, rule, run, trivy_fields)
    result_tags = string_list(result_props.get("tags")) if result_props else []
    tags = list(rule.tags) if rule is not None else []
    if result_tags:
        tags.extend(t for t in result_tags if t not in tags)
    if run.image_tag is not None and run.image_tag not in tags:
        tags.append(run.image_tag)  # which image of a Trivy image scan
    web = _web_target(result.web_request) if result.web_request is not None else None
    kind = FindingKind.WEB if web is not None else _kind(run, ident)
    finding_id = ident.id
    if finding_id in shared_ids:
        finding_id = end_disambiguated_id(run.tool, finding_id, location)
    cwe_ids = list(rule.cwe_ids) if rule is not None else []
    if result_tags or "cwe" in result_props or result.taxa is not None:
        cwe_ids.extend(c for c in _result_cwes(run, result, result_props) if c not in cwe_ids)
    suppressed, suppression = (
        _suppression(result.suppressions) if result.suppressions is not None else (False, None)
    )
    related = result.related_locations
    # Positional: matching 27 keywords costs more than the rest of the call (one finding per
    # result); tests/findings/sarif/test_fast.py pins the field order this relies on.
    return Finding(
        finding_id,  # id
        run.tool,  # tool
        ident.rule_id,  # rule_id
        severity.severity,  # severity
        message,  # message
        kind,  # kind
        Origin(file, FORMAT_NAME, index, run.index, run.revision),  # origin
        run.tool_version,  # tool_version
        run.tool_full_name,  # tool_full_name
        rule.name if rule is not None else None,  # rule_name
        severity.original,  # original_severity
        rule.description if rule is not None else None,  # rule_description
        rule.help if rule is not None else None,  # rule_help
        rule.help_uri if rule is not None else None,  # help_uri
        cwe_ids,  # cwe_ids
        _vulnerability_ids(run, ident, tags, kind, message),  # vulnerability_ids
        tags,  # tags
        location,  # location
        _related_locations(related, run) if type(related) is list else [],  # related_locations
        _code_flows(result.code_flows, run) if result.code_flows is not None else [],  # code_flows
        _snippet(primary),  # snippet
        None,  # context
        ident.package,  # package
        web,  # web
        _fix(result, run, location) if result.fixes is not None else None,  # fix
        suppressed,  # suppressed
        suppression,  # suppression
    )


def primary_location(result: Result[Any], run: SarifRun) -> Location | None:
    """The result's first location as a Location (see :func:`location_of`)."""
    return location_of(_primary(result), run)


def _primary(result: Result[Any]) -> Any:
    locations = result.locations
    return locations[0] if type(locations) is list and locations else None


def location_of(location: Any, run: SarifRun) -> Location | None:
    """A SARIF ``location`` as a Location; None when it has no file, region or message (or is
    not a JSON object)."""
    if type(location) is not SarifLocation:
        return None
    physical = location.physical_location
    path = region = None
    if type(physical) is PhysicalLocation:
        artifact = physical.artifact_location
        if type(artifact) is ArtifactLocation:
            path = run.resolve_path(artifact.uri, artifact.uri_base_id, artifact.index)
        region = physical.region
    note = message_text(location.message) if location.message is not None else None
    if type(region) is Region:
        start_line, start_column = region.start_line, region.start_column
        end_line, end_column = region.end_line, region.end_column
        if path is None and note is None and region == EMPTY_REGION:
            return None
    elif type(region) is dict:
        start_line, start_column = region.get("startLine"), region.get("startColumn")
        end_line, end_column = region.get("endLine"), region.get("endColumn")
        if path is None and note is None and not region:
            return None
    elif path is None and note is None:
        return None
    else:
        start_line = start_column = end_line = end_column = None
    # positive() inlined: this runs for every location of every result.
    start_line = start_line if type(start_line) is int and start_line >= 1 else None
    return Location(
        path,
        start_line,
        start_column if type(start_column) is int and start_column >= 1 else None,
        end_line if type(end_line) is int and end_line >= 1 else start_line,  # SARIF default
        end_column if type(end_column) is int and end_column >= 1 else None,
        note,
    )


def _kind(run: SarifRun, ident: Identity) -> FindingKind:
    rule_name = ident.rule.name if ident.rule is not None else None
    key = (ident.rule_id, rule_name, ident.package is not None)
    kind = run.kind_memo.get(key)
    if kind is None:
        kind = classify_kind(run.tool, ident.rule_id, rule_name, ident.package is not None)
        run.kind_memo[key] = kind
    return kind


def _snippet(location: Any) -> str | None:
    physical = location.physical_location if type(location) is SarifLocation else None
    if type(physical) is not PhysicalLocation:
        return None
    for region in (physical.region, physical.context_region):
        if type(region) is Region:
            snippet = region.snippet.text if type(region.snippet) is Snippet else None
        else:
            snippet = mapping(mapping(region).get("snippet")).get("text")
        if isinstance(snippet, str) and snippet.strip():
            return snippet
    return None


def _related_locations(related: list[Any], run: SarifRun) -> list[Location]:
    found = [location_of(x, run) for x in related]
    return [x for x in found if x is not None]


def _code_flows(code_flows: Any, run: SarifRun) -> list[list[Location]]:
    """Each thread flow of each code flow as a list of steps, source to sink."""
    flows: list[list[Location]] = []
    for code_flow in items(code_flows):
        if type(code_flow) is not CodeFlow:
            continue
        for thread_flow in items(code_flow.thread_flows):
            if type(thread_flow) is not ThreadFlow:
                continue
            steps = []
            for step in items(thread_flow.locations):
                if type(step) is ThreadFlowLocation:
                    location = location_of(step.location, run)
                    if location is not None:
                        steps.append(location)
            if steps:
                flows.append(steps)
    return flows


def _fix(result: Result[Any], run: SarifRun, primary: Location | None) -> Fix | None:
    """The first of the result's ``fixes``. A replacement given only as a character offset
    equal to the result region's (DevSkim) takes the result's lines and columns."""
    fixes = [x for x in items(result.fixes) if isinstance(x, Mapping)]
    if not fixes:
        return None
    fix = fixes[0]
    locations = result.locations
    first = locations[0] if type(locations) is list and locations else None
    physical = first.physical_location if type(first) is SarifLocation else None
    region = physical.region if type(physical) is PhysicalLocation else None
    if type(region) is Region:
        primary_offset = None if region.char_offset is UNSET else region.char_offset
    else:
        primary_offset = mapping(region).get("charOffset")
    changes: list[FixChange] = []
    for raw_change in items(fix.get("artifactChanges")):
        change = mapping(raw_change)
        path = run.path_for(change.get("artifactLocation")) or (primary.path if primary else None)
        for raw_replacement in items(change.get("replacements")):
            replacement = mapping(raw_replacement)
            region = mapping(replacement.get("deletedRegion"))
            inserted = mapping(replacement.get("insertedContent")).get("text")
            start_line = positive(region.get("startLine"))
            start_column = positive(region.get("startColumn"))
            end_line = positive(region.get("endLine")) or start_line
            end_column = positive(region.get("endColumn"))
            if (
                start_line is None
                and primary is not None
                and region.get("charOffset") is not None
                and region.get("charOffset") == primary_offset
            ):
                start_line, start_column = primary.start_line, primary.start_column
                end_line, end_column = primary.end_line, primary.end_column
            changes.append(
                FixChange(
                    path=path,
                    inserted_text=inserted if isinstance(inserted, str) else "",
                    start_line=start_line,
                    start_column=start_column,
                    end_line=end_line,
                    end_column=end_column,
                )
            )
    description = message_text(fix.get("description"))
    if not changes and description is None:
        return None
    return Fix(description=description, changes=changes)


def _suppression(suppressions: Any) -> tuple[bool, str | None]:
    """Suppressed when a suppression is accepted (a missing status means accepted);
    described as ``"kind: justification"``, several joined by ``"; "``."""
    descriptions: list[str] = []
    for raw in items(suppressions):
        suppression = mapping(raw)
        if not suppression or suppression.get("status", "accepted") != "accepted":
            continue
        kind = text_of(suppression.get("kind")) or "suppressed"
        justification = text_of(suppression.get("justification"))
        description = f"{kind}: {justification}" if justification else kind
        if description not in descriptions:
            descriptions.append(description)
    if not descriptions:
        return False, None
    return True, "; ".join(descriptions)


def _web_target(web_request: Any) -> WebTarget | None:
    """SARIF ``webRequest`` of a DAST result: its target URL and method."""
    request = mapping(web_request)
    url = text_of(request.get("target"))
    if url is None:
        return None
    return WebTarget(url=url, method=text_of(request.get("method")))


def _result_cwes(run: SarifRun, result: Result[Any], props: Mapping[str, Any]) -> list[str]:
    tags = tuple(string_list(props.get("tags")))
    cwe = props.get("cwe")
    if cwe is None or isinstance(cwe, str):  # a list or an object is read, not remembered
        key = (tags, cwe)
        found = run.cwe_memo.get(key)
        if found is None:
            found = run.cwe_memo[key] = extract_cwe_ids(list(tags), cwe)
        found = list(found)
    else:
        found = extract_cwe_ids(list(tags), cwe)
    for raw in items(result.taxa):
        taxon = mapping(raw)
        taxonomy = text_of(mapping(taxon.get("toolComponent")).get("name")) or ""
        found_id = cwe_id(taxon.get("id")) if taxonomy.upper() == "CWE" else None
        if found_id and found_id not in found:
            found.append(found_id)
    return found


def _vulnerability_ids(
    run: SarifRun, ident: Identity, tags: list[str], kind: FindingKind, message: str
) -> list[str]:
    """Advisory ids: the rule id or a tag when it is one, Trivy's "Vulnerability" line, and
    for dependency findings any id the message names."""
    key = (ident.rule_id, *tags)
    found = run.vulnerability_memo.get(key)
    if found is None:
        found = [x.strip() for x in (ident.rule_id, *tags) if is_vulnerability_id(x)]
        found = extract_vulnerability_ids(found)
        run.vulnerability_memo[key] = found
    found = list(found)
    extra: list[str] = []
    if ident.trivy_fields and ident.trivy_fields.get("Vulnerability"):
        extra.append(ident.trivy_fields["Vulnerability"])
    if kind is FindingKind.DEPENDENCY:
        extra.append(message)
    for vuln_id in extract_vulnerability_ids(*extra) if extra else []:
        if vuln_id not in found:
            found.append(vuln_id)
    return found


def kind_name(value: Any) -> str:
    """How an error message names the JSON type of ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "a number"
