"""Secret-looking text: the markers that replace it and the detectors that find it.

A marker replaces a secret in place::

    «redacted:RULE:LENGTH»

- ``RULE`` names what matched: the finding's rule id for secret-scanner findings (e.g.
  ``generic-api-key``), otherwise the detector (``aws-access-key-id``, ``jwt``,
  ``secret-assignment``, ``high-entropy``, ...). Lowercase ``[a-z0-9._-]``, at most 64.
- ``LENGTH`` is the length class of the replaced text: ``1-7``, ``8-15``, ``16-31``,
  ``32-63``, ``64-127``, ``128-255`` or ``256+`` characters.
- The location is kept: the marker sits exactly where the secret was and the surrounding
  text stays.

Detectors (:func:`redact_text`): known token formats (``_KNOWN_FORMATS``: AWS access key
ids, GitHub/GitLab/Slack/Stripe/npm/PyPI/SendGrid/Google tokens, ``sk-`` API keys, JWTs,
private key blocks), the password of ``user:password@`` URLs, quoted or literal values
assigned to a key whose name *ends* in a secret word (``password=...``, ``"api_key": "..."``,
``DB_PASSWORD: ...``; not ``password_hash`` or ``tokenizer``; placeholders such as
``${VAR}``, ``<token>``, ``os.environ[...]`` and code such as ``user.password`` are kept),
and high-entropy strings.

High-entropy strings are runs of 20+ base64/base64url characters, outside URLs and dotted
names, with at least one letter and one digit, whose Shannon entropy is near the maximum for
their length, and which are not mostly pronounceable words or name parts (so
``ApiGatewayV2Response``, ``TLS_AES_128_GCM_SHA256`` and paths survive). Pure hex strings
(git SHAs, image digests, checksums) and UUIDs are deliberately kept: they are ids far more
often than secrets, and findings need them; hex secrets are still caught when assigned to a
secret-named key or reported by a secret scanner. Measured limits: about 97% of random
base62 strings of 20 characters and 99.6% of 32 are caught, but only ~80% of random strings
drawn from lowercase letters and digits; words-only passphrases are caught only by the
assignment rule and by what secret scanners report (:mod:`vulntune.findings.redact`).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from functools import lru_cache

MARKER_PREFIX = "«redacted:"
MARKER_RE = re.compile(r"«redacted:[a-z0-9._-]{1,64}:(?:\d+-\d+|\d+\+)»")
_LENGTH_EDGES = (8, 16, 32, 64, 128, 256)


def length_class(n: int) -> str:
    """The length bucket written into a marker: ``1-7``, ``8-15``, ... ``256+``."""
    low = 1
    for edge in _LENGTH_EDGES:
        if n < edge:
            return f"{low}-{edge - 1}"
        low = edge
    return f"{low}+"


def marker(rule: str, length: int) -> str:
    """The replacement for a secret of ``length`` characters found by ``rule``."""
    name = re.sub(r"[^a-z0-9._-]+", "-", rule.lower()).strip("-")[:64] or "secret"
    return f"«redacted:{name}:{length_class(length)}»"


# --------------------------------------------------------------------------------------------
# Known token formats. Each entry: rule name, literal hints (the regex runs only when one of
# them occurs in the text, which keeps the common case fast), the pattern.
# --------------------------------------------------------------------------------------------

_KNOWN_FORMATS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = (
    (
        "private-key",
        ("PRIVATE KEY",),
        re.compile(
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
            re.DOTALL,
        ),
    ),
    (
        "aws-access-key-id",
        ("AKIA", "ASIA", "ABIA", "ACCA", "A3T"),
        re.compile(
            r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])"
        ),
    ),
    (
        "github-token",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}"),
    ),
    ("github-token", ("github_pat_",), re.compile(r"github_pat_[A-Za-z0-9_]{22,255}")),
    ("gitlab-token", ("glpat-",), re.compile(r"glpat-[A-Za-z0-9_-]{20,}")),
    ("slack-token", ("xox",), re.compile(r"(?<![A-Za-z0-9])xox[abposre]-[A-Za-z0-9-]{10,}")),
    (
        "slack-webhook",
        ("hooks.slack.com",),
        re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9_/-]+"),
    ),
    (
        "stripe-key",
        ("k_live_", "k_test_"),
        re.compile(r"(?<![A-Za-z0-9])[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"),
    ),
    ("google-api-key", ("AIza",), re.compile(r"AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])")),
    ("npm-token", ("npm_",), re.compile(r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])")),
    ("pypi-token", ("pypi-AgE",), re.compile(r"pypi-AgE[A-Za-z0-9_-]{50,}")),
    ("sendgrid-key", ("SG.",), re.compile(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}")),
    ("api-key", ("sk-",), re.compile(r"(?<![A-Za-z0-9_-])sk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}")),
    ("jwt", ("eyJ",), re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")),
)


# One scan of the lowercased text finds every hint; most texts have none.
_FORMATS_BY_HINT = {h.lower(): (rule, p) for rule, hints, p in _KNOWN_FORMATS for h in hints}


def _trie_regex(words: list[str]) -> str:
    """One regex matching any of ``words``, with common prefixes factored out: sre tries the
    alternatives of a group one by one at every position, so fewer branches scan faster."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:
        branches = [re.escape(c) + build(child) for c, child in sorted(node.items()) if c]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


