"""SARIF 2.1.0 from many producers -> Finding, one fixture per quirk."""

from __future__ import annotations

import json

import pytest

from vulntune.findings.formats import FindingsInputError
from vulntune.findings.parse import parse_document, parse_file
from vulntune.findings.record import (
    FindingKind,
    Fix,
    FixChange,
    Location,
    Origin,
    Package,
    Severity,
    fingerprint,
)


def findings(sarif_fixture, name):
    return list(parse_file(sarif_fixture(name), name))


def test_codeql_rules_in_extensions_related_locations_and_code_flows(sarif_fixture):
    sqli, xss = findings(sarif_fixture, "codeql.sarif")
    assert (sqli.tool, sqli.tool_full_name, sqli.tool_version) == ("codeql", "CodeQL", "2.19.3")
    assert sqli.rule_id == sqli.rule_name == "js/sql-injection"
    assert sqli.rule_description.startswith("Building a database query from user-controlled")
    assert sqli.rule_help.startswith("# Database query built from user-controlled sources")
    # security-severity wins over the level; the related-location link keeps its text.
    assert (sqli.severity, sqli.original_severity) == (Severity.HIGH, "8.8")
    assert sqli.message == "This query string depends on a user-provided value."
    assert sqli.cwe_ids == ["CWE-89", "CWE-90", "CWE-943"]
    assert sqli.kind is FindingKind.CODE
    # %SRCROOT% resolves to the runner checkout, which is stripped again.
    assert sqli.location == Location("src/db/users.js", 42, 20, 42, 61)
    assert sqli.related_locations == [
        Location("src/routes/search.js", 12, 17, 12, 32, "user-provided value")
    ]
    assert sqli.code_flows == [
        [
            Location("src/routes/search.js", 12, 17, 12, 32, "req.query.name"),
            Location("src/routes/search.js", 13, 9, 13, 13, "name"),  # via artifacts[0]
            Location(
                "src/db/users.js",
                42,
                20,
                42,
                61,
                '"SELECT * FROM users WHERE name = \'" + name + "\'"',
            ),
        ]
    ]
    # Our id, not partialFingerprints.
    assert sqli.id == fingerprint("codeql", "js/sql-injection", Location("src/db/users.js", 42, 20))
    assert sqli.origin == Origin("codeql.sarif", "sarif", 0, 0)
    # Message id resolved through the extension rule's messageStrings, {0} filled in.
    assert xss.message == "Cross-site scripting vulnerability due to a user-provided value."
    assert (xss.severity, xss.cwe_ids) == (Severity.MEDIUM, ["CWE-79", "CWE-116"])
    assert xss.location == Location("src/routes/search.js", 20, 14, 21, 3)
    assert xss.origin.index == 1


def test_bandit_keeps_its_own_severity_and_percent_decoded_paths(sarif_fixture):
    shell, password = findings(sarif_fixture, "bandit.sarif")
    assert (shell.tool, shell.rule_id, shell.rule_name) == (
        "bandit",
        "B602",
        "subprocess_popen_with_shell_equals_true",
    )
    assert (shell.severity, shell.original_severity) == (Severity.HIGH, "HIGH")
    assert shell.location == Location("app/run jobs.py", 17, 5, 17, 44)
    assert shell.snippet == "    subprocess.Popen(cmd, shell=True)\n"
    assert shell.cwe_ids == ["CWE-78"]
    assert shell.tags == ["security", "external/cwe/cwe-78", "bandit", "B602", "CWE-78"]
    # No result level (Bandit leaves out "warning"): issue_severity decides.
    assert (password.severity, password.original_severity) == (Severity.LOW, "LOW")
    assert password.cwe_ids == ["CWE-259"]


def test_devskim_severity_and_a_fix_given_as_a_character_offset(sarif_fixture):
    (weak_hash,) = findings(sarif_fixture, "devskim.sarif")
    assert (weak_hash.tool, weak_hash.tool_version) == ("devskim", "1.0.52+a1b2c3d4")
    assert (weak_hash.severity, weak_hash.original_severity) == (Severity.HIGH, "Important")
    assert weak_hash.snippet == "MD5"
    assert weak_hash.fix == Fix(
        description="A weak or broken hash algorithm was detected.",
        changes=[FixChange("src/Crypto/Hasher.cs", "SHA256", 27, 24, 27, 27)],
    )


