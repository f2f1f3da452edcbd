"""Cleaning the tool-written text that goes into a prompt: one line, and no CWE answer.

A prompt never contains its own answer. Scanners often append CWE references to their
messages and rule ids (Semgrep: ``... CWE-89: Improper Neutralization of Special Elements
used in an SQL Command ('SQL Injection')``; others ``(CWE-78)``, ``[CWE-798]``,
``cwe_89``, ``[CWE-79](https://cwe.mitre.org/...)``). :func:`strip_cwe_references` removes

- every CWE id, in any of those forms, with the catalogue name that follows it
  (``CWE-89: <name>``, ``CWE-89 - <name>``) or precedes it (``<name> (CWE-89)``), or, after
  ``CWE-<n>:``, the title-cased phrase that stands for the name when a scanner quotes an
  older name than the catalogue's;
- links to ``cwe.mitre.org``;
- the finding's own CWE names where they stand alone, when they are five words or longer.
  Shorter names ("Server-Side Request Forgery (SSRF)", "Missing Authorization") are the
  everyday words a tool uses for its finding and are kept, as the tool's message is an
  input the model also sees at inference;

and then tidies what is left: empty brackets, dangling separators, doubled spaces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

NameLookup = Callable[[int], str | None]

# "CWE-89", "CWE 89", "cwe_89", "CWE:89", "CWE-089", "CWE-ID 89", "CWE #89".
_ID = r"(?<![A-Za-z0-9])cwe(?:[\s_:#-]{0,3}id)?[\s_:#-]{0,3}0*(\d{1,6})(?!\d)"
_ID_RE = re.compile(_ID, re.I)
_ID_LIST_RE = re.compile(rf"{_ID}(?:\s*(?:,|/|;|&|\band\b|\bor\b)\s*{_ID})*", re.I)
_LINK_RE = re.compile(r"\[([^\]\n]*)\]\(([^)\s]*)\)")
_URL_RE = re.compile(r"https?://cwe\.mitre\.org(?:/[^\s)\]>\"'<]*[^\s)\]>\"'<.,;:])?/?", re.I)
_SMALL_WORDS = "of|in|to|the|a|an|used|for|with|without|and|or|by|from|on|into|via|through|as"
_TITLE_PHRASE = re.compile(
    rf"(?:[A-Z0-9][\w'’/-]*|\([^()\n]{{1,60}}\))"
    rf"(?:\s+(?:[A-Z0-9][\w'’/-]*|(?:{_SMALL_WORDS})(?!\w)|\([^()\n]{{1,60}}\)))*"
)
_COLON = re.compile(r"\s*:\s*")
_SEPARATORS = "._/"
_MIN_STANDALONE_WORDS = 5


def one_line(text: str | None) -> str | None:
    """``text`` with every run of whitespace (newlines included) made one space, or None
    when nothing is left: a newline in a message must not start a fake ``Key:`` line."""
    if text is None:
        return None
    line = " ".join(text.split())
    return line or None


def referenced_cwe_ids(text: str) -> list[int]:
    """The CWE numbers written in ``text``, in order, each once."""
    return list(dict.fromkeys(int(m.group(1)) for m in _ID_RE.finditer(text)))


def strip_cwe_references(text: str, name_of: NameLookup, own_ids: Iterable[int] = ()) -> str:
    """``text`` on one line without CWE ids, CWE links and CWE names (see the module
    docstring). ``name_of`` gives the catalogue name of an id; ``own_ids`` are the
    finding's CWEs, whose long names are removed wherever they appear."""
    text = original = " ".join(text.split())
    text = _LINK_RE.sub(_unlink, text)
    text = _URL_RE.sub(" ", text)
    own = list(dict.fromkeys(own_ids))
    for cwe_id in dict.fromkeys([*referenced_cwe_ids(text), *own]):
        name = name_of(cwe_id)
        if name:
            text = _strip_named_reference(text, cwe_id, _name_patterns(name))
    text = _remove_spans(text, [m.span() for m in _ID_LIST_RE.finditer(text)])
    for cwe_id in own:
        name = name_of(cwe_id)
        if name and len(name.split()) >= _MIN_STANDALONE_WORDS:
            alone = _name_patterns(name).alone
            text = _remove_spans(text, [m.span() for m in alone.finditer(text)])
    # Text without any reference stays exactly as the tool wrote it (whitespace aside).
    return original if text == original else _tidy(text)


