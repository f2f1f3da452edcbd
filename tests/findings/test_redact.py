"""Secret redaction: known formats, assignments, entropy, secret findings, markers."""

from __future__ import annotations

import random
import string

import pytest

from vulntune.findings.record import (
    CodeContext,
    Finding,
    FindingKind,
    Fix,
    FixChange,
    Location,
    Origin,
    Severity,
    WebInstance,
    WebTarget,
)
from vulntune.findings.redact import (
    SecretIndex,
    is_secret_finding,
    redact_finding,
    redact_lines,
    secret_values,
)
from vulntune.findings.secret_patterns import (
    MARKER_RE,
    length_class,
    looks_random,
    marker,
    redact_text,
)

# Test tokens are assembled at run time so that secret scanners on this repo stay quiet.
GITHUB = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
AWS_KEY_ID = "AKIA" + "Z7QW3RTY5UIO9PAS"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
GOOGLE = "AIza" + "SyA1234567890abcdefghijklmnopqrstuv"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2\n"
    "-----END RSA PRIVATE KEY-----"
)


def finding(**overrides) -> Finding:
    base = dict(
        id="f1",
        tool="semgrep",
        rule_id="python.sql-injection",
        severity=Severity.HIGH,
        message="SQL built from user input",
        kind=FindingKind.CODE,
        origin=Origin(file="r.sarif", format="sarif", index=0),
    )
    base.update(overrides)
    return Finding(**base)


def test_marker_format_and_length_classes():
    assert marker("AWS Access Key", 20) == "«redacted:aws-access-key:16-31»"
    assert [length_class(n) for n in (1, 7, 8, 15, 16, 63, 64, 255, 256, 10_000)] == [
        "1-7", "1-7", "8-15", "8-15", "16-31", "32-63", "64-127", "128-255", "256+", "256+",
    ]  # fmt: skip
    assert MARKER_RE.fullmatch(marker("x" * 200, 3))
    assert marker("", 3) == "«redacted:secret:1-7»"


@pytest.mark.parametrize(
    ("secret", "rule"),
    [
        (GITHUB, "github-token"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github-token"),
        (AWS_KEY_ID, "aws-access-key-id"),
        (SLACK, "slack-token"),
        (STRIPE, "stripe-key"),
        (GOOGLE, "google-api-key"),
        (JWT, "jwt"),
        ("glpat-" + "x1y2z3" * 4, "gitlab-token"),
        ("npm_" + "a1B2c3D4e5" * 3 + "f6G7h8", "npm-token"),
    ],
)
def test_known_token_formats_are_replaced_in_place(secret, rule):
    text = f"found {secret} in config"
    assert redact_text(text) == f"found {marker(rule, len(secret))} in config"


def test_private_key_block_is_replaced_whole_even_when_truncated():
    assert redact_text(f"key: {PEM}\nrest") == f"key: {marker('private-key', len(PEM))}\nrest"
    truncated = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
    assert redact_text(truncated) == marker("private-key", len(truncated))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('password = "hunter2!"', 'password = "«redacted:secret-assignment:8-15»"'),
        ('"client_secret": "abcd1234efgh"', '"client_secret": "«redacted:secret-assignment:8-15»"'),
        ("DB_PASSWORD=hunter", "DB_PASSWORD=«redacted:secret-assignment:1-7»"),
        ("?token=abc123def456&x=1", "?token=«redacted:secret-assignment:8-15»&x=1"),
        ("if (password == 'admin123') {", "if (password == '«redacted:secret-assignment:8-15»') {"),
        ("postgres://admin:s3cr3tpass@db:5432/x", "postgres://admin:«redacted:url-credentials:8-15»@db:5432/x"),
    ],
)  # fmt: skip
def test_secret_assignments_and_url_credentials(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "password = request.form['password']",
        "password: str",
        "token = get_token()",
        "self.api_key = api_key",
        "api_key: ${{ secrets.API_KEY }}",
        "const secret = process.env.SECRET;",
        "https://user:${PASS}@host",
        'String password = "";',
        "max_tokens = 4096",
        "password_hash = hash(pw)",
        "tokenizer = 'gpt2-tokenizer'",
        "commit 3f786850e387550fdab836ed7e6dc881de23001b",
        "image sha256:" + "ab12" * 16,
        "id 123e4567-e89b-12d3-a456-426614174000",
        "class ApiGatewayV2Response extends Foo",
        "src/main/java/com/example/Auth2Controller.java",
        "https://lists.apache.org/thread/bgv0lpswokgol11tloxnjfzdl7yrc1g1",
        "pkg:maven/org.bouncycastle/bcpkix-jdk15to18@1.70",
        "TLS_AES_128_GCM_SHA256 and ELBSecurityPolicy-TLS13-1-2-2021-06",
        "https://semgrep.dev/r/python.cryptography.security.insecure-hash-algorithms-md5",
        "Use SHA256 or SHA3 instead.",
    ],
)
def test_ordinary_code_ids_and_urls_are_kept(text):
    assert redact_text(text) == text


def test_high_entropy_strings_are_replaced():
    token = "Xk9fQ2mZ7pL4wR8tY1vB3nC6"
    assert redact_text(f"key {token}.") == f"key {marker('high-entropy', len(token))}."
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits
    samples = ["".join(rng.choice(alphabet) for _ in range(32)) for _ in range(200)]
    caught = sum(looks_random(s) for s in samples)
    assert caught >= 190  # random base62 of 32 chars: ~99% are recognised


def test_redaction_is_idempotent_and_never_touches_markers():
    once = redact_text(f"{GITHUB} token: {STRIPE} and 1password-service-account-token")
    assert redact_text(once) == once
    already = "«redacted:github-fine-grained-token-2:32-63» token: «redacted:x:8-15»"
    assert redact_text(already) == already


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


def test_is_secret_finding():
    assert is_secret_finding(finding(kind=FindingKind.SECRET))
    assert is_secret_finding(finding(tool="gitleaks"))
    assert is_secret_finding(finding(tags=["security", "secret"]))
    assert is_secret_finding(finding(rule_id="generic.secrets.security.detected-aws-key"))
    assert not is_secret_finding(finding(tags=["security"], rule_id="python.sqli"))


def test_weak_secret_values_stay_within_their_own_finding():
    leak = finding(tool="gitleaks", rule_id="pw", snippet='password = "admin"',
                   message="found admin password: admin")  # fmt: skip
    other = finding(message="log in as admin to configure")
    index = SecretIndex()
    index.add(leak)
    assert redact_finding(other, index) is other  # "admin" is too common to hunt everywhere
    assert "admin" not in redact_finding(leak, index).message


def test_secret_values_of_a_match():
    assert secret_values('api_key = "Zx81LmQ0"  # note') == ["Zx81LmQ0"]
    assert secret_values("AKIA****************") == ["AKIA****************"]
    assert secret_values("CorrectHorse\nk = 'Q9x!Lm2#Zp'") == ["CorrectHorse", "Q9x!Lm2#Zp"]
