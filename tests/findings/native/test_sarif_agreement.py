"""The SARIF and the native JSON of one scan give the same finding ids (so ingest de-duplicates
them), read through the real entry point, :func:`vulntune.findings.parse.parse_file`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vulntune.findings.formats import FindingsInputError
from vulntune.findings.parse import detect_format, parse_document, parse_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "native"


def test_semgrep_sarif_and_json_of_one_scan_have_the_same_107_ids(webauthn_corpus):
    folder = webauthn_corpus / "semgrep-results-workflow_dispatch-392"
    assert detect_format(folder / "semgrep-results.json") == "semgrep-json"
    from_sarif = list(parse_file(folder / "semgrep.sarif"))
    from_json = list(parse_file(folder / "semgrep-results.json"))
    sarif_ids = [f.id for f in from_sarif]
    json_ids = [f.id for f in from_json]
    assert len(sarif_ids) == len(set(sarif_ids)) == 107
    assert len(json_ids) == len(set(json_ids)) == 107
    assert set(sarif_ids) == set(json_ids)
    # The same finding reads the same in both: rule, place and severity.
    by_id = {f.id: f for f in from_sarif}
    for finding in from_json:
        twin = by_id[finding.id]
        assert (twin.rule_id, twin.location, twin.severity, twin.cwe_ids) == (
            finding.rule_id,
            finding.location,
            finding.severity,
            finding.cwe_ids,
        )


def test_trivy_sarif_and_json_of_one_filesystem_scan_have_the_same_ids():
    # trivy-same-scan.sarif is what Trivy's SARIF writer makes of the two filesystem JSON
    # fixtures: line 1 where Trivy knows none, column 1 always, no image in the run.
    native = [
        finding
        for name in ("trivy-config.json", "trivy-secret.json")
        for finding in parse_file(FIXTURES / name)
    ]
    sarif = list(parse_file(FIXTURES / "trivy-same-scan.sarif"))
    assert len(native) == len(sarif) == 6
    assert [f.id for f in native] == [f.id for f in sarif]
    assert [f.rule_id for f in native] == [f.rule_id for f in sarif]


def test_trivy_sarif_and_json_of_one_image_scan_have_the_same_ids():
    # trivy-image.sarif is what Trivy's SARIF writer makes of trivy-image.json (ArtifactType
    # container_image): image packages at the image repository, and the scanned image in
    # runs[0].properties.imageName, which scopes the ids as ArtifactName does.
    native = list(parse_file(FIXTURES / "trivy-image.json"))
    sarif = list(parse_file(FIXTURES / "trivy-image.sarif"))
    assert len(native) == len(sarif) == 3
    assert [f.id for f in native] == [f.id for f in sarif]
    assert [f.rule_id for f in native] == [f.rule_id for f in sarif]
    assert [f.package.name for f in native] == [f.package.name for f in sarif]
    assert [f.location.path for f in native] == [f.location.path for f in sarif]
    for finding in (*native, *sarif):
        assert finding.tags[-1] == "image:ghcr.io/example/webapp:1.4.2"
    # The same scan read as a filesystem scan (no image) gives other ids: the image counts.
    unscoped = json.loads((FIXTURES / "trivy-image.json").read_text(encoding="utf-8"))
    unscoped["ArtifactType"] = "filesystem"
    assert not {f.id for f in parse_document(unscoped, "fs.json")} & {f.id for f in native}


def test_html_and_markdown_zap_reports_get_one_clear_error(webauthn_corpus):
    for name in ("report_html.html", "report_md.md"):
        path = webauthn_corpus / "zap-full-scan-webauthn-server" / name
        with pytest.raises(FindingsInputError) as info:
            list(parse_file(path))
        assert str(info.value).startswith(f"{path}: not a JSON document")


def test_gitleaks_sarif_and_json_of_one_scan_agree():
    native = list(parse_file(FIXTURES / "gitleaks.json"))
    sarif = list(parse_file(FIXTURES / "gitleaks-same-scan.sarif"))
    assert [f.id for f in native] == [f.id for f in sarif]
    assert [f.severity for f in native] == [f.severity for f in sarif]
    assert [f.location for f in native] == [f.location for f in sarif]
