"""The enclosing function, class or block of a source line, by heuristics.

Indentation for Python and Ruby (``def``/``class``/``module``); for C-family languages, Go,
Rust, Kotlin, Swift, Scala, JavaScript/TypeScript, PHP and Terraform, brace matching
backwards from the line plus a signature pattern at each unmatched ``{`` (control blocks
such as ``if``/``for`` are passed over to the block around them; Allman-style braces and
signatures wrapped over up to three lines are joined). Braces and quotes inside comments,
multi-line strings and regex literals can mislead the scan; then ``None`` or an outer block
is reported. Other languages (YAML, XML, ...) get ``None``.
"""

from __future__ import annotations

import posixpath
import re

_INDENT_LANGS = {
    ".py": re.compile(r"\s*(?:async\s+def|def|class)\s+\w"),
    ".pyi": re.compile(r"\s*(?:async\s+def|def|class)\s+\w"),
    ".rb": re.compile(r"\s*(?:def|class|module)\s+\S"),
}
_BRACE_EXTENSIONS = frozenset((
    ".java", ".kt", ".kts", ".scala", ".groovy", ".gradle", ".js", ".jsx", ".mjs", ".cjs", ".ts",
    ".tsx", ".go", ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".cs", ".php", ".rs", ".swift",
    ".dart", ".m", ".mm", ".tf", ".hcl",
))  # fmt: skip
_CONTROL = frozenset((
    "if", "for", "while", "switch", "catch", "synchronized", "return", "else", "do", "try",
    "using", "lock", "foreach", "when", "with", "elif", "unless", "until", "match", "select",
))  # fmt: skip
_SIGNATURE_KEYWORD = re.compile(
    r"\b(?:class|interface|enum|struct|trait|impl|object|record|namespace|module|func|fun|fn|"
    r"function|def|constructor|init)\b"
)
_CALL_LIKE = re.compile(r"(\w+)\s*(?:<[^>]*>)?\s*\([^;]*\)?[^;]*$")
_ARROW = re.compile(r"(?:\w+)\s*[:=]\s*(?:async\s*)?(?:\([^)]*\)|\w+)\s*(?::\s*[\w<>\[\]]+\s*)?=>")
_TERRAFORM = re.compile(r"\s*(?:resource|data|module|variable|output|provider|locals|terraform)\b")
_STRINGS = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|`[^`]*`")
_MAX_SCAN_LINES = 5000


def enclosing_block(relative: str, lines: list[str], line_number: int) -> str | None:
    """The signature line of the function/class/block around ``line_number`` (1-based), or
    None when the language is not handled or nothing is found."""
    extension = posixpath.splitext(relative)[1].lower()
    if extension in _INDENT_LANGS:
        return _enclosing_by_indent(lines, line_number, _INDENT_LANGS[extension])
    if extension in _BRACE_EXTENSIONS:
        return _enclosing_by_braces(lines, line_number)
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _enclosing_by_indent(
    lines: list[str], line_number: int, signature: re.Pattern[str]
) -> str | None:
    target = lines[line_number - 1]
    level = _indent(target) if target.strip() else 1 << 30
    if signature.match(target) and target.strip():
        level = _indent(target)  # a flagged signature line: report what encloses it
    for index in range(line_number - 2, max(-1, line_number - 2 - _MAX_SCAN_LINES), -1):
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "@")):
            continue
        indent = _indent(line)
        if indent < level:
            if signature.match(line):
                return stripped.rstrip(":").rstrip()
            level = indent
            if level == 0:
                return None
    return None


def _enclosing_by_braces(lines: list[str], line_number: int) -> str | None:
    """Walk back from the line above ``line_number`` counting braces; at each unmatched ``{``
    decide whether it opens a declaration (return its signature) or a control block (go on
    to the block around it)."""
    depth = 0
    for index in range(line_number - 2, max(-1, line_number - 2 - _MAX_SCAN_LINES), -1):
        raw = lines[index]
        if "{" not in raw and "}" not in raw:
            continue  # most lines: no regex, no character loop
        code = _STRINGS.sub('""', raw.split("//", 1)[0])
        for pos in range(len(code) - 1, -1, -1):
            if code[pos] == "}":
                depth += 1
            elif code[pos] == "{":
                if depth > 0:
                    depth -= 1
                    continue
                signature = _signature_for_brace(lines, index, code[:pos])
                if signature is not None:
                    return signature
    return None


def _signature_for_brace(lines: list[str], index: int, before_brace: str) -> str | None:
    """The signature of the block opened on line ``index`` (0-based) after ``before_brace``,
    or None for control blocks (if/for/...), object literals and other non-declarations."""
    head = before_brace.strip()
    original = lines[index].strip()
    back = index
    # A brace alone on its line (Allman style) or a signature wrapped over lines: join up to
    # three previous lines until the parentheses balance.
    while back > 0 and index - back < 3 and (not head or head.count("(") < head.count(")")):
        back -= 1
        previous = _STRINGS.sub('""', lines[back].split("//", 1)[0]).strip()
        if not previous or previous.endswith((";", "}", "{")):
            break
        head = f"{previous} {head}".strip()
        original = f"{lines[back].strip()} {original}"
    if not head or head.startswith(("}", "=", "(")) or head.endswith(("=", ",", "(", ":", "?")):
        return None
    first_word = re.match(r"[\w$]+", head.lstrip("} "))
    if first_word and first_word.group(0) in _CONTROL:
        return None
    declaration = _TERRAFORM.match(head) or _SIGNATURE_KEYWORD.search(head) or _ARROW.search(head)
    if not declaration:
        call = _CALL_LIKE.search(head)
        declaration = call and call.group(1) not in _CONTROL and "=" not in head.split("(", 1)[0]
    return original.rstrip("{ ").rstrip() if declaration else None
