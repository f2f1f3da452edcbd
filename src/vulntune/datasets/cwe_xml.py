"""Reading MITRE's CWE catalogue XML (schema ``cwe-7``) into plain records.

The XML holds weaknesses, categories and views. Descriptions and demonstrative examples are
XHTML fragments; code examples use ``<xhtml:br/>`` for line breaks and nested
``<xhtml:div style="margin-left:1em;">`` for indentation, which :func:`render_code` turns
back into source text (four spaces per ``em``). Prose becomes plain text: paragraphs and
list items on their own lines, whitespace collapsed.

This module only parses; :mod:`vulntune.datasets.cwe_catalogue` holds the records, the
lookup API and the cache.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vulntune.errors import VulntuneError

CWE_NS = "{http://cwe.mitre.org/cwe-7}"
XHTML_NS = "{http://www.w3.org/1999/xhtml}"
INDENT = "    "  # one margin-left em of a code example
RESEARCH_VIEW = "1000"

EntryKind = Literal["weakness", "category", "view"]
_KINDS: dict[str, EntryKind] = {
    f"{CWE_NS}Weakness": "weakness",
    f"{CWE_NS}Category": "category",
    f"{CWE_NS}View": "view",
}


class CatalogueError(VulntuneError):
    """The CWE catalogue file is missing, unreadable or not a CWE catalogue."""


@dataclass(frozen=True, slots=True)
class Consequence:
    """One ``Common_Consequences/Consequence``: the security properties it touches (scopes,
    e.g. "Confidentiality"), what an attacker gains (impacts, e.g. "Read Application Data")."""

    scopes: tuple[str, ...]
    impacts: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """One ``Example_Code`` of a demonstrative example, rendered back to source text.
    ``nature`` is MITRE's: Bad, Good, Attack, Result, Informative (others may appear)."""

    nature: str
    language: str | None
    code: str


@dataclass(frozen=True, slots=True)
class DemoExample:
    """A demonstrative example: its intro text, then body texts and code blocks in order."""

    intro: str
    parts: tuple[str | CodeBlock, ...]
    example_id: str | None = None  # "DX-209"; not every example has one


@dataclass(frozen=True, slots=True)
class CweEntry:
    """One weakness, category or view of the catalogue.

    ``parents`` are the ChildOf targets in view 1000 (Research Concepts), primary first; an
    entry with none there takes the primary ChildOf of each other view. ``members`` are the
    Has_Member targets of a category or view. ``mapping_usage`` is MITRE's verdict on using
    the id to classify a vulnerability (Allowed, Allowed-with-Review, Discouraged,
    Prohibited)."""

    id: int
    name: str
    kind: EntryKind
    status: str
    abstraction: str | None = None  # weaknesses: Pillar, Class, Base, Variant, Compound
    description: str = ""
    extended_description: str = ""
    consequences: tuple[Consequence, ...] = ()
    parents: tuple[int, ...] = ()
    members: tuple[int, ...] = ()
    demonstrative_examples: tuple[DemoExample, ...] = ()
    mapping_usage: str | None = None
    likelihood: str | None = None  # Likelihood_Of_Exploit: High, Medium, Low, Unknown


@dataclass(frozen=True, slots=True)
class ParsedCatalogue:
    """The whole catalogue file: its version and date and every entry, in file order."""

    version: str
    date: str
    entries: tuple[CweEntry, ...]


