"""The shortcuts of redaction change no answer: the byte-level screen that skips detectors,
the trie form of the assignment detector, the text cache; and two token formats of one rule in
one text."""

from __future__ import annotations

import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from vulntune.findings.secrets import patterns as secret_patterns
from vulntune.findings.secrets.patterns import marker, redact_text

# Pieces that make detectors fire, or nearly: token prefixes, secret words, operators,
# separators, digits, markers, URLs, private key armour.
PIECES = [
    "ghp_", "github_pat_", "glpat-", "xoxb-", "sk-", "sk_live_", "AKIA", "AIza", "npm_", "eyJ",
    "SG.", "pypi-AgE", "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----",
    "https://", "hooks.slack.com/services/", "user:pw@", "password", "api_key", "Secret",
    "token", "credentials", "s", "_", "-", "=", ":", ":=", "=>", "==", '"', "'", "`", " ",
    "\t", "\n", ".", "/", "+", "(", "«redacted:x:8-15»", "é", "0", "7", "2024",
    "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8", "Zq8xK2pLm9Qr4tYv7wNb3", "abcdefghijklmnop", "A1B2C3D4E5F6G7H8",
    "eyJhbGciOiJ.", "eyJzdWIiOiJ.", "xoxb-12345abcde",  # JWT and Slack parts shorter than 16
]  # fmt: skip
texts = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(string.ascii_letters + string.digits, max_size=12)),
    max_size=14,
).map("".join)
PROPERTY = settings(max_examples=400, derandomize=True, database=None, deadline=None)


@PROPERTY
@given(texts)
def test_the_screen_skips_only_detectors_that_find_nothing(text):
    assert secret_patterns._secret_spans(text) == secret_patterns._secret_spans(
        text, *secret_patterns._screen(text)
    )


# The shortest match of every known token format (see _KNOWN_FORMATS): the screen must let
# each through even where it is the only thing in the text.
SHORTEST_TOKENS = {
    "aws-access-key-id": "AKIA" + "Z7QW3RTY5UIO9PAS",
    "github-token": "ghp_" + "a1" * 18,
    "github-token-pat": "github_pat_" + "b2" * 11,
    "gitlab-token": "glpat-" + "c3" * 10,
    "slack-token": "xoxb-" + "d4" * 5,
    "slack-webhook": "https://hooks.slack.com/services/T0",
    "stripe-key": "sk_live_" + "e5" * 8,
    "google-api-key": "AIza" + "f6" * 17 + "g",
    "npm-token": "npm_" + "h7" * 18,
    "pypi-token": "pypi-AgE" + "i8" * 25,
    "sendgrid-key": "SG." + "j9" * 11 + "." + "k0" * 21 + "l",
    "api-key": "sk-" + "m1" * 16,
    "jwt": "eyJ" + "n2" * 4 + ".eyJ" + "o3" * 4 + ".",
    "private-key": "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----",
}


def test_the_screen_lets_the_shortest_token_of_every_format_through():
    for name, token in SHORTEST_TOKENS.items():
        for text in (token, f"a {token} b", f"x=({token});"):
            spans = secret_patterns._secret_spans(text)
            assert spans, name
            assert secret_patterns._screen(text)[0], name
            assert secret_patterns._secret_spans(text, *secret_patterns._screen(text)) == spans


@PROPERTY
@given(texts.map(str.lower))
def test_the_trie_assignment_detector_matches_as_the_alternation_does(text):
    plain = re.compile(secret_patterns.ASSIGNMENT.pattern.removeprefix("(?i)"))
    assert [m.span() + m.groups() for m in secret_patterns._ASSIGNMENT_LOWER.finditer(text)] == [
        m.span() + m.groups() for m in plain.finditer(text)
    ]


def test_spelled_out_secret_words_are_the_alternation():
    words = secret_patterns._spelled_out(secret_patterns._SECRET_WORDS)
    assert len(words) == len(set(words)) + 1  # "apikey" is spelled by two alternatives
    assert all(re.fullmatch(f"(?:{secret_patterns._SECRET_WORDS})", w) for w in words)
    assert "client-secret" in words and "credentials" in words


def test_two_github_token_formats_in_one_text_are_both_redacted():
    # Both formats are rule "github-token": sorting the matched formats compared their regular
    # expressions and raised TypeError, which stopped the ingest.
    classic, fine_grained = "ghp_" + "A1b2C3d4" * 5, "github_pat_" + "B2c3D4e5" * 4
    assert redact_text(f"{classic} and {fine_grained}") == (
        f"{marker('github-token', len(classic))} and {marker('github-token', len(fine_grained))}"
    )


def test_the_text_cache_stays_bounded(monkeypatch):
    monkeypatch.setattr(secret_patterns, "_REDACTED_LIMIT", 10)
    secret_patterns._REDACTED.clear()
    for n in range(25):
        assert redact_text(f"plain text number {n}") == f"plain text number {n}"
    assert len(secret_patterns._REDACTED) <= 10
    secret_patterns._REDACTED.clear()
