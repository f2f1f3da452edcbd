"""Secret-looking text: markers, known token formats, assignments, entropy, idempotence."""

from __future__ import annotations

import random
import string

import pytest

from vulntune.findings.secrets.patterns import (
    MARKER_RE,
    length_class,
    looks_random,
    marker,
    redact_text,
)

from ..redaction_samples import AWS_KEY_ID, GITHUB, GOOGLE, JWT, PEM, SLACK, STRIPE


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