def test_gitleaks_finding_is_a_secret(sarif_fixture):
    (leak,) = findings(sarif_fixture, "gitleaks.sarif")
    assert (leak.tool, leak.rule_id, leak.kind) == (
        "gitleaks",
        "aws-access-token",
        FindingKind.SECRET,
    )
    assert leak.tool_version == "v8.0.0"
    assert leak.rule_description.startswith("Identified a pattern that may indicate AWS")
    assert (leak.severity, leak.original_severity) == (Severity.MEDIUM, "warning")
    assert leak.location == Location("deploy/config.env", 3, 19, 3, 38)
    assert leak.snippet == "REDACTED"


def test_a_fix_in_fixes(sarif_fixture):
    (finding,) = findings(sarif_fixture, "fix.sarif")
    assert finding.fix == Fix(
        description="Enable certificate validation",
        changes=[FixChange("client/http.py", "verify=True", 10, 30, 10, 42)],
    )
    assert finding.cwe_ids == ["CWE-295"]
    # Semgrep writes no result level: the rule's default level applies.
    assert (finding.severity, finding.original_severity) == (Severity.HIGH, "error")


def test_message_ids_arguments_and_fallbacks(sarif_fixture):
    messages = [f.message for f in findings(sarif_fixture, "message_ids.sarif")]
    assert messages == [
        "Variable 'conn' may be null when it is dereferenced at line 88. Use {braces} literally.",
        "Variable `buf` is **null**.",  # markdown when the string has no text
        "Problem in main (see docs).",  # the driver's globalMessageStrings
        "The return value of a call that can fail is ignored.",  # unknown id: rule description
        "Text wins over {0}: no arguments, so braces stay.",
    ]


def test_several_runs_keep_their_tools_and_count_across_runs(sarif_fixture):
    eval_call, root_user, api_root_user = findings(sarif_fixture, "multi_run.sarif")
    assert [
        (f.tool, f.origin.index, f.origin.run_index) for f in (eval_call, root_user, api_root_user)
    ] == [
        ("semgrep", 0, 0),
        ("trivy", 1, 1),
        ("trivy", 2, 1),
    ]
    assert eval_call.cwe_ids == ["CWE-95"]
    # Trivy's own severity word (message text) is kept, not the security-severity score.
    assert (root_user.severity, root_user.original_severity) == (Severity.HIGH, "HIGH")
    assert root_user.kind is FindingKind.CONFIG
    assert root_user.location.path == "Dockerfile"
    assert api_root_user.location.path == "services/api/Dockerfile"


def test_trivy_packages_come_from_the_message_text(sarif_fixture):
    lodash, secret = findings(sarif_fixture, "trivy_fs.sarif")
    assert lodash.kind is FindingKind.DEPENDENCY
    assert lodash.package == Package(
        name="lodash", installed_version="4.17.20", fixed_versions=["4.17.21"]
    )
    assert lodash.vulnerability_ids == ["GHSA-35jh-r3h4-6jhm"]
    assert lodash.location == Location(
        "web/package-lock.json", 812, 1, 816, 1, "web/package-lock.json: lodash@4.17.20"
    )
    assert (secret.kind, secret.severity, secret.original_severity) == (
        FindingKind.SECRET,
        Severity.CRITICAL,
        "CRITICAL",
    )
    assert secret.package is None


def test_suppressed_results_are_marked_not_dropped(sarif_fixture):
    marks = [
        (f.message, f.suppressed, f.suppression)
        for f in findings(sarif_fixture, "suppressed.sarif")
    ]
    assert marks == [
        ("accepted in source", True, "inSource: test fixture only"),
        ("external, accepted explicitly", True, "external"),
        ("suppression under review", False, None),
        ("suppression rejected", False, None),
        ("not suppressed", False, None),
    ]


def test_windows_paths(sarif_fixture):
    paths = [f.location.path for f in findings(sarif_fixture, "windows_paths.sarif")]
    assert paths == [
        "src/Web/Controllers/HomeController.cs",
        "src/Web/Program.cs",  # D:\a\<repo>\<repo>\ is the GitHub Windows runner checkout
        "C:/Users/dev/shop/src/Api.cs",  # other absolute paths stay absolute
        "C:/work/shop/lib/Util.cs",
    ]


def test_percent_encoded_uris(sarif_fixture):
    paths = [f.location.path for f in findings(sarif_fixture, "percent_encoded.sarif")]
    assert paths == ["tests/my tests/test_app.py", "src/café.py", "docs/100% done#v2.py"]


