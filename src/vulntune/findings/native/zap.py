"""OWASP ZAP alerts: the traditional JSON report and the API alerts list.

- Traditional report (``-J report.json`` of the packaged scans, the ``traditional-json`` and
  ``traditional-json-plus`` templates): ``{"@programName", "@version", "site": [{"@name",
  "alerts": [{"pluginid", "alertRef", "name", "riskcode", "confidence", "riskdesc", "desc",
  "instances": [{"uri", "method", "param", "attack", "evidence", "otherinfo"}], "solution",
  "reference", "cweid", "wascid", ...}]}]}``. Text fields are HTML paragraphs; codes are
  strings. Older reports write a single site as an object instead of a list.
- Legacy report (the XML report of old ZAP versions converted to JSON): ``{"Report":
  {"@Version", "@Generated", "Sites": [{"@Name", "Alerts": {"AlertItem": [...]}}]}}``. Keys
  are capitalised as the converter saw them (``PluginID``, ``RiskCode``, ``Desc``, ``URI``),
  one element becomes an object instead of a list, and instances are ``{"Instance": [...]}``
  or inline in the alert. It is read as the traditional report after
  :func:`_legacy_as_traditional` folds the keys to lower case.
- API alerts (``/JSON/core/view/alerts/`` or a client's ``core.alerts()``): ``{"alerts":
  [...]}`` or a bare list with one entry per *instance*: ``pluginId``, ``alertRef``, ``name``,
  ``risk`` ("High"...), ``confidence``, ``url``, ``method``, ``param``, ``attack``,
  ``evidence``, ``description``, ``solution``, ``reference``, ``cweid``, ``wascid``.

Either way one finding is one alert on one site, with every place it was seen listed in
``web.instances``. The id hashes the alert reference and the site, so it stays the same when a
later scan sees the alert at more or fewer URLs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from vulntune.findings.common import extract_cwe_ids, normalize_severity
from vulntune.findings.formats import SimpleFormat
from vulntune.findings.native._fields import (
    html_to_text,
    integer,
    items,
    mapping,
    require_object,
    require_text,
    text,
    unique,
    urls_in,
)
from vulntune.findings.record import (
    Finding,
    FindingKind,
    FormatName,
    Origin,
    Severity,
    WebInstance,
    WebTarget,
    fingerprint,
)

NAME: FormatName = "zap-json"

_RISK_CODES: dict[int | None, Severity] = {
    0: Severity.INFO,
    1: Severity.LOW,
    2: Severity.MEDIUM,
    3: Severity.HIGH,
}
_RISK_WORDS: dict[int | None, str] = {0: "Informational", 1: "Low", 2: "Medium", 3: "High"}
_CONFIDENCE_CODES: dict[int | None, str] = {
    0: "False Positive",
    1: "Low",
    2: "Medium",
    3: "High",
    4: "Confirmed",
}


def matches(doc: Any) -> bool:
    """A traditional report (``site`` plus ZAP's ``@programName``/``@version``/``@generated``)
    or an API alerts list (entries with ``pluginId``/``alertRef``, ``risk`` and ``url``)."""
    if isinstance(doc, Mapping):
        if _is_legacy(doc):
            return True
        if "site" in doc and any(k in doc for k in ("@programName", "@version", "@generated")):
            return isinstance(doc["site"], (list, Mapping))
        alerts = doc.get("alerts")
        return isinstance(alerts, list) and bool(alerts) and all(map(_is_api_alert, alerts))
    return isinstance(doc, list) and bool(doc) and all(map(_is_api_alert, doc))


def _is_legacy(doc: Mapping[str, Any]) -> bool:
    """``{"Report": {"Sites": ...}}`` (keys in any case)."""
    report = _folded(doc).get("report")
    return isinstance(report, Mapping) and isinstance(_folded(report).get("sites"), (list, Mapping))


def _folded(value: Mapping[str, Any]) -> dict[str, Any]:
    """``value`` with its keys in lower case (the first of two keys that fold alike wins)."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        out.setdefault(str(key).lower(), item)
    return out


def _as_list(value: Any) -> list[Any]:
    """An XML-converted repeated element: a list, one object, or nothing."""
    if isinstance(value, list):
        return value
    return [] if value is None or value == "" else [value]


def _legacy_as_traditional(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The legacy ``Report``/``Sites``/``Alerts``/``AlertItem`` layout in the traditional
    report's shape: keys in lower case, ``@name`` per site, ``alerts`` and ``instances``
    as lists (an alert without instances keeps its inline ``uri``)."""
    report = _folded(doc["Report"] if "Report" in doc else _folded(doc)["report"])
    sites = []
    for raw_site in _as_list(report.get("sites")):
        site = _folded(raw_site) if isinstance(raw_site, Mapping) else {}
        alerts = site.get("alerts")
        if isinstance(alerts, Mapping):
            alerts = _folded(alerts).get("alertitem")
        converted = []
        for raw_alert in _as_list(alerts):
            if not isinstance(raw_alert, Mapping):
                converted.append(raw_alert)  # the traditional parser names the bad entry
                continue
            alert = _folded(raw_alert)
            if "alertref" in alert:
                alert["alertRef"] = alert.pop("alertref")
            instances = alert.get("instances")
            if isinstance(instances, Mapping):
                instances = _folded(instances).get("instance")
            alert["instances"] = [
                _folded(i) if isinstance(i, Mapping) else i for i in _as_list(instances)
            ]
            converted.append(alert)
        name = site.get("@name", site.get("name"))
        sites.append({"@name": name, "alerts": converted})
    return {
        "@programName": "ZAP",
        "@version": report.get("@version", report.get("version")),
        "site": sites,
    }


def _is_api_alert(entry: Any) -> bool:
    return (
        isinstance(entry, Mapping)
        and ("pluginId" in entry or "alertRef" in entry)
        and "risk" in entry
        and "url" in entry
    )


def parse(doc: Any, file: str) -> Iterator[Finding]:
    """Yield one finding per alert and site."""
    if isinstance(doc, Mapping) and _is_legacy(doc):
        doc = _legacy_as_traditional(doc)
    if isinstance(doc, Mapping) and "site" in doc:
        findings = list(_parse_report(doc, file))
    else:
        findings = list(_parse_api(doc if isinstance(doc, list) else doc["alerts"], file))
    yield from _disambiguate(findings)


def _disambiguate(findings: list[Finding]) -> list[Finding]:
    """ZAP can raise one alert on one site at two risk or confidence levels (two entries in
    the report): those get ids that also hash the level, the same in both report shapes."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.id, []).append(finding)
    for group in groups.values():
        if len(group) > 1:
            for finding in group:
                confidence = next(
                    (t for t in finding.tags if t.startswith("confidence:")), "confidence:"
                )
                level = f"risk:{finding.severity.value}|{confidence}"
                finding.id = fingerprint("zap", finding.id, extra=level)
    return findings


def _parse_report(doc: Mapping[str, Any], file: str) -> Iterator[Finding]:
    version = text(doc.get("@version"))
    sites = doc["site"] if isinstance(doc["site"], list) else [doc["site"]]
    index = 0
    for s, site in enumerate(sites):
        site = require_object(site, file, f"site[{s}]")
        site_url = text(site.get("@name")) or ""
        alerts = site.get("alerts")
        alerts = [alerts] if isinstance(alerts, Mapping) else items(alerts)
        for a, raw in enumerate(alerts):
            where = f"site[{s}].alerts[{a}]"
            raw = require_object(raw, file, where)
            instances = [_instance(mapping(i)) for i in items(raw.get("instances"))]
            if not instances and text(raw.get("uri")):  # very old reports: one place, inline
                instances = [_instance(raw)]
            risk = integer(raw.get("riskcode"))
            alert = _Alert(
                raw=raw,
                where=where,
                site_url=site_url,
                instances=[i for i in instances if i is not None],
                severity=_RISK_CODES.get(risk),
                original_severity=text(raw.get("riskdesc")) or _RISK_WORDS.get(risk),
                confidence=_CONFIDENCE_CODES.get(integer(raw.get("confidence"))),
                description=html_to_text(raw.get("desc")),
                version=version,
            )
            yield _finding(alert, file, index)
            index += 1


def _parse_api(alerts: list[Any], file: str) -> Iterator[Finding]:
    """Group the per-instance API entries into alerts, in order of first appearance."""
    grouped: dict[tuple[str, ...], list[tuple[int, Mapping[str, Any]]]] = {}
    for i, entry in enumerate(alerts):
        entry = require_object(entry, file, f"alerts[{i}]")
        ref = text(entry.get("alertRef")) or text(entry.get("pluginId")) or ""
        name = text(entry.get("name")) or text(entry.get("alert")) or ""
        # One alert of the traditional report: rule, name, site, risk and confidence.
        level = (text(entry.get("risk")) or "", text(entry.get("confidence")) or "")
        key = (ref, name, _site(entry), *level)
        grouped.setdefault(key, []).append((i, entry))
    for index, ((_, _, site_url, _, _), group) in enumerate(grouped.items()):
        first_index, first = group[0]
        risk = text(first.get("risk"))
        alert = _Alert(
            raw=first,
            where=f"alerts[{first_index}]",
            site_url=site_url,
            instances=[i for i in (_instance(entry) for _, entry in group) if i is not None],
            severity=normalize_severity(risk),
            original_severity=risk,
            confidence=text(first.get("confidence")),
            description=html_to_text(first.get("description")),
            version=None,
            tags=list(mapping(first.get("tags"))),
        )
        yield _finding(alert, file, index)


def _site(entry: Mapping[str, Any]) -> str:
    """scheme://host[:port] of an API entry's URL: the site a traditional report groups by."""
    url = text(entry.get("url")) or ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else url


def _instance(raw: Mapping[str, Any]) -> WebInstance | None:
    url = text(raw.get("uri")) or text(raw.get("url"))
    if url is None:
        return None
    return WebInstance(
        url=url,
        method=text(raw.get("method")),
        parameter=text(raw.get("param")),
        evidence=text(raw.get("evidence")),
        attack=text(raw.get("attack")),
    )


@dataclass(frozen=True, slots=True)
class _Alert:
    """One alert on one site, read from either report shape: the alert object as ZAP wrote it
    (the first instance's entry of the API list) and what the shape says about it."""

    raw: Mapping[str, Any]
    where: str  # the alert's place in the file, for error messages
    site_url: str
    instances: list[WebInstance]
    severity: Severity | None
    original_severity: str | None
    confidence: str | None
    description: str | None
    version: str | None  # ZAP's version (traditional reports only)
    tags: list[str] = field(default_factory=list)


def _finding(alert: _Alert, file: str, index: int) -> Finding:
    """The finding of one alert on one site, its instances listed in ``web.instances``."""
    raw, site_url, instances = alert.raw, alert.site_url, alert.instances
    confidence = alert.confidence
    name = text(raw.get("name")) or require_text(raw.get("alert"), file, f"{alert.where}.name")
    plugin = text(raw.get("pluginid")) or text(raw.get("pluginId"))
    rule_id = text(raw.get("alertRef")) or plugin or name
    first = instances[0] if instances else None
    web = WebTarget(
        url=first.url if first else site_url,
        method=first.method if first else None,
        parameter=first.parameter if first else None,
        evidence=first.evidence if first else None,
        instances=instances,
    )
    cwe = integer(raw.get("cweid"))
    wasc = integer(raw.get("wascid"))
    all_tags = list(alert.tags)
    if plugin and plugin != rule_id:
        all_tags.append(f"plugin:{plugin}")
    if wasc is not None and wasc > 0:
        all_tags.append(f"WASC-{wasc}")
    if confidence:
        all_tags.append(f"confidence:{confidence}")
    other = html_to_text(raw.get("otherinfo")) or html_to_text(raw.get("other"))
    references = urls_in(raw.get("reference"))
    false_positive = (confidence or "").lower() == "false positive"
    return Finding(
        id=fingerprint("zap", rule_id, web=WebTarget(url=site_url)),
        tool="zap",
        rule_id=rule_id,
        # A missing or unknown risk: medium, the default SARIF gives a result without a level.
        severity=alert.severity or Severity.MEDIUM,
        message=f"{name}\n{other}" if other else name,
        kind=FindingKind.WEB,
        origin=Origin(file=file, format=NAME, index=index),
        tool_version=alert.version,
        tool_full_name="ZAP",
        rule_name=name,
        original_severity=alert.original_severity,
        rule_description=alert.description,
        rule_help=html_to_text(raw.get("solution")),
        help_uri=references[0] if references else None,
        cwe_ids=extract_cwe_ids(cwe) if cwe is not None and cwe > 0 else [],
        tags=unique(all_tags),
        web=web,
        suppressed=false_positive,
        suppression="false positive (ZAP confidence)" if false_positive else None,
    )


FORMAT = SimpleFormat(NAME, matches, parse)
