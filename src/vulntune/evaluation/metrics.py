"""Scoring one prediction against its reference, and averaging scores over a test split.

Stage 1 (analysis): the output parses into the five fields; CWE exact and related (same id,
or one a direct parent of the other in the catalogue); severity; category; chrF of root cause
and impact (0 when the field is missing). Stage 2 (code fix): a diff parses; it applies to the
code in the prompt with ``git apply`` semantics, strictly (the headline) and with
``--recount``; its normalised form equals the reference's; for dependency fixes, the version
it writes is a fixed version; the patched files that parsed before still parse.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from vulntune.datasets.completions import parse_analysis, parse_codefix
from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.datasets.unified_diff import (
    ApplyResult,
    DiffParseError,
    apply_check,
    normalise_diff,
    parse_diff,
)
from vulntune.evaluation.chrf import chrf
from vulntune.evaluation.prompt_facts import PromptFacts
from vulntune.evaluation.syntax import syntax_check

# -- analysis ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisScore:
    """One analysis prediction scored against its reference."""

    parsed: bool
    cwe_exact: bool
    cwe_related: bool
    severity: bool
    category: bool
    root_cause_chrf: float
    impact_chrf: float


def score_analysis(prediction: str, reference: str, catalogue: CweCatalogue) -> AnalysisScore:
    """Score an analysis ``prediction`` field by field against ``reference``."""
    got, want = parse_analysis(prediction), parse_analysis(reference)
    exact = got.cwe_id is not None and got.cwe_id == want.cwe_id
    related = (
        got.cwe_id is not None
        and want.cwe_id is not None
        and catalogue.is_related(got.cwe_id, want.cwe_id)
    )
    return AnalysisScore(
        parsed=got.complete,
        cwe_exact=exact,
        cwe_related=related,
        severity=got.severity is not None and got.severity == want.severity,
        category=got.category is not None and got.category == want.category,
        root_cause_chrf=_field_chrf(got.root_cause, want.root_cause),
        impact_chrf=_field_chrf(got.impact, want.impact),
    )


def _field_chrf(got: str | None, want: str | None) -> float:
    return chrf(got, want) if got is not None and want is not None else 0.0


@dataclass(frozen=True)
class AnalysisMetrics:
    """Stage-1 metrics over a split: shares (0..1) and mean chrF."""

    n: int
    parse_rate: float
    cwe_accuracy: float
    cwe_related_accuracy: float
    severity_accuracy: float
    category_accuracy: float
    root_cause_chrf: float
    impact_chrf: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# The Stage-1 metrics that retention (final / Stage 1) is computed for.
RETENTION_METRICS = (
    "parse_rate",
    "cwe_accuracy",
    "cwe_related_accuracy",
    "severity_accuracy",
    "category_accuracy",
    "root_cause_chrf",
    "impact_chrf",
)


def summarise_analysis(scores: Sequence[AnalysisScore]) -> AnalysisMetrics:
    """The mean of each score over ``scores`` (all 0 for an empty split)."""
    return AnalysisMetrics(
        n=len(scores),
        parse_rate=_mean(s.parsed for s in scores),
        cwe_accuracy=_mean(s.cwe_exact for s in scores),
        cwe_related_accuracy=_mean(s.cwe_related for s in scores),
        severity_accuracy=_mean(s.severity for s in scores),
        category_accuracy=_mean(s.category for s in scores),
        root_cause_chrf=_mean(s.root_cause_chrf for s in scores),
        impact_chrf=_mean(s.impact_chrf for s in scores),
    )


# -- code fix ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodefixScore:
    """One code-fix prediction scored against its reference and its prompt's code."""

    diff_parsed: bool
    applies: bool  # strict `git apply --check` semantics: the headline
    applies_recount: bool  # `git apply --recount`: hunk header counts ignored
    exact_match: bool
    dependency_fix: bool | None  # None: not a dependency finding
    files_checked: int  # patched files whose original parsed and could be checked
    files_still_parse: int
    syntax_skipped: tuple[str, ...] = ()
    problem: str | None = None


OS_ECOSYSTEMS = frozenset({"debian", "ubuntu", "alpine", "redhat", "centos", "rocky", "amazon"})
_VERSION = re.compile(r"(?<![\w.])v?((?:\d+:)?\d+(?:\.\w+)+(?:[-+~][\w.+~]+)*)")