def test_ci_checkout_prefixes_and_uri_bases(sarif_fixture):
    paths = [f.location.path for f in findings(sarif_fixture, "ci_prefixes.sarif")]
    assert paths == [
        "app/main.py",
        "app/main.py",
        "app/main.py",
        "app/main.py",
        "app/main.py",
        "services/api/handler.py",
        "/opt/shop/app/main.py",
        "app/main.py",
    ]


def test_tool_and_uri_bases_after_the_results(sarif_fixture):
    (finding,) = findings(sarif_fixture, "tool_after_results.sarif")
    assert (finding.tool, finding.rule_id, finding.severity) == (
        "codeql",
        "go/sql-injection",
        Severity.HIGH,
    )
    assert finding.cwe_ids == ["CWE-89"]
    assert finding.location == Location("internal/store/query.go", 31, 7, 31, None)


@pytest.mark.parametrize("name", ["utf8_bom.sarif", "utf16le_bom.sarif", "utf16be_bom.sarif"])
def test_byte_order_marks(sarif_fixture, name):
    (finding,) = findings(sarif_fixture, name)
    assert finding.message == "Détecté: données non fiables écrites dans la réponse — ☃ 💎"
    assert finding.location == Location("src/ünïcode/route.js", 7, 3, 7, 30)
    assert finding.snippet == "res.write(req.query.q) // ✓"
    assert finding.cwe_ids == ["CWE-79"]


def test_empty_missing_null_and_lone_results(sarif_fixture):
    assert findings(sarif_fixture, "empty_results.sarif") == []
    # No results, results null, and a single result object where the array should be.
    (lone,) = findings(sarif_fixture, "results_missing_or_null.sarif")
    assert (lone.rule_id, lone.origin.run_index, lone.origin.index) == ("CKV_DOCKER_2", 2, 0)
    assert (lone.kind, lone.location) == (
        FindingKind.CONFIG,
        Location("Dockerfile", 1, None, 9, None),
    )


def test_results_that_are_not_results_are_one_clear_error(sarif_fixture):
    with pytest.raises(FindingsInputError) as info:
        findings(sarif_fixture, "results_not_a_list.sarif")
    assert str(info.value) == (
        "results_not_a_list.sarif: runs[0].results must be a JSON array of results, found a string"
    )


def test_no_tool_object(sarif_fixture):
    weak, advisory, bare = findings(sarif_fixture, "no_tool.sarif")
    assert {f.tool for f in (weak, advisory, bare)} == {"unknown"}
    assert (weak.rule_id, weak.location) == (
        "py/weak-crypto",
        Location("crypto/aes.py", 8, None, 8, None),
    )
    assert (advisory.kind, advisory.vulnerability_ids) == (
        FindingKind.DEPENDENCY,
        ["CVE-2023-0001"],
    )
    assert advisory.location is None
    assert (bare.rule_id, bare.message, bare.severity) == (
        "unknown",
        "A result without rule id or location.",
        Severity.MEDIUM,
    )


def test_sarif_1_is_refused(sarif_fixture):
    with pytest.raises(FindingsInputError) as info:
        findings(sarif_fixture, "sarif_v1.sarif")
    assert info.value.problem == "SARIF version 1.0.0 is not supported; only SARIF 2.1.0 is read"


def test_a_decoded_document_gives_the_same_findings_as_the_file(sarif_fixture):
    for name in ("codeql.sarif", "multi_run.sarif", "results_missing_or_null.sarif"):
        doc = json.loads(sarif_fixture(name).read_text(encoding="utf-8"))
        assert list(parse_document(doc, name)) == findings(sarif_fixture, name)


def test_results_that_share_an_id_are_told_apart_by_their_end(tmp_path):
    result = {
        "ruleId": "r",
        "message": {"text": "m"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "a.py"},
                    "region": {"startLine": 3, "startColumn": 1, "endLine": 4},
                }
            }
        ],
    }
    longer = json.loads(json.dumps(result))
    longer["locations"][0]["physicalLocation"]["region"]["endLine"] = 9
    doc = {
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x"}}, "results": [result, longer, result]}],
    }
    path = tmp_path / "dup.sarif"
    path.write_text(json.dumps(doc))
    first, second, third = parse_file(path)
    base = fingerprint("x", "r", Location("a.py", 3, 1))
    assert first.id == third.id == fingerprint("x", base, extra="end=4:")
    assert second.id == fingerprint("x", base, extra="end=9:")


