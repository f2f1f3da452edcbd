"""THE renderer: a Finding as the prompt text of ``builtin/README.md``.

Datasets, evaluation and ``analyze`` all call :func:`render_prompt`, so a model sees at
inference exactly what it saw in training; they record :data:`PROMPT_FORMAT_VERSION` with
what they produce. A prompt never contains its own answer: CWE ids and names are stripped
from the tool's text (:mod:`vulntune.datasets.prompt_text`), and the finding's ``cwe_ids``,
``fix``, ``rule_description`` and ``rule_help`` are never rendered (they are what Stage-1
and Stage-2 targets are made from). The README says what is shown and how.

:func:`code_excerpt` tells callers which lines of which file the ``Code:`` block shows,
so that a diff built for (or checked against) the prompt uses the file's own numbers.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from vulntune.datasets.cwe_catalogue import CweCatalogue, parse_cwe_id
from vulntune.datasets.prompt_text import one_line, strip_cwe_references
from vulntune.findings.record import Finding, FindingKind, Package

PROMPT_FORMAT_VERSION = "vulntune-prompt-v1"
DEFAULT_MAX_CODE_LINES = 40  # the most ContextOptions attaches: 5 + 30 flagged + 5

Task = Literal["analysis", "codefix"]
# The "Key: value" lines of a prompt, in order; "Code:" and its block come last.
FIELD_ORDER = (
    "Tool",
    "Rule",
    "Reported severity",
    "Location",
    "Message",
    "Package",
    "Vulnerability",
    "URL",
    "Evidence",
)
HEADERS: dict[Task, str] = {
    "analysis": "Analyze this security finding.",
    "codefix": "Fix this security finding.",
}
# The README's spelling of the ecosystems it names; others are written as the tool did.
_ECOSYSTEMS = {"pypi": "PyPI", "npm": "npm", "maven": "Maven", "go": "Go", "debian": "debian"}


@dataclass(frozen=True, slots=True)
class CodeExcerpt:
    """The lines a prompt's ``Code:`` block shows. ``first_line`` is the file line of
    ``lines[0]`` (None when a snippet comes without a line number); ``flagged_line`` is the
    line the finding points at when it lies in the block; ``path`` the file they come from."""

    path: str | None
    first_line: int | None
    lines: tuple[str, ...]
    flagged_line: int | None

    @property
    def last_line(self) -> int | None:
        """The file line of the block's last line (None when ``first_line`` is)."""
        return None if self.first_line is None else self.first_line + len(self.lines) - 1


def render_prompt(
    finding: Finding,
    task: Task,
    *,
    max_code_lines: int = DEFAULT_MAX_CODE_LINES,
    catalogue: CweCatalogue | None = None,
) -> str:
    """The prompt for ``finding``: the task line, the ``Key: value`` lines the finding has
    values for, in the README's order, and the ``Code:`` block last. ``catalogue`` names the
    CWEs to strip from the tool's text (loaded once when needed if not given)."""
    if task not in HEADERS:
        raise ValueError(f"task must be one of {tuple(HEADERS)}, not {task!r}")
    excerpt = code_excerpt(finding, max_code_lines=max_code_lines)
    web = finding.web
    scrub = _scrubber(finding, catalogue)
    fields = [
        ("Tool", one_line(finding.tool)),
        ("Rule", scrub(finding.rule_id)),
        ("Reported severity", one_line(finding.original_severity) if task == "analysis" else None),
        ("Location", _location(finding, excerpt)),
        ("Message", scrub(finding.message)),
        ("Package", _package(finding.package)),
        ("Vulnerability", _vulnerability(finding.vulnerability_ids)),
        ("URL", _url(web.method, web.url) if web is not None else None),
        ("Evidence", scrub(web.evidence) if web is not None else None),
    ]
    assert tuple(key for key, _ in fields) == FIELD_ORDER
    lines = [HEADERS[task]] + [f"{key}: {value}" for key, value in fields if value]
    if excerpt is not None:
        lines += ["Code:", *excerpt.lines]
    return "\n".join(lines)