def score_codefix(
    prediction: str,
    reference: str,
    facts: PromptFacts,
    meta: Mapping[str, Any] | None = None,
) -> CodefixScore:
    """Score a code-fix ``prediction``: does its diff parse, apply to the prompt's code,
    match the reference; for a dependency finding (``meta["fix_source"] == "dependency"`` or
    a ``Package`` line with a fixed version), does it write a fixed version."""
    files = facts.files()
    diff = parse_codefix(prediction).diff
    want = parse_codefix(reference).diff
    fixed_version = (meta or {}).get("fixed_version") or facts.fixed_version
    # OS packages are fixed by a newer base image, whose tag says nothing about the
    # package's version: those fixes are not judged by version.
    is_dependency = (
        (meta or {}).get("fix_source") == "dependency" or facts.fixed_version is not None
    ) and (facts.ecosystem or "").lower() not in OS_ECOSYSTEMS
    if diff is None:
        return CodefixScore(False, False, False, False, False if is_dependency else None, 0, 0,
                            problem="no diff in the output")  # fmt: skip
    try:
        parse_diff(diff)
        normalised = normalise_diff(diff)
    except DiffParseError as exc:
        return CodefixScore(False, False, False, False, False if is_dependency else None, 0, 0,
                            problem=str(exc))  # fmt: skip
    strict = _changes_something(apply_check(diff, files), files)
    recount = (
        strict
        if strict.applies
        else _changes_something(apply_check(diff, files, recount=True), files)
    )
    exact = want is not None and _normalised(want) == normalised
    patched = strict.patched if strict.applies else recount.patched
    checked = still = 0
    skipped: list[str] = []
    for path, text in (patched or {}).items():
        before = files.get(path)
        if before == text:
            continue
        check_after = syntax_check(path, text)
        if check_after.parses is None:
            if check_after.language is not None:  # a checkable language, but not here
                skipped.append(f"{path}: {check_after.skipped}")
            continue
        if before is not None and syntax_check(path, before).parses is not True:
            continue  # an excerpt that did not parse to begin with says nothing
        checked += 1
        still += bool(check_after.parses)
    dependency = None
    if is_dependency:
        dependency = recount.applies and _writes_fixed_version(
            diff, fixed_version, facts.installed_version
        )
    return CodefixScore(
        diff_parsed=True,
        applies=strict.applies,
        applies_recount=recount.applies,
        exact_match=exact,
        dependency_fix=dependency,
        files_checked=checked,
        files_still_parse=still,
        syntax_skipped=tuple(skipped),
        problem=strict.problem,
    )


def _changes_something(result: ApplyResult, files: Mapping[str, str]) -> ApplyResult:
    """A diff of context lines only applies anywhere its lines are, and fixes nothing: it
    does not count as applying."""
    if result.applies and result.patched == dict(files):
        return ApplyResult(applies=False, problem="the diff changes nothing")
    return result


def _normalised(diff: str) -> str | None:
    try:
        return normalise_diff(diff)
    except DiffParseError:
        return None


def _writes_fixed_version(diff: str, fixed: str | None, installed: str | None) -> bool:
    """True when an added line writes a version that is the fixed one or later (compared as
    PEP 440 versions when both parse, else as equal strings) and is not the installed one."""
    if fixed is None:
        return False
    removed: set[str] = set()
    added: list[str] = []
    for file_patch in parse_diff(diff).files:
        for hunk in file_patch.hunks:
            for line in hunk.lines:
                found = _VERSION.findall(line.text)
                if line.kind == "+":
                    added += found
                elif line.kind == "-":
                    removed.update(found)
    return any(v not in removed and v != installed and version_at_least(v, fixed) for v in added)


def version_at_least(version: str, minimum: str) -> bool:
    """``version >= minimum`` as PEP 440 versions; equal strings when either does not parse."""
    from packaging.version import InvalidVersion, Version

    if version == minimum:
        return True
    try:
        return Version(version) >= Version(minimum)
    except InvalidVersion:
        return False


@dataclass(frozen=True)
class CodefixMetrics:
    """Stage-2 metrics over a split. ``dependency_fix_rate`` is None when the split has no
    dependency finding; ``patched_parse_rate`` None when no patched file could be checked."""

    n: int
    diff_parse_rate: float
    applies_rate: float
    applies_rate_recount: float
    exact_match: float
    dependency_n: int
    dependency_fix_rate: float | None
    patched_files_checked: int
    patched_parse_rate: float | None
    syntax_skipped: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise_codefix(scores: Sequence[CodefixScore]) -> CodefixMetrics:
    """Shares over ``scores``; dependency and syntax shares over the examples they apply to."""
    dependency = [s.dependency_fix for s in scores if s.dependency_fix is not None]
    checked = sum(s.files_checked for s in scores)
    skipped = sorted({reason.split(": ", 1)[-1] for s in scores for reason in s.syntax_skipped})
    return CodefixMetrics(
        n=len(scores),
        diff_parse_rate=_mean(s.diff_parsed for s in scores),
        applies_rate=_mean(s.applies for s in scores),
        applies_rate_recount=_mean(s.applies_recount for s in scores),
        exact_match=_mean(s.exact_match for s in scores),
        dependency_n=len(dependency),
        dependency_fix_rate=_mean(dependency) if dependency else None,
        patched_files_checked=checked,
        patched_parse_rate=(sum(s.files_still_parse for s in scores) / checked)
        if checked
        else None,
        syntax_skipped=skipped,
    )


def _mean(values: Any) -> float:
    items = [float(v) for v in values]
    return sum(items) / len(items) if items else 0.0
