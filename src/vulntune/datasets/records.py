"""The records of a dataset build: examples with their metadata, and dropped findings.

An example is one line of ``analysis-*.jsonl`` or ``codefix-*.jsonl``: ``id``, ``prompt``,
``completion`` and ``meta`` (:class:`ExampleMeta`, the facts the example was made from).
``group`` decides the split: examples of one group never straddle train, validation and
test. A finding that gives no example for a task is a :class:`DroppedFinding` with the
reason, so that every finding of the input is accounted for in ``stats.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from vulntune.datasets.render import PROMPT_FORMAT_VERSION, Task

# Where an example's facts come from: a scanner finding, MITRE's catalogue, a public pair.
ExampleOrigin = Literal["finding", "catalogue", "pair"]
# Where a Stage-2 reference fix comes from (the order is the order of preference).
FixSource = Literal["history", "tool", "dependency", "pair", "catalogue"]
FIX_SOURCES: tuple[FixSource, ...] = ("history", "tool", "dependency", "pair", "catalogue")
Split = Literal["train", "validation", "test"]
SPLITS: tuple[Split, ...] = ("train", "validation", "test")
TASKS: tuple[Task, ...] = ("analysis", "codefix")
# Where the example's CWE comes from: the tool's own ids, the finding's kind (a committed
# credential without a CWE is CWE-798), a pair record's column, the catalogue entry.
CweSource = Literal["tool", "finding-kind", "pair", "catalogue"]


@dataclass(frozen=True, slots=True)
class ExampleMeta:
    """What an example was made from. Written as the ``meta`` object of its JSONL line, with
    the fields that have no value left out."""

    group: str
    fix_source: FixSource | None = None
    finding_id: str | None = None
    tool: str | None = None
    rule: str | None = None
    kind: str | None = None
    cwe: str | None = None  # "CWE-89": the CWE of the Classification line
    other_cwes: tuple[str, ...] = ()  # the finding's other CWE ids, most specific first
    cwe_source: CweSource | None = None
    severity: str | None = None
    category: str | None = None
    path: str | None = None  # the file the prompt's code comes from
    revision: str | None = None  # the revision the finding was reported at (as given)
    commit: str | None = None  # that revision's commit, when the source root is a git repo
    fixed_revision: str | None = None  # history: the revision where the finding was gone
    fixed_commit: str | None = None  # history: the commit that removed it
    package: str | None = None  # "<ecosystem> <name> <installed>"
    fixed_version: str | None = None  # dependency: the version the diff pins
    language: str | None = None  # catalogue examples and pairs
    source: str | None = None  # pairs: "file:line"; catalogue: "CWE-<id> example <n>"
    prompt_format_version: str = PROMPT_FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The ``meta`` object: every field with a value (tuples as lists)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == ():
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True, slots=True)
class DatasetExample:
    """One prompt/completion example and what it was made from."""

    id: str
    task: Task
    prompt: str
    completion: str
    origin: ExampleOrigin
    meta: ExampleMeta

    @property
    def group(self) -> str:
        """The split group: near-duplicates share one."""
        return self.meta.group

    def to_json(self) -> str:
        """The example's JSONL line (without the newline)."""
        record = {
            "id": self.id,
            "prompt": self.prompt,
            "completion": self.completion,
            "meta": self.meta.to_dict(),
        }
        return json.dumps(record, ensure_ascii=False)


AnalysisDrop = Literal[
    "no-cwe",  # the tool gives no CWE (Checkov, most IaC and DAST rules without one)
    "unknown-cwe",  # CWE ids that the catalogue lacks, or only categories, views, deprecated ids
    "no-category",  # the CWE and its ancestors have no entry in the category table
    "suppressed",  # the user marked the finding as accepted or a false positive
    "duplicate",  # the same finding as another one (one example per finding and revision chain)
    "secret-in-output",  # a text would carry a secret that redaction recognises
]
CodefixDrop = Literal[
    "no-reference-fix",  # no tool fix, no fixed version, not removed by a later revision
    "still-open",  # still reported at the last revision its tool scanned
    "no-later-scan",  # its tool scanned no later revision to compare with
    "no-source-root",  # a fix source needs the source tree and none was given
    "revision-unknown",  # the finding's revision is not a commit of the source repository
    "source-unreadable",  # the file is missing, binary or outside the source root
    "source-changed",  # the file no longer holds the flagged code (scanned at another state)
    "file-unchanged",  # gone at a later revision although its file did not change
    "file-deleted",  # gone because its whole file was deleted
    "change-elsewhere",  # the file changed, but not at or next to the flagged lines
    "deletes-whole-function",  # the change only deletes the flagged code with its function
    "too-many-lines",  # the change touches more lines than allowed
    "fix-outside-code-block",  # the change does not fit in the prompt's code block
    "secret-still-present",  # a secret finding whose value is still in the file
    "no-fixed-version",  # a dependency advisory without a fixed version
    "no-common-fixed-version",  # no listed version fixes every advisory on the package
    "manifest-not-found",  # no manifest of the source tree declares the package
    "version-not-in-manifest",  # the declaring line pins no version that can be changed
    "no-fixed-base-image",  # an OS package: no fact names a base image that fixes it
    "covered-by-package-upgrade",  # another advisory's example carries the same upgrade
    "tool-fix-unusable",  # the tool's fix has no file, overlaps, or lies outside the file
    "diff-does-not-apply",  # the reference diff does not apply to the prompt's code
    "suppressed",
    "duplicate",
    "secret-in-output",
]
DropReason = AnalysisDrop | CodefixDrop


@dataclass(frozen=True, slots=True)
class DroppedFinding:
    """A finding that gives no example for ``task``, and why."""

    finding_id: str
    tool: str
    task: Task
    reason: DropReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class InputProblem:
    """A record of an input file that was skipped (a malformed pair), by file and line."""

    file: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.problem}"


@dataclass
class ExampleSet:
    """Examples and drops collected by one part of a build."""

    examples: list[DatasetExample] = field(default_factory=list)
    dropped: list[DroppedFinding] = field(default_factory=list)

    def extend(self, other: ExampleSet) -> None:
        """Add ``other``'s examples and drops to this set."""
        self.examples += other.examples
        self.dropped += other.dropped