def _unlink(link: re.Match[str]) -> str:
    """A markdown link that names or points at a CWE becomes its bare text."""
    label, target = link.group(1), link.group(2)
    if _ID_RE.search(label) or _URL_RE.match(target):
        return label
    return link.group(0)


@dataclass(frozen=True)
class _NamePatterns:
    after: re.Pattern[str]  # "<sep> <name>" right after an id
    before: re.Pattern[str]  # "<name> (" right before an id
    alone: re.Pattern[str]  # the name as whole words anywhere


@lru_cache(maxsize=2048)
def _name_patterns(name: str) -> _NamePatterns:
    """The compiled patterns of a catalogue name: any case and spacing, any quote
    characters, and the trailing short form ("('SQL Injection')") optional."""
    main, short = name, None
    match = re.fullmatch(r"(.*?)\s*(\([^()]*\))", name)
    if match:
        main, short = match.group(1), match.group(2)

    def words(part: str) -> str:
        escaped = r"\s+".join(re.escape(word) for word in part.split())
        return re.sub("['\"‘’“”]", lambda _: "['\"‘’“”]", escaped)

    pattern = words(main)
    if short:
        pattern += rf"(?:\s*{words(short)})?"
    return _NamePatterns(
        after=re.compile(rf"\s*(?:[:\-–—]\s*)?{pattern}", re.I),
        before=re.compile(rf"({pattern})\s*[(\[]\s*$", re.I),
        alone=re.compile(rf"(?<!\w){pattern}(?!\w)", re.I),
    )


def _strip_named_reference(text: str, cwe_id: int, name: _NamePatterns) -> str:
    """Remove ``CWE-<id> <sep> <name>``, ``<name> (CWE-<id>)`` and, when the name after
    ``CWE-<id>:`` is not the catalogue's, the title-cased phrase standing for it."""
    spans: list[tuple[int, int]] = []
    for match in _ID_RE.finditer(text):
        if int(match.group(1)) != cwe_id:
            continue
        start, end = match.span()
        if (named := name.after.match(text, end)) is not None:
            spans.append((start, named.end()))
        elif (colon := _COLON.match(text, end)) is not None and (
            title := _TITLE_PHRASE.match(text, colon.end())
        ) is not None:
            spans.append((start, title.end()))
        elif (prefix := name.before.search(text, 0, start)) is not None:
            spans.append(prefix.span(1))  # the brackets go once the id has gone
    return _remove_spans(text, spans)


def _remove_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Cut the spans out; where an identifier loses a part (``java.cwe-89.sqli``), one of
    the two separators around it goes too (``java.sqli``)."""
    for start, end in sorted(spans, reverse=True):
        left = text[start - 1 : start]
        right = text[end : end + 1]
        if left and left in _SEPARATORS and (not right or right in _SEPARATORS):
            start -= 1
        elif not left and right and right in _SEPARATORS:
            end += 1
        text = text[:start] + " " + text[end:]
    return text


_EMPTY_BRACKETS = re.compile(r"\(\s*[,;:/&|-]*\s*\)|\[\s*[,;:/&|-]*\s*\]")
_DANGLING_LABEL = re.compile(r"(?<![A-Za-z0-9])CWEs?(?:\s*ids?)?\s*:?(?=\s*(?:$|[.,;)\]]))", re.I)


def _tidy(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _EMPTY_BRACKETS.sub(" ", text)
        text = _DANGLING_LABEL.sub(" ", text)
        text = re.sub(r"\s+([.,;:!?)\]])", r"\1", text)
        text = re.sub(r"([(\[])\s+", r"\1", text)
        text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
        text = re.sub(r"[,;:]\s*\.", ".", text)
        text = re.sub(r"\.\s+\.(?!\.)", ".", text)
        text = " ".join(text.split())
        text = re.sub(r"^[\s,;:|–—-]+|[\s,;:|–—-]+$", "", text)
    return text
