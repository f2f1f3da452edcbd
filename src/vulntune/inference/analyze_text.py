"""The words `analyze` adds to a finding: as plain text and as Markdown, escaped.

Plain text goes where viewers show text only (SARIF ``message.text``, the one result text
GitHub code scanning shows); Markdown goes to SARIF ``message.markdown`` and the pull-request
report. Everything the scanner or the model wrote is untrusted: in Markdown it is escaped so
that it cannot add links, images, HTML, headings or @-mentions, and diffs sit in a fence
longer than any run of backticks inside them.
"""

from __future__ import annotations

import html
import re

from vulntune.inference.analyze import FindingAnalysis
from vulntune.inference.analyze_fix import SuggestedFix

# Abbreviations whose full stop does not end a sentence.
_ABBREVIATIONS = ("e.g", "i.e", "etc", "vs", "cf", "approx", "incl", "no", "fig", "mr", "dr")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")
# Backslash-escaped: the characters that make Markdown syntax anywhere in a line.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def first_sentence(text: str) -> tuple[str, str]:
    """``text`` split after its first sentence: (first sentence, the rest), both stripped.
    A sentence ends at ``.``, ``!`` or ``?`` followed by white space or the end, or at a line
    break; a full stop after a common abbreviation ("e.g.") or inside a number does not end it."""
    text = text.strip()
    for match in _SENTENCE_END.finditer(text):
        if match.group(0) == ".":
            word = text[: match.start()].rsplit(None, 1)[-1].lower() if match.start() else ""
            if word.strip("(").rstrip(".") in _ABBREVIATIONS:
                continue
        end = match.end() if match.group(0) != "\n" else match.start()
        head, rest = text[:end].strip(), text[match.end() :].strip()
        if head:
            return head, rest
    return text, ""


def one_line(text: str) -> str:
    """``text`` with every run of white space (newlines included) made one space."""
    return " ".join(text.split())


def escape_markdown(text: str) -> str:
    """``text`` as literal Markdown on one line: HTML and Markdown syntax escaped, @-mentions
    and #-references defused, line breaks made spaces."""
    escaped = html.escape(one_line(text), quote=False)
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", escaped)
    return escaped.replace("@", "&#64;")


def code_fence(body: str, language: str = "") -> str:
    """``body`` in a fenced code block whose fence is longer than any backtick run in it."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{body.rstrip(chr(10))}\n{fence}"


def classification(analysis: FindingAnalysis) -> str | None:
    """``CWE-89 Improper Neutralization ...`` (name from the catalogue), or None."""
    if analysis.cwe is None:
        return None
    return f"{analysis.cwe} {analysis.cwe_name}" if analysis.cwe_name else analysis.cwe


def analysis_text(
    analysis: FindingAnalysis | None, fix: SuggestedFix | None, model_label: str
) -> str:
    """The analysis as plain lines: who wrote it, classification, severity and category,
    root cause, impact, and the suggested fix when its diff applies."""
    lines = [f"AI analysis (vulntune, {one_line(model_label)}):"]
    if analysis is not None:
        facts = [
            fact
            for fact in (
                classification(analysis),
                f"severity {analysis.severity}" if analysis.severity else None,
                f"category {analysis.category}" if analysis.category else None,
            )
            if fact
        ]
        if facts:
            lines.append("; ".join(facts) + ".")
        if analysis.root_cause:
            lines.append(f"Root cause: {one_line(analysis.root_cause)}")
        if analysis.impact:
            lines.append(f"Impact: {one_line(analysis.impact)}")
    if fix is not None and fix.applies:
        sentence = one_line(fix.sentence) if fix.sentence else "see the attached change"
        lines.append(f"Suggested fix: {sentence} (the diff applies to the scanned code)")
    return "\n".join(lines)


def analysis_markdown(
    analysis: FindingAnalysis | None, fix: SuggestedFix | None, model_label: str
) -> str:
    """The analysis as Markdown: a bold heading, the facts, root cause and impact, and the
    fix's sentence and diff (fenced) when the diff applies; all model text escaped."""
    parts = [f"**AI analysis** (vulntune, {escape_markdown(model_label)})"]
    if analysis is not None:
        facts = []
        named = classification(analysis)
        if named:
            facts.append(f"- **Classification:** {escape_markdown(named)}")
        if analysis.severity:
            facts.append(f"- **Severity:** {analysis.severity}")
        if analysis.category:
            facts.append(f"- **Category:** {analysis.category}")
        if analysis.root_cause:
            facts.append(f"- **Root cause:** {escape_markdown(analysis.root_cause)}")
        if analysis.impact:
            facts.append(f"- **Impact:** {escape_markdown(analysis.impact)}")
        if facts:
            parts.append("\n".join(facts))
    if fix is not None and fix.applies:
        sentence = escape_markdown(fix.sentence) if fix.sentence else "Change:"
        parts.append(f"**Suggested fix:** {sentence}\n\n{code_fence(fix.diff, 'diff')}")
    elif fix is not None:
        parts.append(
            "_The model's suggested diff does not apply to the scanned code; it is not shown._"
        )
    return "\n\n".join(parts)
