"""Is a string a random secret, a placeholder, or words? The tests behind the high-entropy
detector and the assignment rule of :mod:`vulntune.findings.secrets.patterns` (its module
docs give the rules and their measured limits).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

MIN_ENTROPY_LENGTH = 20
_NOT_SECRET_VALUES = frozenset(
    {
        *("none", "null", "nil", "true", "false", "undefined", "str", "string", "int", "bytes"),
        *("bool", "optional", "any", "object", "required", "changeit", "redacted", "hidden"),
        *("masked", "xxx", "xxxx", "xxxxx"),
        # JavaScript type names (`typeof x.token == "function"`) and fetch()'s credentials
        # modes (`{credentials: 'same-origin'}`).
        *("function", "number", "boolean", "symbol", "bigint", "same-origin", "omit"),
    }
)
_HEXISH = re.compile(r"[0-9a-fA-F-]+\Z")
_LETTER_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_DIGIT_PARTS = re.compile(r"(?:^|(?<=[/_.+-]))[0-9]+(?=[/_.+-]|$)")
_SEPARATORS = re.compile(r"[/_.+-]+")
_NAME_PART = re.compile(r"[A-Za-z]*[0-9]*\Z")
_CONSONANT_RUN = re.compile(r"[bcdfghjklmnpqrstvwxz]{4}")
_VOWELS = frozenset("aeiouy")


def is_placeholder(value: str) -> bool:
    """True for values that stand for a secret without being one: ``${VAR}``, ``<token>``,
    ``changeit``, ``os.environ[...]``, masks such as ``****``."""
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
    if n < MIN_ENTROPY_LENGTH or _HEXISH.match(token):
        return False
    if not any(map(str.isdigit, token)) or not any(map(str.isalpha, token)):
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
        vowels = sum(map(_VOWELS.__contains__, low))
        if len(low) >= 3 and vowels >= 0.2 * len(low) and not _CONSONANT_RUN.search(low):
            covered += len(word)
    covered += sum(map(len, _DIGIT_PARTS.findall(token)))
    sequential = sum(b - a == 1 for a, b in itertools.pairwise(map(ord, token)))
    return max(covered, sequential) / len(token)
