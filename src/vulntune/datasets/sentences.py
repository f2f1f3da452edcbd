"""Plain sentences from tool and catalogue text, for the Root cause and Impact lines.

Scanner messages, rule help and advisory details are Markdown or HTML written for people
reading a web page. :func:`clean_text` makes them one plain line: links become their label,
bare URLs, HTML tags, Markdown emphasis, headings, list markers and code marks go, HTML
entities are decoded. :func:`sentences` splits the result into sentences, leaving out
boilerplate ("See more at ...", "References:", "Learn more ...") and, when asked, advice
("Use ... instead", "Consider ..."): a root cause says what is wrong, not what to do.
:func:`pick_sentences` takes the first few distinct sentences of several sources.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

_LINK = re.compile(r"!?\[([^\]\n]*)\]\(([^)\s]*)(?:\s+\"[^\"]*\")?\)")
# A URL does not take the full stop or comma that ends its sentence.
_URL = re.compile(r"<?\bhttps?://[^\s<>)\]]*[^\s<>)\].,;:!?'\"]>?")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.M)
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.M)
_FENCE = re.compile(r"```.*?(?:```|$)|~~~.*?(?:~~~|$)", re.S)
# A sentence ends at . ! or ? followed by a space and what can start a sentence; not after
# common abbreviations, single initials or inside version numbers ("2.6.1").
_SPLIT = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(\[`])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "incl.", "no.", "fig.")
_BOILERPLATE = re.compile(
    r"^(?:see\b|for more\b|more (?:info|information|details)\b|learn more\b|read more\b|"
    r"references?\b|further reading\b|details:?$|source:|resource:|help:|documentation\b|"
    r"this (?:rule|check|query|policy) (?:is|was) (?:based|adapted)\b)",
    re.I,
)
_ADVICE = re.compile(
    r"^(?:use|consider|instead|to (?:fix|mitigate|remediate|avoid|prevent)|ensure|avoid|do not|"
    r"don't|never|always|prefer|make sure|remediation|recommendation|mitigation|fix|upgrade|"
    r"update|replace|switch|set|pass|call|load|run|validate|sanitize|escape|move|remove|"
    r"rotate|revoke|store|keep|add|enable|disable|apply|configure|pin|bump|it is recommended|"
    r"we recommend|you should)\b",
    re.I,
)
MAX_SENTENCE_CHARS = 300


def clean_text(text: str | None) -> str:
    """``text`` as one plain line (see the module docstring); "" when nothing is left."""
    if not text:
        return ""
    text = _FENCE.sub(" ", text)  # code samples in rule help are not sentences
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _URL.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = _HEADING.sub("", text)
    text = _LIST_MARKER.sub("", text)
    text = _EMPHASIS.sub(lambda m: m.group(2), text)
    text = text.replace("`", "")
    text = " ".join(text.split())
    text = re.sub(r"\(\s*\)|\[\s*\]", " ", text)
    # A space left before punctuation by a removed link or tag; not ".github", "a .env file".
    text = re.sub(r"\s+([.,;:!?])(?=\s|$)", r"\1", text)
    return " ".join(text.split()).strip(" -:;,")


def sentences(text: str | None, *, advice: bool = True) -> list[str]:
    """The sentences of ``text`` after :func:`clean_text`, each ending with ``.``, ``!`` or
    ``?``; boilerplate left out, and advice too unless ``advice``. Sentences longer than
    :data:`MAX_SENTENCE_CHARS` are left out (they are lists or code, not a sentence)."""
    cleaned = clean_text(text)
    if not cleaned:
        return []
    out: list[str] = []
    for piece in _split(cleaned):
        piece = piece.strip(" -:;,")
        if len(piece.split()) < 3 or len(piece) > MAX_SENTENCE_CHARS:
            continue
        if _BOILERPLATE.match(piece) or (not advice and _ADVICE.match(piece)):
            continue
        if piece.rstrip("\"')]")[-1:] not in (".", "!", "?"):
            piece += "."
        out.append(piece)  # the case is the author's: "node-fetch", "subprocess call ..."
    return out


def _split(text: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in _SPLIT.finditer(text):
        # The match starts right after the full stop; a quote or bracket right after it
        # belongs to the sentence before.
        sentence = text[start : match.start()] + match.group(0).strip()
        last_word = text[start : match.start()].rsplit(" ", 1)[-1].lower()
        if last_word in _ABBREVIATIONS or re.fullmatch(r"[a-z]\.", last_word):
            continue
        parts.append(sentence)
        start = match.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _key(sentence: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", sentence.lower()).strip()


def pick_sentences(
    sources: Iterable[list[str]], *, limit: int, max_chars: int, taken: Iterable[str] = ()
) -> list[str]:
    """Up to ``limit`` sentences from ``sources`` in order, at most ``max_chars`` in all,
    skipping a sentence whose words repeat one already picked (or one of ``taken``), or
    are contained in one."""
    seen = [_key(s) for s in taken]
    picked: list[str] = []
    used = 0
    for source in sources:
        for sentence in source:
            key = _key(sentence)
            if not key or any(key in other or other in key for other in seen):
                continue
            cost = len(sentence) + (1 if picked else 0)
            if used + cost > max_chars:
                continue
            picked.append(sentence)
            seen.append(key)
            used += cost
            if len(picked) == limit:
                return picked
    return picked