def parse_catalogue(path: Path) -> ParsedCatalogue:
    """Parse a CWE catalogue XML file (``cwec_v4.*.xml``). Raises CatalogueError naming the
    file when it cannot be read or is not a CWE catalogue."""
    entries: list[CweEntry] = []
    version = date = ""
    try:
        for event, elem in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                if elem.tag == f"{CWE_NS}Weakness_Catalog":
                    version, date = elem.get("Version", ""), elem.get("Date", "")
                continue
            kind = _KINDS.get(elem.tag)
            if kind is not None:
                try:
                    entries.append(_entry(elem, kind))
                except CatalogueError as exc:
                    raise CatalogueError(f"{path}: {exc}") from None
                elem.clear()  # keeps memory flat: each entry is done once it ends
            elif elem.tag == f"{CWE_NS}External_References":
                elem.clear()
    except OSError as exc:
        raise CatalogueError(f"cannot read CWE catalogue {path}: {exc.strerror}") from None
    except ET.ParseError as exc:
        raise CatalogueError(f"CWE catalogue {path} is not well-formed XML: {exc}") from None
    if not version or not entries:
        raise CatalogueError(
            f"{path} is not a CWE catalogue: no Weakness_Catalog element in the "
            f"{CWE_NS[1:-1]} namespace with weaknesses"
        )
    return ParsedCatalogue(version=version, date=date, entries=tuple(entries))


def _entry(elem: ET.Element, kind: EntryKind) -> CweEntry:
    cwe_id = _number(elem, "ID", kind)
    if kind == "weakness":
        description = _child_prose(elem, "Description")
    elif kind == "category":
        description = _child_prose(elem, "Summary")
    else:
        description = _child_prose(elem, "Objective")
    usage = elem.find(f"{CWE_NS}Mapping_Notes/{CWE_NS}Usage")
    likelihood = elem.find(f"{CWE_NS}Likelihood_Of_Exploit")
    return CweEntry(
        id=cwe_id,
        # A few names end in a space in MITRE's XML (CWE-280, 600, 1290): the name is written
        # into completions and compared after parsing, which strips lines.
        name=" ".join(elem.get("Name", "").split()),
        kind=kind,
        status=elem.get("Status", ""),
        abstraction=elem.get("Abstraction"),
        description=description,
        extended_description=_child_prose(elem, "Extended_Description"),
        consequences=tuple(_consequences(elem)),
        parents=_parents(elem),
        members=tuple(
            _number(m, "CWE_ID", f"member of {cwe_id}") for m in elem.iter(f"{CWE_NS}Has_Member")
        ),
        demonstrative_examples=tuple(
            _example(x) for x in elem.iter(f"{CWE_NS}Demonstrative_Example")
        ),
        mapping_usage=(usage.text or "").strip() or None if usage is not None else None,
        likelihood=(likelihood.text or "").strip() or None if likelihood is not None else None,
    )


def _number(elem: ET.Element, attribute: str, where: str) -> int:
    value = elem.get(attribute, "")
    if not value.isdigit():
        raise CatalogueError(
            f"not a CWE catalogue: {where} has {attribute}={value!r}, not a number"
        )
    return int(value)


def _parents(elem: ET.Element) -> tuple[int, ...]:
    research: list[tuple[bool, int]] = []
    primary_elsewhere: list[int] = []
    for rel in elem.iter(f"{CWE_NS}Related_Weakness"):
        if rel.get("Nature") != "ChildOf":
            continue
        target = _number(rel, "CWE_ID", f"a ChildOf of {elem.get('ID')}")
        is_primary = rel.get("Ordinal") == "Primary"
        if rel.get("View_ID") == RESEARCH_VIEW:
            research.append((not is_primary, target))
        elif is_primary and target not in primary_elsewhere:
            primary_elsewhere.append(target)
    if research:
        # Stable sort: the primary parent first, the others in file order.
        return tuple(dict.fromkeys(t for _, t in sorted(research, key=lambda p: p[0])))
    return tuple(primary_elsewhere)


def _consequences(elem: ET.Element) -> list[Consequence]:
    found = []
    for c in elem.iter(f"{CWE_NS}Consequence"):
        note = c.find(f"{CWE_NS}Note")
        found.append(
            Consequence(
                scopes=tuple(_text(s) for s in c.findall(f"{CWE_NS}Scope")),
                impacts=tuple(_text(i) for i in c.findall(f"{CWE_NS}Impact")),
                note=prose(note) or None if note is not None else None,
            )
        )
    return found


