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
The tests behind "random" and "placeholder" are in :mod:`vulntune.findings.secrets.randomness`.

Speed (a large report has tens of MB of messages and snippets): a byte-level screen
(``_screen``: one translation of the text into character classes, then substring searches)
decides which detectors could find anything at all, and only those run; redacted texts are
remembered, since the findings of a report share many texts. Neither changes an answer.
"""

from __future__ import annotations

import base64
import re
import string

from vulntune.findings.secrets.randomness import (
    MIN_ENTROPY_LENGTH,
    is_placeholder,
    looks_random,
    shannon_entropy,
    word_coverage,
)

__all__ = [
    "ASSIGNMENT",
    "MARKER_PREFIX",
    "MARKER_RE",
    "MASKED",
    "is_placeholder",
    "length_class",
    "looks_random",
    "marker",
    "redact_text",
    "shannon_entropy",
    "word_coverage",
]

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


# One scan of the lowercased text finds every hint; most texts have none. Formats sort by
# rule, then by their place above (two formats share the rule "github-token").
_FORMATS_BY_HINT = {
    h.lower(): (rule, order, p)
    for order, (rule, hints, p) in enumerate(_KNOWN_FORMATS)
    for h in hints
}


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


def _spelled_out(words_regex: str) -> list[str]:
    """Every word the alternation ``words_regex`` (only ``[_-]?`` and a final ``s?`` as
    operators) matches."""
    words = []
    for alternative in words_regex.split("|"):
        spellings = [alternative]
        while any("[_-]?" in w for w in spellings):
            spellings = [w.replace("[_-]?", sep, 1) for w in spellings for sep in ("", "_", "-")]
        for word in spellings:
            words += [word[:-2], word[:-1]] if word.endswith("s?") else [word]
    return words


# The same matches as ASSIGNMENT on lowercased ASCII text, with the secret words as a trie:
# at one position at most one word can start a match (none is a prefix of another that could
# also be followed by an operator), so their order does not matter, and the trie tries fewer
# branches at each of the many positions where a word could start.
_ASSIGNMENT_LOWER = re.compile(
    ASSIGNMENT.pattern.removeprefix("(?i)").replace(
        f"(?:{_SECRET_WORDS})", _trie_regex(sorted(set(_spelled_out(_SECRET_WORDS)))), 1
    )
)
_IDENTIFIER_PATH = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*\Z")

# Candidate high-entropy strings (looks_random decides).
_ENTROPY_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9+/_.-])[A-Za-z0-9+/_-]{20,}={0,2}(?![A-Za-z0-9+/_=-]|\.[A-Za-z0-9])"
)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s<>\"'`)\]]+")

# Trivy masks the middle of a secret with asterisks (AKIA****************); the visible part
# is still part of a secret.
MASKED = re.compile(r"[A-Za-z0-9+/_.-]*\*{3,}[A-Za-z0-9+/_.*-]*")


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


def redact_text(text: str) -> str:
    """``text`` with every generic secret pattern replaced by a marker (see module docs)."""
    done = _REDACTED.get(text)
    if done is None:
        done = _redact(text, *_screen(text)) if len(text) >= 8 else text
        if len(_REDACTED) >= _REDACTED_LIMIT:
            _REDACTED.clear()
        _REDACTED[text] = done
    return done


# Texts seen before and their redacted form: the findings of one report share many texts
# (messages of a rule, help URLs, code-flow notes). A plain dict, emptied when full, costs
# less per text than an LRU cache, and most texts of a large report are seen once.
_REDACTED: dict[str, str] = {}
_REDACTED_LIMIT = 1 << 16


def _redact(text: str, known_formats: bool, random_tokens: bool) -> str:
    spans = _secret_spans(text, known_formats, random_tokens)
    if not spans:
        return text
    out, pos = [], 0
    for start, end, rule in spans:
        out += [text[pos:start], marker(rule, end - start)]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _secret_spans(
    text: str, known_formats: bool = True, random_tokens: bool = True
) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, rule) spans to replace, in order. Every detector looks at
    the original text; where spans overlap the earliest, then longest, wins. Markers already in
    the text are never touched, so redacting twice changes nothing. ``known_formats`` and
    ``random_tokens`` False (from _screen) skip detectors that cannot find anything."""
    found: list[tuple[int, int, str]] = []
    has_operator = "=" in text or ":" in text
    has_url = "://" in text
    lowered = text.lower() if known_formats or has_operator else ""
    if known_formats:
        hinted = {_FORMATS_BY_HINT[h] for h in _KNOWN_HINTS.findall(lowered)}
        for rule, _, pattern in sorted(hinted, key=lambda f: f[:2]):
            found += [(m.start(), m.end(), rule) for m in pattern.finditer(text)]
    if has_url and "@" in text:
        for m in _URL_CREDENTIALS.finditer(text):
            if not is_placeholder(m.group("value")):
                found.append((*m.span("value"), "url-credentials"))
    # Every assignment has an operator (":" or "="); the hints are plain substring tests.
    if has_operator and _has_assignment_hint(lowered):
        # A case-insensitive regex is ~8x slower than a plain one on lowercased text; where
        # lowercasing keeps positions (ASCII) the plain one runs, spans refer to both texts.
        ascii_text = text.isascii()
        scan = _ASSIGNMENT_LOWER.finditer(lowered) if ascii_text else ASSIGNMENT.finditer(text)
        for m in scan:
            span = _assigned_secret_span(m, text)
            if span is not None:
                found.append((*span, "secret-assignment"))
    if random_tokens:
        urls = [m.span() for m in _URL.finditer(text)] if has_url else []
        for m in _ENTROPY_CANDIDATE.finditer(text):
            start, end = m.span()
            if any(a <= start and end <= b for a, b in urls):
                continue
            if text[start - 8 : start] == ";base64," and _DATA_URI_PAYLOAD.search(text, 0, start):
                continue
            found += [(a, b, "high-entropy") for a, b in _random_parts(m.group(0), start)]
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


