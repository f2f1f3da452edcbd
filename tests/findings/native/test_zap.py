"""OWASP ZAP: the traditional JSON report and the API alerts list, one finding per alert."""

from __future__ import annotations

import json

from vulntune.findings.native.zap import FORMAT
from vulntune.findings.record import FindingKind, Severity, WebInstance, WebTarget, fingerprint


def parse(doc, file="zap.json"):
    assert FORMAT.matches(doc)
    return list(FORMAT.parse(doc, file))


def test_traditional_report_alert_with_instances(load):
    xss, timestamp, csp = parse(load("zap-traditional.json"))
    assert xss.rule_id == "40012"
    assert xss.kind is FindingKind.WEB
    assert xss.tool == "zap"
    assert xss.tool_version == "2.15.0"
    assert xss.severity is Severity.HIGH
    assert xss.original_severity == "High (Medium)"
    assert xss.cwe_ids == ["CWE-79"]
    assert "WASC-8" in xss.tags
    assert "confidence:Medium" in xss.tags
    assert xss.rule_description == (
        "Cross-site Scripting (XSS) is an attack technique that involves echoing"
        " attacker-supplied code into a user's browser instance."
    )
    assert xss.rule_help == (
        "Phase: Architecture and Design\n"
        "Use a vetted library or framework that does not allow this weakness to occur."
    )
    assert xss.help_uri == "https://owasp.org/www-community/attacks/xss/"
    assert xss.web.url.startswith("https://shop.example.test/search?q=")
    assert (xss.web.method, xss.web.parameter) == ("GET", "q")
    assert xss.web.evidence == "<script>alert(1);</script>"
    assert xss.web.instances[1] == WebInstance(
        url="https://shop.example.test/feedback",
        method="POST",
        parameter="comment",
        evidence="</p><scrIpt>alert(1);</scRipt><p>",
        attack="</p><scrIpt>alert(1);</scRipt><p>",
    )
    # The id names the alert and the site, not the URLs it happened to be seen at.
    assert xss.id == fingerprint("zap", "40012", web=WebTarget(url="https://shop.example.test"))

    assert timestamp.severity is Severity.INFO
    assert timestamp.suppressed is True  # ZAP confidence 0: a false positive
    assert timestamp.message == (
        "Timestamp Disclosure - Unix\n1717405964, which evaluates to: 2024-06-03 09:12:44."
    )
    assert csp.web.url == "https://api.example.test/"
    assert csp.web.evidence is None  # empty strings are absent values
    assert [f.origin.index for f in (xss, timestamp, csp)] == [0, 1, 2]


def test_api_alerts_object_groups_instances(load):
    csp, cookie = parse(load("zap-api-alerts.json"))
    assert csp.rule_id == "10038-1"
    assert csp.severity is Severity.MEDIUM
    assert csp.original_severity == "Medium"
    assert [i.url for i in csp.web.instances] == [
        "http://localhost:3000/",
        "http://localhost:3000/login",
    ]
    assert "OWASP_2021_A05" in csp.tags
    assert csp.help_uri == (
        "https://developer.mozilla.org/en-US/docs/Web/Security/CSP/Introducing_Content_Security_Policy"
    )
    assert csp.id == fingerprint("zap", "10038-1", web=WebTarget(url="http://localhost:3000"))
    assert cookie.severity is Severity.LOW
    assert cookie.web.parameter == "session"
    assert cookie.message == "Cookie No HttpOnly Flag\nThe cookie was set by the login form."


def test_api_bare_list_groups_by_site(load):
    cookie, csp_4000, csp_3000 = parse(load("zap-api-list.json"))
    assert cookie.rule_id == "10010"
    assert csp_4000.web.url == "http://localhost:4000/health"
    assert csp_3000.web.url == "http://localhost:3000/login"
    assert csp_4000.id != csp_3000.id


def test_same_alert_in_report_and_api_list_has_one_id(load):
    report = load("zap-traditional.json")
    api = {
        "alerts": [
            {
                "pluginId": "10038",
                "alertRef": "10038-1",
                "name": "Content Security Policy (CSP) Header Not Set",
                "risk": "Medium",
                "url": "https://api.example.test/",
            }
        ]
    }
    assert parse(report)[2].id == parse(api)[0].id