_KNOWN_HINTS = re.compile(_trie_regex(list(_FORMATS_BY_HINT)))

# user:password@ in a URL: only the password is replaced.
_URL_CREDENTIALS = re.compile(r"(?<=://)[^\s:/@'\"<>]+:(?P<value>[^\s/@'\"<>]+)@")

# A value assigned to a key whose name ends in a secret word: password=..., "api_key": "...",
# DB_PASSWORD: ..., client_secret => '...'. The key must *end* with the word, so passwordHash,
# token_url and tokenizer are not secret keys.
_SECRET_WORDS = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|"
    r"secret[_-]?key|private[_-]?key|client[_-]?secret|auth[_-]?key|credentials?"
)
ASSIGNMENT = re.compile(
    rf"(?i)(?:{_SECRET_WORDS})s?(?:[_-]?[0-9]+)?[\"']?[ \t]*(?P<op>:=|=>|==|=|:)[ \t]*"
    r"(?:\"(?P<dq>[^\"\n]*)\"|'(?P<sq>[^'\n]*)'|`(?P<bq>[^`\n]*)`|(?P<bare>[^\s\"'`,;&()\[\]{}]+))"
)
_ASSIGNMENT_LOWER = re.compile(ASSIGNMENT.pattern.removeprefix("(?i)"))
_ASSIGNMENT_HINTS = ("pass", "pwd", "secret", "token", "key", "credential")
_NOT_SECRET_VALUES = frozenset(
    {
        *("none", "null", "nil", "true", "false", "undefined", "str", "string", "int", "bytes"),
        *("bool", "optional", "any", "object", "required", "changeit", "redacted", "hidden"),
        *("masked", "xxx", "xxxx", "xxxxx"),
    }
)
_IDENTIFIER_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")

# Candidate high-entropy strings and the word test that spares identifiers and paths.
_ENTROPY_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9+/_.-])[A-Za-z0-9+/_-]{20,}={0,2}(?![A-Za-z0-9+/_=-]|\.[A-Za-z0-9])"
)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s<>\"'`)\]]+")
_HEXISH = re.compile(r"[0-9a-fA-F-]+\Z")
_LETTER_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_DIGIT_PARTS = re.compile(r"(?:^|(?<=[/_.+-]))[0-9]+(?=[/_.+-]|$)")
_SEPARATORS = re.compile(r"[/_.+-]+")
_NAME_PART = re.compile(r"[A-Za-z]*[0-9]*\Z")
_CONSONANT_RUN = re.compile(r"[bcdfghjklmnpqrstvwxz]{4}")
_VOWELS = frozenset("aeiouy")
_MIN_ENTROPY_LENGTH = 20

