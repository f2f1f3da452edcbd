"""Unified diffs as ``datasets/builtin/README.md`` defines them: make, parse, apply,
locate as SARIF regions, normalise.

Pure Python, so that building and checking thousands of fixes takes seconds. A text is a
list of lines split on ``"\\n"`` only; each line keeps its newline, and a last line without
one is marked in diffs with ``\\ No newline at end of file``. A ``"\\r"`` before the newline
belongs to the line, as in git.

Applying follows ``git apply`` without options:

- context and removed lines must match exactly: no whitespace leniency, no fuzz;
- hunks apply in order, each to the text the earlier ones left; a hunk whose stated position
  (its new start) does not match is searched for at the nearest lines, alternately after and
  before it, as git's ``find_pos`` does;
- a hunk that starts at line 0 or 1 must match at the start of the file, and a hunk without
  trailing context at its end (how git tells "the first/last lines" from "some lines");
- the counts in each hunk header must agree with the hunk body, unless ``recount=True``
  (``git apply --recount``), which ignores them.

One difference from git: lines after a hunk whose header counts are already used up are
read as part of the hunk (git ignores them as trailing garbage), so a header that
undercounts its body is reported instead of silently applying half of the hunk.
"""

from vulntune.datasets.unified_diff.apply import ApplyResult, apply_check, apply_patch, locate_hunk
from vulntune.datasets.unified_diff.model import (
    NO_NEWLINE,
    DiffParseError,
    FilePatch,
    Hunk,
    HunkLine,
    LineKind,
    Patch,
    PatchApplyError,
    split_lines,
)
from vulntune.datasets.unified_diff.parse import parse_diff
from vulntune.datasets.unified_diff.regions import (
    ColumnKind,
    Replacement,
    apply_replacements,
    hunk_replacements,
)
from vulntune.datasets.unified_diff.write import make_diff, normalise_diff

__all__ = [
    "NO_NEWLINE",
    "ApplyResult",
    "ColumnKind",
    "DiffParseError",
    "FilePatch",
    "Hunk",
    "HunkLine",
    "LineKind",
    "Patch",
    "PatchApplyError",
    "Replacement",
    "apply_check",
    "apply_patch",
    "apply_replacements",
    "hunk_replacements",
    "locate_hunk",
    "make_diff",
    "normalise_diff",
    "parse_diff",
    "split_lines",
]