def test_corpus_full_scan_has_8_alerts(webauthn_corpus):
    path = webauthn_corpus / "zap-full-scan-webauthn-server" / "report_json.json"
    findings = parse(json.loads(path.read_text(encoding="utf-8")), str(path))
    assert len(findings) == 8
    assert len({f.id for f in findings}) == 8
    assert [f.rule_id for f in findings] == [
        "40040-2",
        "90004-1",
        "10021",
        "90005-3",
        "90005-2",
        "90005-1",
        "90005-4",
        "10049-3",
    ]
    assert [len(f.web.instances) for f in findings] == [4, 2, 2, 4, 4, 4, 4, 4]
    assert [f.severity for f in findings] == [Severity.MEDIUM, Severity.LOW, Severity.LOW] + [
        Severity.INFO
    ] * 5
    cors = findings[0]
    assert cors.rule_name == "CORS Misconfiguration"
    assert cors.cwe_ids == ["CWE-942"]
    assert cors.original_severity == "Medium (High)"
    assert cors.web.instances[0] == WebInstance(
        url="http://localhost:8080", method="GET", attack="origin: http://1OJKbeTK.com"
    )
    assert cors.tool_version == "2.16.1"


def test_corpus_baseline_scan_has_1_alert(webauthn_corpus):
    path = (
        webauthn_corpus / "zap-baseline-scan-webauthn-test-credentials-service" / "report_json.json"
    )
    (finding,) = parse(json.loads(path.read_text(encoding="utf-8")), str(path))
    assert finding.rule_id == "10049-3"
    assert finding.rule_name == "Storable and Cacheable Content"
    assert finding.severity is Severity.INFO
    assert finding.cwe_ids == ["CWE-524"]
    assert finding.web.url == "http://localhost:8081"
    assert len(finding.web.instances) == 1
    assert finding.help_uri == "https://datatracker.ietf.org/doc/html/rfc7234"


def test_html_and_markdown_reports_are_not_claimed(webauthn_corpus):
    for folder in (
        "zap-full-scan-webauthn-server",
        "zap-baseline-scan-webauthn-test-credentials-service",
    ):
        for name in ("report_html.html", "report_md.md"):
            text = (webauthn_corpus / folder / name).read_text(encoding="utf-8")
            assert not FORMAT.matches(text)


def test_one_alert_at_two_confidence_levels_keeps_two_ids_in_both_shapes():
    def alert(confidence_code):
        return {
            "pluginid": "10054",
            "alertRef": "10054-1",
            "name": "Cookie without SameSite Attribute",
            "riskcode": "1",
            "confidence": confidence_code,
            "instances": [{"uri": "http://app.test/", "method": "GET", "param": "sid"}],
        }

    report = {
        "@version": "2.16.1",
        "site": [{"@name": "http://app.test", "alerts": [alert("2"), alert("3")]}],
    }
    api = [
        {
            "pluginId": "10054",
            "alertRef": "10054-1",
            "name": "Cookie without SameSite Attribute",
            "risk": "Low",
            "confidence": confidence,
            "url": "http://app.test/",
            "method": "GET",
            "param": "sid",
        }
        for confidence in ("Medium", "High")
    ]
    from_report, from_api = parse(report), parse(api)
    assert len({f.id for f in from_report}) == 2
    assert [f.id for f in from_report] == [f.id for f in from_api]


# Failed before: the legacy layout was "in no known format".
def test_legacy_report_layout_reads_like_the_traditional_report(load):
    xss, header = parse(load("zap-legacy.json"))
    assert xss.id == fingerprint("zap", "40012", web=WebTarget(url="https://shop.example.test"))
    assert (xss.rule_id, xss.rule_name, xss.tool_version) == (
        "40012",
        "Cross Site Scripting (Reflected)",
        "2.7.0",
    )
    assert (xss.severity, xss.original_severity) == (Severity.HIGH, "High (Medium)")
    assert xss.cwe_ids == ["CWE-79"] and "WASC-8" in xss.tags and "confidence:Medium" in xss.tags
    assert [(i.url, i.method, i.parameter) for i in xss.web.instances] == [
        ("https://shop.example.test/search?q=x", "GET", "q"),
        ("https://shop.example.test/feedback", "POST", "comment"),
    ]
    assert xss.web.evidence == "<script>alert(1);</script>"
    assert xss.rule_help == "Encode output."
    # One inline instance in the alert itself (the oldest reports).
    assert header.severity is Severity.LOW
    assert header.web.instances == [
        WebInstance(url="https://shop.example.test/", parameter="X-Content-Type-Options")
    ]


def test_legacy_report_with_one_alert_object_and_site_list(load):
    doc = load("zap-legacy.json")
    alerts = doc["Report"]["Sites"]["Alerts"]["AlertItem"]
    doc["Report"]["Sites"]["Alerts"]["AlertItem"] = alerts[0]
    doc["Report"]["Sites"] = [doc["Report"]["Sites"]]
    (xss,) = parse(doc)
    assert xss.rule_id == "40012" and len(xss.web.instances) == 2


def test_legacy_layout_in_the_registry_is_detected_as_zap(load):
    from vulntune.findings.native.registry import FORMATS

    doc = load("zap-legacy.json")
    assert [f.name for f in FORMATS if f.matches(doc)] == ["zap-json"]