# Trivy masks the middle of a secret with asterisks (AKIA****************); the visible part
# is still part of a secret.
MASKED = re.compile(r"[A-Za-z0-9+/_.-]*\*{3,}[A-Za-z0-9+/_.*-]*")


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def redact_text(text: str) -> str:
    """``text`` with every generic secret pattern replaced by a marker (see module docs)."""
    if len(text) < 8:
        return text
    spans = _secret_spans(text)
    if not spans:
        return text
    out, pos = [], 0
    for start, end, rule in spans:
        out += [text[pos:start], marker(rule, end - start)]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _secret_spans(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, rule) spans to replace, in order. Every detector looks at
    the original text; where spans overlap the earliest, then longest, wins. Markers already in
    the text are never touched, so redacting twice changes nothing."""
    found: list[tuple[int, int, str]] = []
    lowered = text.lower()
    hinted = {_FORMATS_BY_HINT[h] for h in _KNOWN_HINTS.findall(lowered)}
    for rule, pattern in sorted(hinted):
        found += [(m.start(), m.end(), rule) for m in pattern.finditer(text)]
    if "://" in text and "@" in text:
        for m in _URL_CREDENTIALS.finditer(text):
            if not is_placeholder(m.group("value")):
                found.append((*m.span("value"), "url-credentials"))
    if any(h in lowered for h in _ASSIGNMENT_HINTS):
        # A case-insensitive regex is ~8x slower than a plain one on lowercased text; where
        # lowercasing keeps positions (ASCII) the plain one runs, spans refer to both texts.
        ascii_text = text.isascii()
        scan = _ASSIGNMENT_LOWER.finditer(lowered) if ascii_text else ASSIGNMENT.finditer(text)
        for m in scan:
            span = _assigned_secret_span(m, text)
            if span is not None:
                found.append((*span, "secret-assignment"))
    urls = [m.span() for m in _URL.finditer(text)] if "://" in text else []
    for m in _ENTROPY_CANDIDATE.finditer(text):
        start, end = m.span()
        if looks_random(m.group(0)) and not any(a <= start and end <= b for a, b in urls):
            found.append((start, end, "high-entropy"))
    if not found:
        return []
    protected = [m.span() for m in MARKER_RE.finditer(text)] if MARKER_PREFIX in text else []
    found.sort(key=lambda s: (s[0], -s[1]))
    spans: list[tuple[int, int, str]] = []
    for start, end, rule in found:
        if spans and start < spans[-1][1]:
            continue
        if any(start < p_end and p_start < end for p_start, p_end in protected):
            continue
        spans.append((start, end, rule))
    return spans


def _assigned_secret_span(m: re.Match[str], text: str) -> tuple[int, int] | None:
    """The span of the assigned value of match ``m`` (made on ``text`` or on its lowercased
    copy) when it is a secret; None for placeholders and code."""
    for group in ("dq", "sq", "bq", "bare"):
        start, end = m.span(group)
        if start >= 0:
            break
    value = text[start:end]
    if len(value) < 4 or is_placeholder(value) or MARKER_PREFIX in value:
        return None
    if group == "bare" and not _bare_value_is_secret(m, text, value):
        return None
    return start, end


def _bare_value_is_secret(m: re.Match[str], text: str, value: str) -> bool:
    """An unquoted value is code (``password = user.password``, ``token: str``) more often than
    a literal; it counts as a secret when it cannot be code, or in ``KEY=value`` env style."""
    after = text[m.end() : m.end() + 1]
    if after in ("(", "[", ".") or value.isdigit():
        return False
    if not _IDENTIFIER_PATH.match(value):
        return True  # symbols: p@ss!, base64, URLs with tokens
    if "." in value:
        return False  # attribute access: settings.SECRET_KEY
    op, keyword = m.group("op"), text[m.start() : m.start("op")]
    env_style = op == "=" and keyword.isupper()  # PASSWORD=hunter in .env files and shells
    mixed = any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
    return env_style or (op != "==" and mixed)


def is_placeholder(value: str) -> bool:
    v = value.strip()
    if not v or v.lower() in _NOT_SECRET_VALUES:
        return True
    if v[0] in "$<%{[(@*" or v.startswith("#{"):
        return True  # ${VAR}, <token>, %s, {{ secrets.X }}, ***, #{...}
    if set(v) <= set("*xX.-_ "):
        return True
    return v.lower().startswith(("os.environ", "process.env", "env.", "secrets."))


def looks_random(token: str) -> bool:
    """True when ``token`` (20+ base64 characters) is likely a random secret, not an id,
    identifier, path or hash (see the module docs for the exact rules)."""
    n = len(token)
    if n < _MIN_ENTROPY_LENGTH or _HEXISH.match(token):
        return False
    if not any(c.isdigit() for c in token) or not any(c.isalpha() for c in token):
        return False
    if shannon_entropy(token) < min(0.85 * math.log2(n) - 0.2, 4.5):
        return False
    parts = _SEPARATORS.split(token)
    if len(parts) >= 3 and all(_NAME_PART.match(part) for part in parts):
        return False  # TLS_AES_128_GCM_SHA256, ELBSecurityPolicy-TLS13-1-2-2021-06
    return word_coverage(token) < 0.5


def shannon_entropy(text: str) -> float:
    """Shannon entropy of ``text`` in bits per character."""
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values()) if n else 0.0


def word_coverage(token: str) -> float:
    """Share of ``token`` made of pronounceable letter words, separated numbers (dates,
    versions) and alphabet runs: high for identifiers and paths, low for random strings."""
    covered = 0
    for word in _LETTER_WORDS.findall(token):
        low = word.lower()
        vowels = sum(c in _VOWELS for c in low)
        if len(low) >= 3 and vowels >= 0.2 * len(low) and not _CONSONANT_RUN.search(low):
            covered += len(word)
    covered += sum(len(d) for d in _DIGIT_PARTS.findall(token))
    sequential = sum(ord(b) - ord(a) == 1 for a, b in itertools.pairwise(token))
    return max(covered, sequential) / len(token)