def read_prompt(prompt: str) -> tuple[dict[str, str], str | None]:
    """A rendered prompt read back: its ``Key: value`` lines (the first value of each key,
    stripped) and the text after its ``Code:`` line (None when it has none)."""
    head, found, code = prompt.partition("\nCode:\n")
    values: dict[str, str] = {}
    for line in head.split("\n")[1:]:
        key, sep, value = line.partition(": ")
        if sep and key not in values:
            values[key] = value.strip()
    return values, code if found else None


def render_code_prompt(
    task: Task,
    lines: Sequence[str],
    *,
    language: str | None = None,
    path: str | None = None,
    line: int | None = None,
) -> str:
    """The prompt of an example that has code but no finding (a public vulnerable/fixed
    pair, a CWE catalogue example): the task line, ``Language`` and ``Location`` lines
    when known, and the ``Code:`` block (``lines`` verbatim). The same layout as
    :func:`render_prompt`; ``builtin/README.md`` documents it."""
    if task not in HEADERS:
        raise ValueError(f"task must be one of {tuple(HEADERS)}, not {task!r}")
    out = [HEADERS[task]]
    if (value := one_line(language)) is not None:
        out.append(f"Language: {value}")
    if (where := one_line(path)) is not None:
        out.append(f"Location: {where}:{line}" if line else f"Location: {where}")
    return "\n".join([*out, "Code:", *lines])


def code_excerpt(
    finding: Finding, *, max_code_lines: int = DEFAULT_MAX_CODE_LINES
) -> CodeExcerpt | None:
    """The code block of ``finding``'s prompt, or None when it has none.

    The lines are the finding's code context (for a dependency finding: the manifest
    lines the context gives), else its snippet, verbatim. Blank lines at either edge are
    dropped (a block of blank lines is no block). A block longer than ``max_code_lines``
    keeps a window of that many lines around the flagged line (the flagged region first,
    the rest shared before and after it); a block without a flagged line keeps its first
    lines."""
    if max_code_lines < 1:
        raise ValueError(f"max_code_lines must be at least 1, not {max_code_lines}")
    loc = finding.location
    context = finding.context
    flag: tuple[int, int] | None = None
    if context is not None and context.lines:
        path: str | None = context.path
        first: int | None = context.start_line
        lines = list(context.lines)
        if loc is not None and loc.path and loc.start_line and _same_file(loc.path, context.path):
            flag = (loc.start_line, max(loc.start_line, loc.end_line or loc.start_line))
        elif finding.kind is FindingKind.DEPENDENCY and len(lines) == 1:
            flag = (context.start_line, context.start_line)  # the declaring manifest line
    elif finding.snippet and finding.snippet.strip():
        path = loc.path if loc is not None else None
        first = loc.start_line if loc is not None else None
        lines = [line.removesuffix("\r") for line in finding.snippet.split("\n")]
        if lines[-1] == "":
            lines.pop()
        if loc is not None and loc.start_line:
            flag = (loc.start_line, max(loc.start_line, loc.end_line or loc.start_line))
    else:
        return None
    lo, hi, flagged = _window(lines, first, flag, max_code_lines)
    if lo >= hi:
        return None  # only blank lines
    return CodeExcerpt(
        path=path,
        first_line=None if first is None else first + lo,
        lines=tuple(lines[lo:hi]),
        flagged_line=flagged,
    )


def code_block_start_line(
    finding: Finding, *, max_code_lines: int = DEFAULT_MAX_CODE_LINES
) -> int | None:
    """The file line of the first ``Code:`` line of ``finding``'s prompt; None when the
    prompt has no code block or its first line number is unknown."""
    excerpt = code_excerpt(finding, max_code_lines=max_code_lines)
    return excerpt.first_line if excerpt is not None else None


