"""Redaction of findings: secret findings, the secret index of an ingest, every text field."""

from __future__ import annotations

from vulntune.findings.record import (
    CodeContext,
    FindingKind,
    Fix,
    FixChange,
    Location,
    WebInstance,
    WebTarget,
)
from vulntune.findings.redact import (
    SecretIndex,
    redact_finding,
    redact_lines,
)
from vulntune.findings.secrets.patterns import (
    marker,
)

from .redaction_samples import AWS_KEY_ID, GITHUB, GOOGLE, JWT, SLACK, STRIPE, finding


def test_non_secret_finding_without_secrets_is_returned_unchanged():
    f = finding(snippet="cursor.execute(q % user)", rule_help="password: use a vault")
    assert redact_finding(f) is f


def test_non_secret_finding_redacts_everywhere_but_rule_text():
    f = finding(
        message=f"token {GITHUB} used",
        snippet=f'client.auth("{STRIPE}")',
        rule_help=f"docs mention {AWS_KEY_ID}",  # static tool documentation: kept
        location=Location(path="a.py", start_line=3, message=f"sink {SLACK}"),
        code_flows=[[Location(path="a.py", start_line=1, message=f"source {GITHUB}")]],
        context=CodeContext(path="a.py", start_line=1, lines=["x = 1", f"t = '{JWT}'"],
                            enclosing=f"def f(k='{GOOGLE}')"),
        fix=Fix(description=f"rotate {GITHUB}",
                changes=[FixChange(path="a.py", inserted_text=STRIPE)]),
        web=WebTarget(url=f"https://h/?access_token={JWT}", evidence=f"Bearer {GITHUB}",
                      instances=[WebInstance(url="https://h/", attack=SLACK)]),
    )  # fmt: skip
    r = redact_finding(f)
    assert r.redacted and not f.redacted
    dumped = str(r.to_dict())
    for secret in (GITHUB, STRIPE, SLACK, JWT, GOOGLE):
        assert secret not in dumped
    assert r.rule_help == f.rule_help
    assert r.snippet == f'client.auth("{marker("stripe-key", len(STRIPE))}")'
    assert r.location.start_line == 3 and r.location.path == "a.py"
    assert f.snippet.endswith(f'{STRIPE}")')  # the input is not mutated


def test_secret_finding_snippet_is_replaced_whole_and_value_removed_everywhere():
    secret = "CorrectHorseBatteryStaple"  # words only: no pattern would catch it
    f = finding(
        tool="gitleaks",
        rule_id="generic-api-key",
        kind=FindingKind.SECRET,
        message=f"generic-api-key has detected secret {secret}",
        snippet=f'api_key = "{secret}"',
        rule_help=f"Match: {secret}",
        location=Location(path="cfg.py", start_line=2, start_column=1, end_column=30),
        context=CodeContext(
            path="cfg.py",
            start_line=1,
            lines=["import os", f'api_key = "{secret}"', f"backup = '{secret}'", "x = 1"],
        ),
    )
    r = redact_finding(f)
    assert r.snippet == marker("generic-api-key", len(f.snippet))
    assert secret not in str(r.to_dict())
    assert r.context.lines[0] == "import os" and r.context.lines[3] == "x = 1"
    assert r.context.lines[1].startswith("api_key = ")
    assert r.message.startswith("generic-api-key has detected secret «redacted:generic-api-key:")


def test_trivy_masked_secret_is_redacted_and_found_in_source_line():
    real = "AKIA" + "Q2W3E4R5T6Y7U8I9"
    masked = "AKIA" + "*" * 16
    f = finding(
        tool="trivy",
        rule_id="aws-access-key-id",
        kind=FindingKind.SECRET,
        message=f"Secret AWS Access Key ID\nMatch: AWS_ACCESS_KEY_ID={masked}",
        snippet=f"AWS_ACCESS_KEY_ID={masked}",
        rule_help=f"Match: AWS_ACCESS_KEY_ID={masked}",
        location=Location(path=".env", start_line=1, end_line=1),
        context=CodeContext(path=".env", start_line=1, lines=[f"AWS_ACCESS_KEY_ID={real}"]),
    )
    r = redact_finding(f)
    text = str(r.to_dict())
    assert "AKIA" not in text and "****" not in text
    assert r.context.lines == [f"AWS_ACCESS_KEY_ID={marker('aws-access-key-id', 20)}"]


def test_secret_finding_flagged_line_without_known_value_uses_columns_or_whole_line():
    index = SecretIndex()
    columns = Location(path="a.txt", start_line=2, start_column=5, end_line=2, end_column=9)
    index.add(finding(kind=FindingKind.SECRET, rule_id="r", snippet="****", location=columns))
    index.add(finding(kind=FindingKind.SECRET, rule_id="s", location=Location("a.txt", 4)))
    lines = ["a", "abc wxyz tail", "c", "    the secret", "e"]
    assert redact_lines(lines, 1, "a.txt", [index]) == [
        "a", f"abc {marker('r', 4)} tail", "c", f"    {marker('s', 10)}", "e"
    ]  # fmt: skip
    assert redact_lines(lines, 1, "b.txt", [index]) == lines  # other file: nothing flagged


def test_secret_index_removes_a_secret_from_every_finding():
    secret = "Walrus-Tangerine-Ovation-8812"
    index = SecretIndex()
    index.add(finding(tool="gitleaks", rule_id="generic-api-key", snippet=f"TOKEN={secret}",
                      location=Location("app.env", 3)))  # fmt: skip
    neighbour = finding(
        message=f"hard-coded value {secret}",
        context=CodeContext("app.env", 1, ["A=1", "B=2", f"TOKEN={secret}", f"OLD={secret}"]),
    )
    r = redact_finding(neighbour, index)
    assert secret not in str(r.to_dict())
    assert r.context.lines[:2] == ["A=1", "B=2"]
    assert r.context.lines[3] == f"OLD={marker('generic-api-key', len(secret))}"
    # Without the index only the generic patterns apply: the words-only value on OLD= stays.
    assert redact_finding(neighbour).context.lines[3] == f"OLD={secret}"


def test_multiline_private_key_in_context_lines_is_replaced_line_by_line():
    lines = ["key = '''", "-----BEGIN OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAA",
             "QyNTUxOQAAACD", "-----END OPENSSH PRIVATE KEY-----", "'''", "done()"]  # fmt: skip
    out = redact_lines(lines, 10)
    assert out[0] == "key = '''" and out[-2:] == ["'''", "done()"]
    assert all(line.startswith("«redacted:private-key:") for line in out[1:5])


def test_weak_secret_values_stay_within_their_own_finding():
    leak = finding(tool="gitleaks", rule_id="pw", snippet='password = "admin"',
                   message="found admin password: admin")  # fmt: skip
    other = finding(message="log in as admin to configure")
    index = SecretIndex()
    index.add(leak)
    assert redact_finding(other, index) is other  # "admin" is too common to hunt everywhere
    assert "admin" not in redact_finding(leak, index).message