# Public digests and object ids that are random by design but no secret: Subresource
# Integrity hashes (integrity="sha384-...") and Stripe object ids (evt_..., ch_..., in_...;
# Stripe's secret keys are a known format above).
_PUBLIC_RANDOM = re.compile(
    r"(?:sha(?:256|384|512)-|(?:evt|ch|in|ii|il|cus|pi|pm|py|po|re|sub|si|seti|prod|price|txn"
    r"|tr|card|src|acct|ba|ipi|cs|sess)_"
    # Hibernate's generated constraint names; a serialised Java object in base64.
    r"|(?:FK|UK)[0-9a-z]{20,30}\Z|rO0AB)"
)
# The payload of a data: URI (an inline image) is data, not a secret.
_DATA_URI_PAYLOAD = re.compile(r"data:[\w.+-]+/[\w.+-]+(?:;[\w=.+-]+)*;base64,\Z")


def _pem_kind(token: str) -> str | None:
    """``"private"`` or ``"public"`` for a base64-encoded PEM block (a private key, or a CA
    certificate in a kubeconfig or a Terraform output), None for anything else:
    ``LS0tLS1CRUdJTi`` is ``-----BEGIN`` in base64."""
    if not token.startswith("LS0tLS1CRUdJTi"):
        return None
    head = token[:64]
    try:
        decoded = base64.b64decode(head[: len(head) // 4 * 4]).decode("ascii", "replace")
    except ValueError:
        return None
    return "private" if "PRIVATE" in decoded else "public"


def _random_parts(token: str, offset: int) -> list[tuple[int, int]]:
    """Spans (from ``offset``) of the random-looking parts of an entropy candidate: the
    whole token, or, in a path (``/v1/invoices/in_103MXP2k.../lines``), its random segments
    alone. SRI hashes and Stripe object ids are not secrets."""
    if token.startswith("/"):
        spans, pos = [], offset
        for part in token.split("/"):
            if (
                len(part) >= MIN_ENTROPY_LENGTH
                and looks_random(part)
                and not _PUBLIC_RANDOM.match(part)
            ):
                spans.append((pos, pos + len(part)))
            pos += len(part) + 1
        return spans
    if token.endswith("=") and ("-" in token or "_" in token):
        token = token.rstrip("=")  # `data-wysihtml5-command='bold'`: "=" assigns, not pads
    pem = _pem_kind(token)
    if pem == "private":
        return [(offset, offset + len(token))]  # random or not: a private key
    if pem == "public" or _PUBLIC_RANDOM.match(token) or not looks_random(token):
        return []
    return [(offset, offset + len(token))]


# Byte classes for _screen: letters "a", digits "1", "_" and "-" "_", "+" and "/" (in base64
# only) "/", everything else " ". Later translations merge classes.
_CLASSES = bytes(
    ord("a") if c in string.ascii_letters
    else ord("1") if c in string.digits
    else ord("_") if c in "_-"
    else ord("/") if c in "+/"
    else ord(" ")
    for c in map(chr, range(256))
)  # fmt: skip
_TOKEN_AS_LETTERS = bytes.maketrans(b"1_", b"aa")  # [A-Za-z0-9_-] -> "a"
_SLASHES_AS_LETTERS = bytes.maketrans(b"/", b"a")  # and "+", "/": base64
_TOKEN_RUN = b"a" * 20  # see _screen
_RANDOM_RUN = b"a" * MIN_ENTROPY_LENGTH


def _screen(text: str) -> tuple[bool, bool]:
    """Which detectors could find something in ``text``: (a known token format, a random-looking
    token), decided with byte translations and substring searches, which run at memory speed
    where the regular expressions do not.

    Exact as a filter: every match of a _KNOWN_FORMATS pattern holds 20+ consecutive
    characters of [A-Za-z0-9_-] (the shortest: an AWS key id) or, for private keys, JWTs,
    Slack tokens and webhooks, "-----BEGIN", "eyJ", "xox" or "hooks.slack.com"; a random token
    is a run of 20+ base64 characters with a digit (see looks_random)."""
    classes = text.encode("utf-8", "surrogatepass").translate(_CLASSES)
    token = classes.translate(_TOKEN_AS_LETTERS)
    long_run = _TOKEN_RUN in token
    known = (
        long_run
        or "-----BEGIN" in text
        or "eyJ" in text
        or "xox" in text
        or "hooks.slack.com" in text
    )
    random = b"1" in classes and (
        long_run or (b"/" in token and _RANDOM_RUN in token.translate(_SLASHES_AS_LETTERS))
    )
    return known, random


def _has_assignment_hint(lowered: str) -> bool:
    """Whether lowercased text names a secret word (an or-chain: faster than any())."""
    return (
        "key" in lowered
        or "pass" in lowered
        or "token" in lowered
        or "secret" in lowered
        or "pwd" in lowered
        or "credential" in lowered
    )


def _assigned_secret_span(m: re.Match[str], text: str) -> tuple[int, int] | None:
    """The span of the assigned value of match ``m`` (made on ``text`` or on its lowercased
    copy) when it is a literal secret; None for placeholders, keywords and code."""
    for group in ("dq", "sq", "bq", "bare"):
        start, end = m.span(group)
        if start >= 0:
            break
    if group == "bare":
        # Punctuation after a bare word ends a statement or sentence (`token == None:`,
        # `password=TRUE.`); it is not part of the value.
        while end > start and text[end - 1] in _TRAILING_PUNCTUATION:
            end -= 1
    value = text[start:end]
    if len(value) < 4 or is_placeholder(value) or MARKER_PREFIX in value:
        return None
    if group == "bare":
        return (start, end) if _bare_value_is_secret(m, text, value) else None
    key_upper = text[m.start() : m.start("op")].isupper()
    if _quoted_value_is_not_literal(value, text[start - 1], key_upper):
        return None
    if _is_message_id(text, m.start()) and _LABEL.match(value):
        return None
    return start, end


# The key of a user-interface text in a translation file: LABEL_PASSWORD, FORGOT_PASSWORD,
# INVALID_TWO_FACTOR_AUTH_TOKEN (an upper-case key whose words name a UI element).
_MESSAGE_ID_WORDS = frozenset(
    "LABEL TITLE MANDATORY INVALID FORGOT CONFIRM ENTER NEW CURRENT REPEAT PLACEHOLDER HINT "
    "MSG MESSAGE ERROR TEXT BUTTON BTN TOOLTIP HELP PROMPT CAPTION HEADER HEADING DESCRIPTION "
    "WRONG MISSING REQUIRED".split()
)
_KEY_BEFORE = re.compile(r"[A-Z0-9_]*\Z")
_LABEL = re.compile(r"[^\W_][\w' -]*[?.!]?\Z")


def _is_message_id(text: str, secret_word_at: int) -> bool:
    """Whether the key that ends in the secret word at ``secret_word_at`` is a UI message id
    (its upper-case words before the secret word include a UI word such as LABEL)."""
    prefix = _KEY_BEFORE.search(text, 0, secret_word_at)
    words = set(prefix.group(0).split("_")) if prefix else set()
    return bool(words & _MESSAGE_ID_WORDS)


_TRAILING_PUNCTUATION = frozenset(".:")
# Interpolation inside a string literal: the value is a template, not a secret.
_INTERPOLATION = re.compile(r"\$\{|\{\{|#\{|%\(|<%=|\{[A-Za-z_][A-Za-z0-9_.]*\}")
# `... password='" + password + "'` seen from the inner quotes: the "value" is the code
# between two string literals joined by concatenation (+, ., ||, &, ..).
_CONCATENATION = re.compile(r"\A\s*(?:\+|\.\.?|\|\||&)|(?:\+|\.\.?|\|\||&)\s*\Z")
# The "value" between a closing and an opening quote: `"Token: ").append(escape(token))` or
# the gap between two HTML attributes, `Password:" value="`.
_BETWEEN_LITERALS = re.compile(r"\s*[)\],;}]|\s+[\w-]+=\Z")
_VERSION = re.compile(r"[\^~<>=! ]*v?\d+(?:\.[\dxX*]+)+(?:[-+.][0-9A-Za-z.-]+)?\Z")
_WORD = re.compile(r"[A-Za-z][a-z]+\Z|[a-z]+\Z")


# A generic type (`CreationOptional<string>`), not a word followed by an HTML tag (`pass<br>`).
_GENERIC_TYPE = re.compile(r"[A-Z][\w.]*<(?!/|(?:br|p|b|i|em|strong|code|span|div)\b)[A-Za-z]")
_LABEL_WORD = re.compile(r"(?:[^\W\d_]|['-])+\Z")
_CAPITALISED = re.compile(r"[^\W\d_][^\W_]*\Z")


def _is_natural_language(value: str, words: list[str]) -> bool:
    """A user-facing label or sentence (``"Change Password"``, ``"비밀 번호"``,
    ``"Forgot your password?"``), not a literal secret: its letters are all non-ASCII (a
    translated text), or it is two or more plain words starting with a capitalised one.
    Passphrases of lower-case words are still secrets."""
    letters = [c for c in value if c.isalpha()]
    if letters and 2 * sum(not c.isascii() for c in letters) >= len(letters):
        return True  # mostly non-Latin letters: a translated text
    if len(words) < 2:
        return False
    bare = [w.rstrip(",.;:!?") for w in words]
    first = bare[0]
    capitalised = bool(_CAPITALISED.match(first)) and first[0].isupper() and not first.isupper()
    return capitalised and all(_LABEL_WORD.match(w) for w in bare)


def _quoted_value_is_not_literal(value: str, quote: str, key_upper: bool) -> bool:
    """A quoted value that is no literal secret: code between two string literals (the value
    starts or ends with the *other* quote and a concatenation operator), a template with
    interpolations, a version range (``"jsonwebtoken": "^9.0.2"``), a dotted reference
    under an upper-case settings key (``PUSH_CREDENTIALS = "aggregator.utils.push"``), a UI
    label, or a sentence (a message under a key such as ``no_secret``: four or more words,
    three of them plain, with punctuation or a capitalised first word). Passphrases of
    lower-case words without punctuation stay secrets."""
    inner = value.strip()
    if _BETWEEN_LITERALS.match(value):
        return True
    if (inner[:1] in "\"'`" and inner[:1] != quote) or (
        inner[-1:] in "\"'`" and inner[-1:] != quote
    ):
        stripped = inner.strip("\"'`")
        if _CONCATENATION.search(stripped):
            return True
    if _INTERPOLATION.search(value) or _VERSION.match(value):
        return True
    # A settings constant naming an import path: PUSH_CREDENTIALS = "aggregator.utils.push".
    dotted = "." in value and _IDENTIFIER_PATH.match(value)
    if key_upper and dotted and word_coverage(value) >= 0.8:
        return True
    words = value.split()
    if _is_natural_language(value, words):
        return True
    if len(words) >= 4:
        plain = sum(bool(_WORD.match(w.strip(",.;:!?()'\"`"))) for w in words)
        punctuated = any(c in value for c in ",.!?:")
        if plain >= 3 and (punctuated or words[0][:1].isupper()):
            return True
    return False


def _bare_value_is_secret(m: re.Match[str], text: str, value: str) -> bool:
    """An unquoted value is code (``password = user.password``, ``token: str``) more often than
    a literal; it counts as a secret when it cannot be code, or in ``KEY=value`` env style."""
    after = text[m.end() : m.end() + 1]
    if after in ("(", "[", ".") or value.isdigit():
        return False
    if _GENERIC_TYPE.match(value):
        return False  # a type: `password: CreationOptional<string>`
    if not _IDENTIFIER_PATH.match(value):
        return True  # symbols: p@ss!, base64, URLs with tokens
    if "." in value:
        return False  # attribute access: settings.SECRET_KEY
    op, keyword = m.group("op"), text[m.start() : m.start("op")]
    # PASSWORD=hunter in .env files and shells: no spaces around "=" (code has them).
    env_style = op == "=" and keyword.isupper() and text[m.start("op") - 1 : m.start("op")] != " "
    mixed = any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
    return env_style or (op != "==" and mixed)