def _window(
    lines: list[str], first: int | None, flag: tuple[int, int] | None, limit: int
) -> tuple[int, int, int | None]:
    """(lo, hi, flagged line): the half-open slice of ``lines`` to show."""
    region = None
    if flag is not None and first is not None and first <= flag[0] < first + len(lines):
        start = flag[0] - first
        region = (start, min(flag[1] - first, len(lines) - 1, start + limit - 1))
    lo, hi = _without_blank_edges(lines, 0, len(lines), region)
    if hi - lo > limit:
        start = lo
        if region is not None:
            # Centre the flagged region; near an edge the window slides to stay inside.
            spare = limit - (region[1] - region[0] + 1)
            start = max(lo, min(region[0] - spare // 2, hi - limit))
        lo, hi = _without_blank_edges(lines, start, start + limit, region)
    flagged = first + region[0] if region is not None and first is not None else None
    return lo, hi, flagged


def _without_blank_edges(
    lines: list[str], lo: int, hi: int, region: tuple[int, int] | None
) -> tuple[int, int]:
    keep_lo, keep_hi = (region[0], region[0] + 1) if region is not None else (hi, lo)
    while lo < min(hi, keep_lo) and not lines[lo].strip():
        lo += 1
    while hi > max(lo, keep_hi) and not lines[hi - 1].strip():
        hi -= 1
    return lo, hi


def _same_file(a: str, b: str) -> bool:
    return posixpath.normpath(a.replace("\\", "/")) == posixpath.normpath(b.replace("\\", "/"))


def _location(finding: Finding, excerpt: CodeExcerpt | None) -> str | None:
    """``path`` or ``path:line``: the file the code block shows (a dependency finding's
    manifest), else the finding's own location."""
    loc = finding.location
    if excerpt is not None and excerpt.path:
        path = excerpt.path
        same = loc is not None and loc.path is not None and _same_file(loc.path, path)
        line = loc.start_line if same and loc is not None and loc.start_line else None
        line = line or excerpt.flagged_line
    elif loc is not None and loc.path:
        path, line = loc.path, loc.start_line
    else:
        return None
    path = one_line(path)
    if path is None:
        return None
    return f"{path}:{line}" if line else path


def _package(package: Package | None) -> str | None:
    """``<ecosystem> <name> <installed> (fixed in <version>)``, leaving out unknown parts."""
    if package is None or not one_line(package.name):
        return None
    ecosystem = one_line(package.ecosystem)
    if ecosystem is not None:
        ecosystem = _ECOSYSTEMS.get(ecosystem.lower(), ecosystem)
    parts = [ecosystem, one_line(package.name), one_line(package.installed_version)]
    line = " ".join(part for part in parts if part)
    fixed = fixed_version(package)
    return f"{line} (fixed in {fixed})" if fixed else line


def fixed_version(package: Package) -> str | None:
    """The one fixed version a prompt names: the lowest listed version above the installed
    one (the smallest upgrade that fixes it); the first listed when the installed version is
    unknown or none compares above it; None when none is listed."""
    listed = [v for v in (one_line(v) for v in package.fixed_versions) if v]
    if not listed:
        return None
    installed = one_line(package.installed_version)
    if installed is not None:
        above = [v for v in listed if _version_key(v) > _version_key(installed)]
        if above:
            return min(above, key=_version_key)
    return listed[0]


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    # Numbers compare as numbers, words as words; enough to order one package's releases.
    return tuple(
        (1, int(token)) if token.isdigit() else (0, token.lower())
        for token in re.findall(r"\d+|[A-Za-z]+", version)
    )


def _vulnerability(ids: list[str]) -> str | None:
    """The advisory id a prompt names: the first CVE, else the first GHSA, else the first."""
    cleaned = [v for v in (one_line(i) for i in ids) if v]
    for prefix in ("CVE-", "GHSA-"):
        for vuln_id in cleaned:
            if vuln_id.upper().startswith(prefix):
                return vuln_id
    return cleaned[0] if cleaned else None


def _url(method: str | None, url: str) -> str | None:
    target = one_line(url)
    if target is None:
        return None
    verb = one_line(method)
    return f"{verb.upper()} {target}" if verb else target


def _scrubber(
    finding: Finding, catalogue: CweCatalogue | None
) -> Callable[[str | None], str | None]:
    """The function that cleans one text field of ``finding`` (see prompt_text)."""
    own = [i for i in (parse_cwe_id(c) for c in finding.cwe_ids) if i is not None]
    loaded: list[CweCatalogue] = [catalogue] if catalogue is not None else []

    def name_of(cwe_id: int) -> str | None:
        if not loaded:
            loaded.append(CweCatalogue.load())
        return loaded[0].name(cwe_id)

    def scrub(text: str | None) -> str | None:
        line = one_line(text)
        if line is None:
            return None
        if own or "cwe" in line.lower():
            line = strip_cwe_references(line, name_of, own)
        return line or None

    return scrub
