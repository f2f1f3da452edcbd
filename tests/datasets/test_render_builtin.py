"""The built-in prompts reproduced from Findings: every example from a Finding rebuilt out
of its prompt (with the answer attached, to see it left out), a handful from realistic
hand-built Findings, and the built-in fixes written by make_diff."""

from __future__ import annotations

import pytest

from vulntune.datasets.builtin import load_builtin
from vulntune.datasets.completions import parse_codefix
from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.datasets.render import code_excerpt, render_prompt
from vulntune.datasets.unified_diff import apply_patch, make_diff, parse_diff
from vulntune.findings.record import (
    CodeContext,
    Finding,
    FindingKind,
    Fix,
    Location,
    Origin,
    Package,
    Severity,
    WebTarget,
)


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


# -------------------------------------------------------------------------------- built-ins


def _fields(prompt: str) -> tuple[dict[str, str], list[str] | None]:
    lines = prompt.split("\n")
    fields: dict[str, str] = {}
    for index, line in enumerate(lines[1:], start=1):
        if line == "Code:":
            return fields, lines[index + 1 :]
        key, _, value = line.partition(": ")
        fields[key] = value
    return fields, None


def _first_line_from_diff(code: list[str], completion: str) -> int:
    """The file line of the code block's first line, as the reference diff numbers it."""
    patch = parse_diff(parse_codefix(completion).diff or "")
    hunk = patch.files[0].hunks[0]
    old = [line.removesuffix("\n") for line in hunk.old_lines]
    position = next(p for p in range(len(code)) if code[p : p + len(old)] == old)
    return hunk.old_start - position