def _example(elem: ET.Element) -> DemoExample:
    intro = ""
    parts: list[str | CodeBlock] = []
    for child in elem:
        if child.tag == f"{CWE_NS}Intro_Text":
            intro = prose(child)
        elif child.tag == f"{CWE_NS}Body_Text":
            if text := prose(child):
                parts.append(text)
        elif child.tag == f"{CWE_NS}Example_Code":
            parts.append(
                CodeBlock(
                    nature=child.get("Nature", ""),
                    language=child.get("Language"),
                    code=render_code(child),
                )
            )
    return DemoExample(
        intro=intro, parts=tuple(parts), example_id=elem.get("Demonstrative_Example_ID")
    )


def _child_prose(elem: ET.Element, tag: str) -> str:
    child = elem.find(f"{CWE_NS}{tag}")
    return prose(child) if child is not None else ""


def _text(elem: ET.Element) -> str:
    return " ".join("".join(elem.itertext()).split())


# --------------------------------------------------------------------------------------------
# XHTML -> text
# --------------------------------------------------------------------------------------------

_BLOCKS = frozenset(f"{XHTML_NS}{t}" for t in ("p", "div", "li", "ul", "ol", "tr", "table"))
_CELLS = frozenset((f"{XHTML_NS}td", f"{XHTML_NS}th"))
_MARGIN = re.compile(r"margin-left\s*:\s*(\d+)\s*em")
_LAYOUT_SPACE = re.compile(r"[ \t]*[\r\n]\s*")  # whitespace that only indents the XML file


def prose(elem: ET.Element) -> str:
    """An XHTML text element as plain text: one line per paragraph or list item (items
    start with "- "), whitespace inside a line collapsed."""
    lines: list[str] = []
    current: list[str] = []

    def flush() -> None:
        line = " ".join("".join(current).split())
        if line:
            lines.append(line)
        current.clear()

    def walk(node: ET.Element) -> None:
        block = node.tag in _BLOCKS
        if block or node.tag == f"{XHTML_NS}br":
            flush()
        if node.tag == f"{XHTML_NS}li":
            current.append("- ")
        if node.text:
            current.append(node.text)
        cells = 0
        for child in node:
            if child.tag in _CELLS:
                current.append(" | " if cells else "")
                cells += 1
            walk(child)
            if child.tail:
                current.append(child.tail)
        if block:
            flush()

    walk(elem)
    flush()
    return "\n".join(lines)


def render_code(elem: ET.Element) -> str:
    """An ``Example_Code`` element as source text.

    ``<br/>`` ends a line; a ``<div>`` starts and ends one; each ``margin-left:Nem`` div
    indents its lines N more levels of :data:`INDENT`; ``<i>``/``<b>`` are plain text; table
    rows become lines with cells joined by " | ". Whitespace that only lays out the XML file
    (a run containing a newline) counts as one space and is dropped at line ends; other
    spaces and tabs are kept as written, since code aligns with them."""
    lines: list[str] = []
    current: list[str] = []
    levels: list[int] = [0]

    def add(text: str | None) -> None:
        if text:
            current.append(_LAYOUT_SPACE.sub("\0", text))

    def end_line(force: bool) -> None:
        # "\0" marks layout whitespace: dropped at the line's edges, one space inside it.
        line = re.sub(" ?\0+ ?", " ", "".join(current).strip("\0")).rstrip()
        current.clear()
        if line.strip():
            lines.append(INDENT * levels[-1] + line)
        elif force:
            lines.append("")

    def walk(node: ET.Element) -> None:
        tag = node.tag
        if tag == f"{XHTML_NS}br":
            end_line(force=True)
            return
        block = tag in _BLOCKS
        if block:
            end_line(force=False)
            margin = _MARGIN.search(node.get("style", ""))
            levels.append(levels[-1] + (int(margin.group(1)) if margin else 0))
        add(node.text)
        cells = 0
        for child in node:
            if child.tag in _CELLS:
                current.append(" | " if cells else "")
                cells += 1
            walk(child)
            add(child.tail)
        if block:
            end_line(force=False)
            levels.pop()

    walk(elem)
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)
