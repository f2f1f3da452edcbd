"""One SARIF result -> one :class:`Finding`: message, severity, locations, code flows, fix,
suppression. Run-level context comes from :class:`~vulntune.findings.sarif_run.SarifRun`,
the id from :func:`vulntune.findings.sarif.identity`.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import TYPE_CHECKING, Any

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
    Location,
    Origin,
    WebTarget,
)
from vulntune.findings.sarif_quirks import choose_severity, parse_trivy_message
from vulntune.findings.sarif_run import SarifRun, items, mapping, message_text, positive, text_of

if TYPE_CHECKING:
    from vulntune.findings.sarif import Identity

FORMAT_NAME = "sarif"
_NO_RULE_PROPS: Mapping[str, Any] = {}


def build_finding(
    result: Mapping[str, Any],
    run: SarifRun,
    ident: Identity,
    file: str,
    index: int,
    shared_ids: Container[str],
) -> Finding:
    """One SARIF result as a Finding. An id in ``shared_ids`` (shared in the file by results
    that end in different places) is made distinct by the end, as the native parsers do."""
    get = result.get
    rule = ident.rule
    result_props = mapping(get("properties"))
    locations = items(get("locations"))
    primary = mapping(locations[0]) if locations else mapping(None)
    location = location_of(primary, run)
    message = (
        run.resolve_message(get("message"), rule)
        or (rule.description or rule.name if rule is not None else None)
        or ident.rule_id
    )
    trivy_fields = ident.trivy_fields
    if run.tool == "trivy" and not trivy_fields:
        # The id only needs the message of package results; severity reads every message.
        trivy_fields = parse_trivy_message(message_text(get("message")) or "")
    severity = choose_severity(
        run.tool,
        result,
        result_props,
        rule.properties if rule is not None else _NO_RULE_PROPS,
        rule.default_level if rule is not None else None,
        trivy_fields,
        run.memo,
    )
    result_tags = string_list(result_props.get("tags"))
    tags = list(rule.tags) if rule is not None else []
    tags.extend(t for t in result_tags if t not in tags)
    web = _web_target(result)
    kind = FindingKind.WEB if web is not None else _kind(run, ident)
    finding_id = ident.id
    if finding_id in shared_ids:
        finding_id = end_disambiguated_id(run.tool, finding_id, location)
    cwe_ids = list(rule.cwe_ids) if rule is not None else []
    if result_tags or "cwe" in result_props or "taxa" in result:
        cwe_ids.extend(c for c in _result_cwes(run, result, result_props) if c not in cwe_ids)
    suppressed, suppression = (
        _suppression(get("suppressions")) if "suppressions" in result else (False, None)
    )
    return Finding(
        id=finding_id,
        tool=run.tool,
        rule_id=ident.rule_id,
        severity=severity.severity,
        message=message,
        kind=kind,
        origin=Origin(file=file, format=FORMAT_NAME, index=index, run_index=run.index),
        tool_version=run.tool_version,
        tool_full_name=run.tool_full_name,
        rule_name=rule.name if rule is not None else None,
        original_severity=severity.original,
        rule_description=rule.description if rule is not None else None,
        rule_help=rule.help if rule is not None else None,
        help_uri=rule.help_uri if rule is not None else None,
        cwe_ids=cwe_ids,
        vulnerability_ids=_vulnerability_ids(run, ident, tags, kind, message),
        tags=tags,
        location=location,
        related_locations=_related_locations(result, run) if "relatedLocations" in result else [],
        code_flows=_code_flows(result, run) if "codeFlows" in result else [],
        snippet=_snippet(primary),
        package=ident.package,
        web=web,
        fix=_fix(result, run, location) if "fixes" in result else None,
        suppressed=suppressed,
        suppression=suppression,
    )


def location_of(location: Mapping[str, Any], run: SarifRun) -> Location | None:
    """A SARIF ``location`` as a Location; None when it has no file, region or message."""
    physical = mapping(location.get("physicalLocation"))
    path = run.path_for(physical.get("artifactLocation")) if physical else None
    region = mapping(physical.get("region"))
    note = message_text(location.get("message")) if "message" in location else None
    if path is None and not region and note is None:
        return None
    start_line = positive(region.get("startLine"))
    return Location(
        path=path,
        start_line=start_line,
        start_column=positive(region.get("startColumn")),
        end_line=positive(region.get("endLine")) or start_line,  # SARIF: defaults to start
        end_column=positive(region.get("endColumn")),
        message=note,
    )


def _kind(run: SarifRun, ident: Identity) -> FindingKind:
    rule_name = ident.rule.name if ident.rule is not None else None
    key = ("kind", ident.rule_id, rule_name, ident.package is not None)
    kind = run.memo.get(key)
    if kind is None:
        kind = classify_kind(run.tool, ident.rule_id, rule_name, ident.package is not None)
        run.memo[key] = kind
    return kind


def _snippet(location: Mapping[str, Any]) -> str | None:
    physical = mapping(location.get("physicalLocation"))
    for region_key in ("region", "contextRegion"):
        snippet = mapping(mapping(physical.get(region_key)).get("snippet")).get("text")
        if isinstance(snippet, str) and snippet.strip():
            return snippet
    return None


def _related_locations(result: Mapping[str, Any], run: SarifRun) -> list[Location]:
    found = [location_of(mapping(x), run) for x in items(result.get("relatedLocations"))]
    return [x for x in found if x is not None]


def _code_flows(result: Mapping[str, Any], run: SarifRun) -> list[list[Location]]:
    """Each thread flow of each code flow as a list of steps, source to sink."""
    flows: list[list[Location]] = []
    for code_flow in items(result.get("codeFlows")):
        for thread_flow in items(mapping(code_flow).get("threadFlows")):
            steps = []
            for step in items(mapping(thread_flow).get("locations")):
                location = location_of(mapping(mapping(step).get("location")), run)
                if location is not None:
                    steps.append(location)
            if steps:
                flows.append(steps)
    return flows


def _fix(result: Mapping[str, Any], run: SarifRun, primary: Location | None) -> Fix | None:
    """The first of the result's ``fixes``. A replacement given only as a character offset
    equal to the result region's (DevSkim) takes the result's lines and columns."""
    fixes = [x for x in items(result.get("fixes")) if isinstance(x, Mapping)]
    if not fixes:
        return None
    fix = fixes[0]
    locations = items(result.get("locations"))
    primary_region = mapping(
        mapping(mapping(locations[0] if locations else None).get("physicalLocation")).get("region")
    )
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
                and region.get("charOffset") == primary_region.get("charOffset")
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


def _web_target(result: Mapping[str, Any]) -> WebTarget | None:
    """SARIF ``webRequest`` of a DAST result: its target URL and method."""
    if "webRequest" not in result:
        return None
    request = mapping(result.get("webRequest"))
    url = text_of(request.get("target"))
    if url is None:
        return None
    return WebTarget(url=url, method=text_of(request.get("method")))


def _result_cwes(run: SarifRun, result: Mapping[str, Any], props: Mapping[str, Any]) -> list[str]:
    tags = tuple(string_list(props.get("tags")))
    cwe = props.get("cwe")
    key = ("cwes", tags, cwe if isinstance(cwe, str) else None)
    found = run.memo.get(key) if cwe is None or isinstance(cwe, str) else None
    if found is None:
        found = extract_cwe_ids(list(tags), cwe)
        run.memo[key] = found
    found = list(found)
    for raw in items(result.get("taxa")):
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
    key = ("vulns", ident.rule_id, *tags)
    found = run.memo.get(key)
    if found is None:
        found = [x.strip() for x in (ident.rule_id, *tags) if is_vulnerability_id(x)]
        found = extract_vulnerability_ids(found)
        run.memo[key] = found
    found = list(found)
    extra: list[str] = []
    if ident.trivy_fields and ident.trivy_fields.get("Vulnerability"):
        extra.append(ident.trivy_fields["Vulnerability"])
    if kind is FindingKind.DEPENDENCY:
        extra.append(message)
    for vuln_id in extract_vulnerability_ids(extra) if extra else []:
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