def finding_from_builtin(record: dict[str, str]) -> tuple[Finding, int | None]:
    """A Finding whose prompt should be ``record["prompt"]``, carrying the answer too
    (cwe_ids, rule help, fix) so that the test sees it left out; and the first code line."""
    fields, code = _fields(record["prompt"])
    task = "codefix" if record["id"].startswith("cf-") else "analysis"
    classification = ""
    if task == "analysis":
        classification = record["completion"].split("\n")[0].removeprefix("Classification: ")
    path, _, line = fields.get("Location", "").partition(":")
    package = None
    if "Package" in fields:
        head, fixed = fields["Package"].removesuffix(")").split(" (fixed in ")
        ecosystem, name, installed = head.split(" ")
        package = Package(name, ecosystem, installed, fixed_versions=[fixed])
    web = None
    if "URL" in fields:
        method, url = fields["URL"].split(" ")
        web = WebTarget(url=url, method=method, evidence=fields.get("Evidence"))
    kind = (
        FindingKind.DEPENDENCY if package else FindingKind.WEB if web
        else FindingKind.SECRET if fields["Tool"] == "gitleaks"
        else FindingKind.CONFIG if fields["Tool"] in ("checkov", "trivy") else FindingKind.CODE
    )  # fmt: skip
    first = None
    context = None
    if code is not None:
        first = _first_line_from_diff(code, record["completion"]) if task == "codefix" else 1
        if task == "analysis" and line:  # put the flagged line inside the block
            first = max(1, int(line) - len(code) // 2)
        context = CodeContext(path=path, start_line=first, lines=code)
    finding = make(
        tool=fields["Tool"],
        rule_id=fields["Rule"],
        message=fields["Message"],
        # Code-fix prompts never show it: give one to see it left out.
        original_severity=fields.get("Reported severity", "HIGH" if task == "codefix" else None),
        kind=kind,
        cwe_ids=[classification.split(" ")[0]] if classification else [],
        rule_description=classification or None,
        rule_help=f"Reference: {classification or record['completion']}",
        vulnerability_ids=[fields["Vulnerability"]] if "Vulnerability" in fields else [],
        location=Location(path=path, start_line=int(line) if line else None) if path else None,
        package=package,
        web=web,
        context=context,
        fix=Fix(description=record["completion"]),
    )
    return finding, first


BUILTINS = [
    (name, record) for name in ("analysis", "heldout", "codefix") for record in load_builtin(name)
]


@pytest.mark.parametrize(("name", "record"), BUILTINS, ids=[r["id"] for _, r in BUILTINS])
def test_builtin_prompts_are_reproduced(
    catalogue: CweCatalogue, name: str, record: dict[str, str]
) -> None:
    finding, first = finding_from_builtin(record)
    task = "codefix" if name == "codefix" else "analysis"
    assert render_prompt(finding, task, catalogue=catalogue) == record["prompt"]
    if name == "codefix":
        # The diff's own line numbers agree with the block's first line and flagged line.
        excerpt = code_excerpt(finding)
        assert excerpt is not None and excerpt.first_line == first
        assert excerpt.flagged_line == finding.location.start_line  # type: ignore[union-attr]


def test_builtin_code_fixes_apply_and_make_diff_writes_them(catalogue: CweCatalogue) -> None:
    different = []
    for record in load_builtin("codefix"):
        finding, first = finding_from_builtin(record)
        excerpt = code_excerpt(finding)
        assert excerpt is not None and first is not None and excerpt.path is not None
        # The file as far as the prompt shows it, with other lines around the block.
        text = "".join(
            [f"# above {n}\n" for n in range(1, first)]
            + [line + "\n" for line in excerpt.lines]
            + ["# below 1\n", "# below 2\n"]
        )
        diff = parse_codefix(record["completion"]).diff or ""
        patched = apply_patch(parse_diff(diff), {excerpt.path: text})[excerpt.path]
        if make_diff(excerpt.path, text, patched) != diff:
            different.append(record["id"])
    assert different == []  # make_diff writes every built-in fix exactly as published


HAND_BUILT = {
    "an-semgrep-sqli-py-01": make(
        tool="semgrep",
        rule_id="python.lang.security.audit.formatted-sql-query.formatted-sql-query",
        original_severity="ERROR",
        message="Detected possible formatted SQL query. Use parameterized queries instead.",
        cwe_ids=["CWE-89"],
        location=Location(path="app/db/users.py", start_line=42, end_line=42, start_column=5),
        context=CodeContext(
            path="app/db/users.py",
            start_line=41,
            lines=[
                "def find_user(cur, name):",
                "    cur.execute(f\"SELECT id, email FROM users WHERE name = '{name}'\")",
                "    return cur.fetchone()",
            ],
        ),
    ),
    "an-trivy-zlib-debian-01": make(
        tool="trivy",
        rule_id="CVE-2022-37434",
        original_severity="CRITICAL",
        message=(
            "zlib: heap-based buffer over-read and overflow in inflate() in inflate.c via a "
            "large gzip header extra field"
        ),
        kind=FindingKind.DEPENDENCY,
        vulnerability_ids=["CVE-2022-37434"],
        cwe_ids=["CWE-787"],
        package=Package(
            name="zlib1g",
            ecosystem="debian",
            installed_version="1:1.2.11.dfsg-2+deb11u1",
            fixed_versions=["1:1.2.11.dfsg-2+deb11u2"],
            purl="pkg:deb/debian/zlib1g@1:1.2.11.dfsg-2+deb11u1",
        ),
    ),
    "an-gitleaks-aws-01": make(
        tool="gitleaks",
        rule_id="aws-access-token",
        message="aws-access-token has detected secret for file deploy/settings.py.",
        kind=FindingKind.SECRET,
        redacted=True,
        location=Location(path="deploy/settings.py", start_line=12),
        context=CodeContext(
            path="deploy/settings.py",
            start_line=11,
            lines=[
                'AWS_REGION = "eu-west-1"',
                'AWS_ACCESS_KEY_ID = "«redacted:aws-access-token:16-31»"',
            ],
        ),
    ),
    "an-zap-cookie-httponly-01": make(
        tool="zap",
        rule_id="10010",
        original_severity="Low",
        message="Cookie No HttpOnly Flag",
        kind=FindingKind.WEB,
        cwe_ids=["CWE-1004"],
        web=WebTarget(
            url="https://app.example.test/login",
            method="POST",
            parameter="session_id",
            evidence="Set-Cookie: session_id",
        ),
    ),
    "an-osv-minimist-01": make(
        tool="osv-scanner",
        rule_id="GHSA-xvch-5gv4-984h",
        original_severity="9.8",
        message="Prototype Pollution in minimist",
        kind=FindingKind.DEPENDENCY,
        vulnerability_ids=["GHSA-xvch-5gv4-984h", "CVE-2021-44906"],
        cwe_ids=["CWE-1321"],
        location=Location(path="package-lock.json"),
        package=Package("minimist", "npm", "1.2.5", fixed_versions=["1.2.6", "0.2.4"]),
    ),
    "an-checkov-rds-encryption-01": make(
        tool="checkov",
        rule_id="CKV_AWS_16",
        message="Ensure all data stored in the RDS is securely encrypted at rest",
        kind=FindingKind.CONFIG,
        location=Location(path="infra/db.tf", start_line=1, end_line=7),
        context=CodeContext(
            path="infra/db.tf",
            start_line=1,
            lines=[
                'resource "aws_db_instance" "main" {',
                '  identifier        = "orders-db"',
                '  engine            = "postgres"',
                '  instance_class    = "db.t3.medium"',
                "  allocated_storage = 100",
                "  storage_encrypted = false",
                "}",
                "",
            ],
        ),
    ),
    "an-semgrep-ssrf-go-01": make(
        tool="semgrep",
        rule_id="go.lang.security.injection.tainted-url-host.tainted-url-host",
        original_severity="WARNING",
        # The tool's own words name the weakness: kept (a short name, not a CWE reference).
        message=(
            "A request was found to be crafted from user-input `r`. This can lead to "
            "Server-Side Request Forgery (SSRF) vulnerabilities. "
            "[CWE-918](https://cwe.mitre.org/data/definitions/918.html)"
        ),
        cwe_ids=["CWE-918"],
        location=Location(path="internal/preview/handler.go", start_line=33),
        context=CodeContext(
            path="internal/preview/handler.go",
            start_line=31,
            lines=[
                "func (h *Handler) Preview(w http.ResponseWriter, r *http.Request) {",
                '\ttarget := r.URL.Query().Get("url")',
                "\tresp, err := http.Get(target)",
                "\tif err != nil {",
                '\t\thttp.Error(w, "fetch failed", http.StatusBadGateway)',
                "\t\treturn",
                "\t}",
            ],
        ),
    ),
}


@pytest.mark.parametrize("example_id", sorted(HAND_BUILT))
def test_hand_built_findings_reproduce_builtin_prompts(
    catalogue: CweCatalogue, example_id: str
) -> None:
    record = next(r for r in load_builtin("analysis") if r["id"] == example_id)
    assert (
        render_prompt(HAND_BUILT[example_id], "analysis", catalogue=catalogue) == (record["prompt"])
    )
