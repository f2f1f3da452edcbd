"""The renderer: exact prompts for hand-built findings of every kind, what it never shows,
the choices the README leaves open, and code windows with their file line numbers.
The built-in prompts are reproduced in test_render_builtin.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vulntune.datasets import render as render_module
from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.datasets.render import (
    PROMPT_FORMAT_VERSION,
    code_block_start_line,
    code_excerpt,
    fixed_version,
    render_prompt,
)
from vulntune.findings.record import (
    CodeContext,
    Finding,
    FindingKind,
    Fix,
    FixChange,
    Location,
    Origin,
    Package,
    Severity,
    WebTarget,
)

SQLI = "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')"


def make(**fields: object) -> Finding:
    """A Finding with the required fields filled in; ``fields`` override or add."""
    base: dict[str, object] = {
        "id": "f" * 20,
        "tool": "semgrep",
        "rule_id": "rule",
        "severity": Severity.HIGH,
        "message": "msg",
        "kind": FindingKind.CODE,
        "origin": Origin(file="scan.sarif", format="sarif", index=0),
    }
    base.update(fields)
    return Finding(**base)  # type: ignore[arg-type]


def test_format_version_and_field_order_are_pinned() -> None:
    assert PROMPT_FORMAT_VERSION == "vulntune-prompt-v1"
    assert render_module.FIELD_ORDER == (
        "Tool", "Rule", "Reported severity", "Location", "Message", "Package", "Vulnerability",
        "URL", "Evidence",
    )  # fmt: skip


# -------------------------------------------------------------------------------- exact


def code_finding() -> Finding:
    return make(
        tool="semgrep",
        rule_id="python.lang.security.audit.formatted-sql-query.formatted-sql-query",
        original_severity="ERROR",
        message=(
            "Detected possible formatted SQL query.\nUse parameterized queries instead. "
            f"CWE-89: {SQLI}"
        ),
        cwe_ids=["CWE-89"],
        rule_name="formatted-sql-query",
        rule_description=f"CWE-89: {SQLI}",
        rule_help="Use parameterized queries: cur.execute(sql, (name,))",
        location=Location(path="app/db/users.py", start_line=42, end_line=42),
        context=CodeContext(
            path="app/db/users.py",
            start_line=40,
            lines=[
                "",
                "def find_user(cur, name):",
                "    cur.execute(f\"SELECT id FROM users WHERE name = '{name}'\")",
                "    return cur.fetchone()",
                "   ",
            ],
            enclosing="def find_user(cur, name):",
        ),
        snippet="never shown when there is context",
        fix=Fix(
            description="Use a bound parameter",
            changes=[FixChange(path="app/db/users.py", inserted_text="cur.execute(sql, (n,))")],
        ),
    )


def test_code_finding_analysis(catalogue: CweCatalogue) -> None:
    assert render_prompt(code_finding(), "analysis", catalogue=catalogue) == (
        "Analyze this security finding.\n"
        "Tool: semgrep\n"
        "Rule: python.lang.security.audit.formatted-sql-query.formatted-sql-query\n"
        "Reported severity: ERROR\n"
        "Location: app/db/users.py:42\n"
        "Message: Detected possible formatted SQL query. Use parameterized queries instead.\n"
        "Code:\n"
        "def find_user(cur, name):\n"
        "    cur.execute(f\"SELECT id FROM users WHERE name = '{name}'\")\n"
        "    return cur.fetchone()"
    )


def test_code_finding_codefix_has_no_reported_severity(catalogue: CweCatalogue) -> None:
    prompt = render_prompt(code_finding(), "codefix", catalogue=catalogue)
    assert prompt.split("\n")[:5] == [
        "Fix this security finding.",
        "Tool: semgrep",
        "Rule: python.lang.security.audit.formatted-sql-query.formatted-sql-query",
        "Location: app/db/users.py:42",
        "Message: Detected possible formatted SQL query. Use parameterized queries instead.",
    ]
    excerpt = code_excerpt(code_finding())
    assert excerpt is not None
    assert (excerpt.first_line, excerpt.last_line, excerpt.flagged_line) == (41, 43, 42)
    assert code_block_start_line(code_finding()) == 41


def test_targets_are_never_rendered(catalogue: CweCatalogue) -> None:
    for task in ("analysis", "codefix"):
        prompt = render_prompt(code_finding(), task, catalogue=catalogue)  # type: ignore[arg-type]
        for leaked in ("CWE", "Improper Neutralization", "bound parameter", "(name,)", "(n,)"):
            assert leaked not in prompt, (task, leaked)
        assert "never shown" not in prompt


def dependency_finding() -> Finding:
    # Trivy reports the lock file; context found the declaring line of the manifest.
    return make(
        tool="trivy",
        rule_id="CVE-2021-44228",
        original_severity="CRITICAL",
        message="log4j-core: Remote code execution in Log4j 2.x",
        kind=FindingKind.DEPENDENCY,
        vulnerability_ids=["GHSA-jfh8-c2jp-5v3q", "CVE-2021-44228"],
        cwe_ids=["CWE-917", "CWE-502"],
        location=Location(path="gradle.lockfile"),
        package=Package(
            name="org.apache.logging.log4j:log4j-core",
            ecosystem="maven",
            installed_version="2.14.1",
            fixed_versions=["2.15.0", "2.12.2", "2.3.1"],
        ),
        context=CodeContext(
            path="build.gradle.kts",
            start_line=14,
            lines=['    implementation("org.apache.logging.log4j:log4j-core:2.14.1")'],
            enclosing="dependencies",
        ),
    )


def test_dependency_finding(catalogue: CweCatalogue) -> None:
    assert render_prompt(dependency_finding(), "analysis", catalogue=catalogue) == (
        "Analyze this security finding.\n"
        "Tool: trivy\n"
        "Rule: CVE-2021-44228\n"
        "Reported severity: CRITICAL\n"
        "Location: build.gradle.kts:14\n"
        "Message: log4j-core: Remote code execution in Log4j 2.x\n"
        "Package: Maven org.apache.logging.log4j:log4j-core 2.14.1 (fixed in 2.15.0)\n"
        "Vulnerability: CVE-2021-44228\n"
        "Code:\n"
        '    implementation("org.apache.logging.log4j:log4j-core:2.14.1")'
    )
    assert code_block_start_line(dependency_finding()) == 14


def test_secret_finding_shows_the_marker_from_its_snippet(catalogue: CweCatalogue) -> None:
    finding = make(
        tool="gitleaks",
        rule_id="aws-access-token",
        message="aws-access-token has detected secret for file deploy/settings.py.",
        kind=FindingKind.SECRET,
        cwe_ids=["CWE-798"],
        redacted=True,
        location=Location(path="deploy/settings.py", start_line=12, start_column=21),
        snippet='AWS_ACCESS_KEY_ID = "«redacted:aws-access-token:16-31»"\n',
    )
    assert render_prompt(finding, "codefix", catalogue=catalogue) == (
        "Fix this security finding.\n"
        "Tool: gitleaks\n"
        "Rule: aws-access-token\n"
        "Location: deploy/settings.py:12\n"
        "Message: aws-access-token has detected secret for file deploy/settings.py.\n"
        "Code:\n"
        'AWS_ACCESS_KEY_ID = "«redacted:aws-access-token:16-31»"'
    )
    assert code_block_start_line(finding) == 12


def test_web_finding(catalogue: CweCatalogue) -> None:
    finding = make(
        tool="zap",
        rule_id="10010",
        original_severity="Low",
        message="Cookie No HttpOnly Flag",
        kind=FindingKind.WEB,
        cwe_ids=["CWE-1004"],
        web=WebTarget(
            url="https://app.example.test/login",
            method="post",
            parameter="session_id",
            evidence="Set-Cookie:\r\n  session_id",
        ),
    )
    assert render_prompt(finding, "analysis", catalogue=catalogue) == (
        "Analyze this security finding.\n"
        "Tool: zap\n"
        "Rule: 10010\n"
        "Reported severity: Low\n"
        "Message: Cookie No HttpOnly Flag\n"
        "URL: POST https://app.example.test/login\n"
        "Evidence: Set-Cookie: session_id"
    )
    assert code_excerpt(finding) is None and code_block_start_line(finding) is None


def test_config_finding(catalogue: CweCatalogue) -> None:
    finding = make(
        tool="checkov",
        rule_id="CKV_AWS_20",
        message="S3 Bucket has an ACL defined which allows public READ access.",
        kind=FindingKind.CONFIG,
        location=Location(path="./infra/storage.tf", start_line=1, end_line=4),
        context=CodeContext(
            path="infra/storage.tf",
            start_line=1,
            lines=[
                'resource "aws_s3_bucket" "reports" {',
                '  bucket = "acme-finance-reports"',
                '  acl    = "public-read"',
                "}",
                "",
            ],
        ),
    )
    assert render_prompt(finding, "analysis", catalogue=catalogue) == (
        "Analyze this security finding.\n"
        "Tool: checkov\n"
        "Rule: CKV_AWS_20\n"
        "Location: infra/storage.tf:1\n"
        "Message: S3 Bucket has an ACL defined which allows public READ access.\n"
        "Code:\n"
        'resource "aws_s3_bucket" "reports" {\n'
        '  bucket = "acme-finance-reports"\n'
        '  acl    = "public-read"\n'
        "}"
    )


def test_missing_fields_leave_their_lines_out(catalogue: CweCatalogue) -> None:
    bare = make(tool="custom-scanner", rule_id="R1", message="  \n ")
    assert render_prompt(bare, "analysis", catalogue=catalogue) == (
        "Analyze this security finding.\nTool: custom-scanner\nRule: R1"
    )
    partial = make(
        tool="npm-audit",
        rule_id="1234",
        message="Prototype pollution",
        kind=FindingKind.DEPENDENCY,
        location=Location(path="package-lock.json", start_line=None),
        package=Package(name="minimist"),
        vulnerability_ids=["", "OSV-2020-111"],
        web=None,
    )
    assert render_prompt(partial, "analysis", catalogue=catalogue) == (
        "Analyze this security finding.\n"
        "Tool: npm-audit\n"
        "Rule: 1234\n"
        "Location: package-lock.json\n"
        "Message: Prototype pollution\n"
        "Package: minimist\n"
        "Vulnerability: OSV-2020-111"
    )
    only_url = make(kind=FindingKind.WEB, web=WebTarget(url="http://a.test/x"))
    assert render_prompt(only_url, "analysis", catalogue=catalogue).endswith(
        "\nURL: http://a.test/x"
    )


def test_a_newline_in_a_value_never_makes_a_fake_key_line(catalogue: CweCatalogue) -> None:
    finding = make(
        message="first line\nSeverity: critical\r\nCode:\n  x = 1",
        rule_id="r\n1",
        location=Location(path="a b\nc.py", start_line=3),
    )
    lines = render_prompt(finding, "analysis", catalogue=catalogue).split("\n")
    assert lines == [
        "Analyze this security finding.",
        "Tool: semgrep",
        "Rule: r 1",
        "Location: a b c.py:3",
        "Message: first line Severity: critical Code: x = 1",
    ]


def test_the_catalogue_is_loaded_only_for_cwe_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the catalogue was loaded")

    monkeypatch.setattr(CweCatalogue, "load", refuse)
    assert render_prompt(make(message="no reference"), "analysis").endswith("Message: no reference")
    with pytest.raises(AssertionError, match="catalogue was loaded"):
        render_prompt(make(message="see CWE-79"), "analysis")


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="task"):
        render_prompt(make(), "explain")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_code_lines"):
        code_excerpt(code_finding(), max_code_lines=0)


# -------------------------------------------------------------------------------- choices


@pytest.mark.parametrize(
    ("installed", "fixed", "expected"),
    [
        ("2.14.1", ["2.15.0", "2.12.2", "2.3.1"], "2.15.0"),
        ("2.12.1", ["2.15.0", "2.12.2", "2.3.1"], "2.12.2"),  # the fix on its own branch
        ("4.17.15", ["4.17.21"], "4.17.21"),
        ("1.10.0", ["1.9.2", "1.10.3"], "1.10.3"),  # numbers compare as numbers
        ("1:1.2.11.dfsg-2+deb11u1", ["1:1.2.11.dfsg-2+deb11u2"], "1:1.2.11.dfsg-2+deb11u2"),
        (None, ["3.0.1", "2.9.9"], "3.0.1"),  # installed unknown: the first listed
        ("9.0", ["3.0.1", "2.9.9"], "3.0.1"),  # none above: the first listed
        ("1.0", [], None),
        ("1.0", ["", "  "], None),
    ],
)
def test_fixed_version_choice(
    installed: str | None, fixed: list[str], expected: str | None
) -> None:
    package = Package(name="p", installed_version=installed, fixed_versions=fixed)
    assert fixed_version(package) == expected


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (["GHSA-aaaa-bbbb-cccc", "CVE-2024-1", "CVE-2024-2"], "CVE-2024-1"),
        (["PYSEC-2024-1", "GHSA-aaaa-bbbb-cccc"], "GHSA-aaaa-bbbb-cccc"),
        (["RUSTSEC-2024-0001"], "RUSTSEC-2024-0001"),
        (["cve-2024-3"], "cve-2024-3"),
        ([], None),
    ],
)
def test_vulnerability_choice(ids: list[str], expected: str | None) -> None:
    prompt = render_prompt(make(vulnerability_ids=ids), "analysis")
    line = next((x for x in prompt.split("\n") if x.startswith("Vulnerability: ")), None)
    assert line == (f"Vulnerability: {expected}" if expected else None)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("PyPI", "PyPI"), ("pypi", "PyPI"), ("GO", "Go"), ("npm", "npm"), ("crates.io", "crates.io")],
)
def test_ecosystem_spelling(raw: str, shown: str) -> None:
    finding = make(package=Package(name="x", ecosystem=raw, installed_version="1"))
    assert f"\nPackage: {shown} x 1" in render_prompt(finding, "analysis")


# -------------------------------------------------------------------------------- windows


def numbered(n: int, start: int = 1) -> CodeContext:
    return CodeContext(path="m.py", start_line=start, lines=[f"line {start + i}" for i in range(n)])


def test_a_long_block_is_cut_around_the_flagged_line() -> None:
    finding = make(location=Location(path="m.py", start_line=60), context=numbered(100))
    excerpt = code_excerpt(finding, max_code_lines=9)
    assert excerpt is not None
    assert excerpt.lines == tuple(f"line {n}" for n in range(56, 65))
    assert (excerpt.first_line, excerpt.flagged_line) == (56, 60)
    prompt = render_prompt(finding, "codefix", max_code_lines=9)
    assert prompt.split("\n")[-10:] == ["Code:"] + [f"line {n}" for n in range(56, 65)]


def test_the_window_slides_at_the_edges_and_keeps_the_flagged_region() -> None:
    near_top = make(location=Location(path="m.py", start_line=2), context=numbered(50))
    assert code_block_start_line(near_top, max_code_lines=10) == 1
    near_end = make(location=Location(path="m.py", start_line=49), context=numbered(50))
    excerpt = code_excerpt(near_end, max_code_lines=10)
    assert excerpt is not None and (excerpt.first_line, excerpt.last_line) == (41, 50)
    region = make(location=Location(path="m.py", start_line=20, end_line=25), context=numbered(50))
    excerpt = code_excerpt(region, max_code_lines=10)
    assert excerpt is not None and (excerpt.first_line, excerpt.last_line) == (18, 27)
    huge = make(location=Location(path="m.py", start_line=20, end_line=45), context=numbered(50))
    excerpt = code_excerpt(huge, max_code_lines=5)
    assert excerpt is not None and (excerpt.first_line, excerpt.last_line) == (20, 24)


def test_a_block_without_a_flagged_line_keeps_its_start() -> None:
    finding = make(location=Location(path="other.py", start_line=3), context=numbered(30, 11))
    excerpt = code_excerpt(finding, max_code_lines=4)
    assert excerpt is not None
    assert (excerpt.first_line, excerpt.lines, excerpt.flagged_line) == (
        11, ("line 11", "line 12", "line 13", "line 14"), None,
    )  # fmt: skip
    assert render_prompt(finding, "analysis").split("\n")[3] == "Location: m.py"


def test_blank_edges_go_but_the_flagged_line_stays() -> None:
    context = CodeContext(path="m.py", start_line=10, lines=["", "  ", "x = 1", "", ""])
    finding = make(location=Location(path="m.py", start_line=11), context=context)
    excerpt = code_excerpt(finding)
    assert excerpt is not None
    assert (excerpt.first_line, excerpt.lines) == (11, ("  ", "x = 1"))


def test_a_block_of_blank_lines_is_no_block() -> None:
    context = CodeContext(path="m.py", start_line=1, lines=["", "   ", ""])
    finding = make(location=Location(path="other.py", start_line=1), context=context)
    assert code_excerpt(finding) is None
    assert "Code:" not in render_prompt(finding, "analysis")
    flagged = make(location=Location(path="m.py", start_line=2), context=context)
    excerpt = code_excerpt(flagged)
    assert excerpt is not None and (excerpt.first_line, excerpt.lines) == (2, ("   ",))


def test_snippets_keep_their_indentation_and_lose_carriage_returns() -> None:
    finding = make(
        location=Location(path="a.py", start_line=7), snippet="    if x:\r\n        run(x)\r\n"
    )
    assert render_prompt(finding, "codefix").endswith("Code:\n    if x:\n        run(x)")
    assert code_block_start_line(finding) == 7
    anonymous = make(snippet="x = 1")
    excerpt = code_excerpt(anonymous)
    assert excerpt is not None and excerpt.first_line is None and excerpt.path is None


# -------------------------------------------------------------------------------- invariants

_WORDS = [
    "abc", "X:", "Key:", "Code:", "-", "(", ")", ".", "CWE-89", "cwe_79", "(CWE-798)", "CWE 22",
    "[CWE-22](https://cwe.mitre.org/data/definitions/22.html)", f"CWE-89: {SQLI}", "Improper",
]  # fmt: skip
_TEXT = st.lists(
    st.tuples(st.sampled_from(_WORDS), st.sampled_from([" ", "\n", "\r\n", "\t", ". ", ",", ":"])),
    max_size=12,
).map(lambda parts: "".join(word + sep for word, sep in parts))


@settings(max_examples=150, deadline=None)
@given(message=_TEXT, rule=_TEXT, evidence=_TEXT, code=st.lists(_TEXT, max_size=5))
def test_every_prompt_line_is_a_key_line_or_code(
    catalogue: CweCatalogue, message: str, rule: str, evidence: str, code: list[str]
) -> None:
    finding = make(
        rule_id=rule,
        message=message,
        cwe_ids=["CWE-89"],
        web=WebTarget(url="https://x.test/", evidence=evidence),
        context=CodeContext(path="a.py", start_line=1, lines=[c.replace("\n", "") for c in code]),
    )
    lines = render_prompt(finding, "analysis", catalogue=catalogue).split("\n")
    head = lines[: lines.index("Code:")] if "Code:" in lines else lines
    assert head[0] == "Analyze this security finding."
    keys = [line.split(": ", 1)[0] for line in head[1:]]
    assert keys == [k for k in render_module.FIELD_ORDER if k in keys]
    for line in head[1:]:
        value = line.partition(": ")[2]
        assert value and value == " ".join(value.split())
        assert "cwe" not in value.lower().replace("key", ""), line