def test_a_result_reported_twice_keeps_the_id_it_has_when_reported_once(tmp_path):
    result = {
        "ruleId": "r",
        "message": {"text": "m"},
        "locations": [
            {"physicalLocation": {"artifactLocation": {"uri": "a.py"}, "region": {"startLine": 3}}}
        ],
    }
    doc = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [result]}]}
    once = tmp_path / "once.sarif"
    once.write_text(json.dumps(doc))
    doc["runs"].append(doc["runs"][0])
    twice = tmp_path / "twice.sarif"
    twice.write_text(json.dumps(doc))
    (single,) = parse_file(once)
    assert [f.id for f in parse_file(twice)] == [single.id, single.id]
    assert single.id == fingerprint("x", "r", Location("a.py", 3))


def test_a_result_score_is_not_taken_from_another_result_of_the_rule(tmp_path):
    def result(line, props):
        return {
            "ruleId": "r",
            "level": "note",
            "message": {"text": "m"},
            "properties": props,
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "a.py"},
                        "region": {"startLine": line},
                    }
                }
            ],
        }

    doc = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "x",
                        "rules": [{"id": "r", "properties": {"security-severity": "5.0"}}],
                    }
                },
                "results": [
                    result(1, {}),
                    result(2, {"security-severity": "9.1"}),
                    result(3, {"level": ["not", "hashable"]}),
                    result(4, {}),
                ],
            }
        ],
    }
    path = tmp_path / "scores.sarif"
    path.write_text(json.dumps(doc))
    assert [(f.severity, f.original_severity) for f in parse_file(path)] == [
        (Severity.MEDIUM, "5.0"),
        (Severity.CRITICAL, "9.1"),
        (Severity.MEDIUM, "5.0"),
        (Severity.MEDIUM, "5.0"),
    ]


def test_cwe_ids_of_a_result_are_not_taken_from_another_result_with_the_same_tags(tmp_path):
    # The CWE ids read from a result's tags are remembered per run. A "cwe" property that is a
    # list was remembered under the key of results without one: the next result with the
    # same tags got its CWE ids.
    def result(line, props):
        return {
            "ruleId": "r",
            "message": {"text": "m"},
            "properties": {"tags": ["security"], **props},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "a.py"},
                        "region": {"startLine": line},
                    }
                }
            ],
        }

    results = [result(1, {"cwe": ["CWE-89"]}), result(2, {}), result(3, {"cwe": "CWE-79"})]
    doc = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": results}]}
    path = tmp_path / "cwes.sarif"
    path.write_text(json.dumps(doc))
    for found in (list(parse_file(path)), list(parse_document(doc, "cwes.sarif"))):
        assert [f.cwe_ids for f in found] == [["CWE-89"], [], ["CWE-79"]]


def test_odd_value_types_in_results_do_not_crash(tmp_path):
    doc = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": ["x"], "rules": "none"}, "extensions": {"a": 1}},
                "originalUriBaseIds": [],
                "results": [
                    {
                        "ruleId": 5,
                        "ruleIndex": True,
                        "rule": {"toolComponent": {"index": "0"}},
                        "level": {"x": 1},
                        "kind": ["fail"],
                        "message": {"id": ["m"], "arguments": [{"a": 1}]},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": 7, "uriBaseId": {}},
                                    "region": {"startLine": "3"},
                                }
                            }
                        ],
                        "relatedLocations": {"no": "list"},
                        "codeFlows": [{"threadFlows": [{"locations": [None, {"location": 4}]}]}],
                        "fixes": [
                            {"artifactChanges": [{"replacements": [{"deletedRegion": None}]}]}
                        ],
                        "suppressions": [None, "x"],
                        "properties": {"tags": "single-tag", "security-severity": [1]},
                        "taxa": [{"id": 79, "toolComponent": {"name": "CWE"}}],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "odd.sarif"
    path.write_text(json.dumps(doc))
    (finding,) = parse_file(path)
    assert (finding.tool, finding.rule_id, finding.severity) == (
        "unknown",
        "unknown",
        Severity.MEDIUM,
    )
    assert (finding.tags, finding.cwe_ids, finding.suppressed) == (
        ["single-tag"],
        ["CWE-79"],
        False,
    )
    assert finding.fix == Fix(changes=[FixChange(path=None, inserted_text="")])
