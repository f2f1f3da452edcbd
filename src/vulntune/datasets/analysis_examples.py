"""Stage-1 targets from facts: a finding and the CWE catalogue become an analysis completion.

- ``Classification``: the most specific CWE the tool gives (:func:`choose_cwe`: the deepest
  weakness in the catalogue hierarchy, view 1000; ties go to the one the tool lists first);
  the others are recorded in ``meta.other_cwes``. A secret finding without a CWE is
  CWE-798 *Use of Hard-coded Credentials*: a secret scanner reports exactly that (a
  credential committed to the source), so the finding's kind is the fact
  (``meta.cwe_source = "finding-kind"``). Any other finding without a usable CWE gives no
  example (dropped as ``no-cwe`` or ``unknown-cwe``).
- ``Severity``: the finding's normalised severity (the mappings of ``builtin/README.md``
  are applied by ingest).
- ``Category``: ``vulnerable-dependency`` for package findings, ``category_for_cwe``
  otherwise.
- ``Root cause``: up to two sentences of the finding's message and the rule's description
  and help (advice left out), else the CWE's description. ``Impact``: the note of the CWE's
  first common consequence, else its impacts as the catalogue names them. Everything is
  cleaned (:mod:`vulntune.datasets.sentences`) and must pass the secret check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vulntune.datasets.completions import AnalysisCompletion
from vulntune.datasets.cwe_catalogue import CweCatalogue, CweEntry, parse_cwe_id
from vulntune.datasets.finding_keys import digest
from vulntune.datasets.observed import Observed
from vulntune.datasets.records import (
    AnalysisDrop,
    CweSource,
    DatasetExample,
    DroppedFinding,
    ExampleMeta,
    ExampleSet,
)
from vulntune.datasets.render import DEFAULT_MAX_CODE_LINES, render_prompt
from vulntune.datasets.secret_guard import SecretGuard
from vulntune.datasets.sentences import pick_sentences, sentences
from vulntune.datasets.taxonomy import AnalysisSeverity, Category, category_for_cwe
from vulntune.findings.record import Finding, FindingKind
from vulntune.findings.redact import is_secret_finding

HARD_CODED_CREDENTIALS = 798
MAX_LINE_CHARS = 320  # each of Root cause and Impact: one or two sentences
_ABSTRACTION_DEPTH = {"Pillar": 0, "Class": 1, "Base": 2, "Variant": 3, "Compound": 2}


@dataclass(frozen=True, slots=True)
class ChosenCwe:
    """The CWE of a Classification line and where it came from."""

    entry: CweEntry
    others: tuple[str, ...]  # the finding's other usable CWE ids, "CWE-n", most specific first
    source: CweSource  # "tool" or "finding-kind"


@dataclass(frozen=True, slots=True)
class NoCwe:
    """Why a finding has no Classification: ``no-cwe`` or ``unknown-cwe``."""

    reason: AnalysisDrop
    detail: str


def choose_cwe(finding: Finding, catalogue: CweCatalogue) -> ChosenCwe | NoCwe:
    """The finding's most specific usable CWE (see the module docstring)."""
    ids: list[int] = []
    for raw in finding.cwe_ids:
        cwe = parse_cwe_id(raw)
        if cwe is not None and cwe not in ids:
            ids.append(cwe)
    usable = [i for i in ids if _usable(i, catalogue)]
    if not usable:
        if is_secret_finding(finding) or finding.kind is FindingKind.SECRET:
            entry = catalogue.get(HARD_CODED_CREDENTIALS)
            assert entry is not None
            return ChosenCwe(entry, (), "finding-kind")
        if ids:
            return NoCwe("unknown-cwe", ", ".join(f"CWE-{i}" for i in ids))
        return NoCwe("no-cwe", f"{finding.tool} {finding.rule_id}")
    ranked = sorted(usable, key=lambda i: (_depth(i, catalogue), -usable.index(i)), reverse=True)
    entry = catalogue.get(ranked[0])
    assert entry is not None
    return ChosenCwe(entry, tuple(f"CWE-{i}" for i in ranked[1:]), "tool")


def _usable(cwe_id: int, catalogue: CweCatalogue) -> bool:
    entry = catalogue.get(cwe_id)
    return entry is not None and entry.kind == "weakness" and not catalogue.deprecated(cwe_id)


def _depth(cwe_id: int, catalogue: CweCatalogue) -> tuple[int, int]:
    entry = catalogue.get(cwe_id)
    level = _ABSTRACTION_DEPTH.get(entry.abstraction or "", 0) if entry is not None else 0
    return level, len(catalogue.ancestors(cwe_id))


def category_of(finding: Finding, cwe_id: int, catalogue: CweCatalogue) -> Category | None:
    """The Category line: package findings are vulnerable-dependency, secrets are secrets."""
    if finding.kind is FindingKind.DEPENDENCY or finding.package is not None:
        return "vulnerable-dependency"
    return category_for_cwe(cwe_id, catalogue)


def root_cause(finding: Finding, entry: CweEntry) -> str:
    """One or two sentences on what is wrong, from the tool's text, else the CWE's."""
    tool_text = [
        sentences(finding.message, advice=False),
        sentences(finding.rule_description, advice=False),
        sentences(finding.rule_help, advice=False),
    ]
    picked = pick_sentences(tool_text, limit=2, max_chars=MAX_LINE_CHARS)
    if not picked:
        picked = pick_sentences([sentences(entry.description)], limit=1, max_chars=MAX_LINE_CHARS)
    return " ".join(picked) or f"{entry.name}."


def impact(entry: CweEntry, root: str = "") -> str:
    """One or two sentences on what an attacker gains: the CWE's consequences."""
    notes = [sentences(c.note) for c in entry.consequences if c.note]
    picked = pick_sentences(notes, limit=2, max_chars=MAX_LINE_CHARS, taken=[root])
    if picked:
        return " ".join(picked)
    impacts: list[str] = []
    for consequence in entry.consequences:
        impacts += [i for i in consequence.impacts if i not in impacts and i != "Other"]
    if impacts:
        return "; ".join(impacts[:4]) + "."
    return f"The consequences of {entry.name.lower()}."


def analysis_completion(
    finding: Finding, chosen: ChosenCwe, category: Category
) -> AnalysisCompletion:
    """The completion for ``finding`` (raises CompletionError on an unwritable value)."""
    root = root_cause(finding, chosen.entry)
    severity: AnalysisSeverity = finding.severity.value
    return AnalysisCompletion(
        cwe_id=chosen.entry.id,
        cwe_name=chosen.entry.name,
        severity=severity,
        category=category,
        root_cause=root,
        impact=impact(chosen.entry, root),
    )


def analysis_examples(
    observed: Sequence[Observed],
    catalogue: CweCatalogue,
    guard: SecretGuard,
    *,
    max_code_lines: int = DEFAULT_MAX_CODE_LINES,
) -> ExampleSet:
    """One Stage-1 example per distinct finding of ``observed`` that has a classification;
    the same finding seen at several revisions (same key) gives one example, the first."""
    out = ExampleSet()
    seen: set[str] = set()
    for item in observed:
        finding = item.finding
        drop = _drop(out, finding)
        if finding.suppressed:
            drop("suppressed", finding.suppression or "")
            continue
        if item.key in seen:
            drop("duplicate", f"seen again at {item.revision}")
            continue
        seen.add(item.key)
        chosen = choose_cwe(finding, catalogue)
        if isinstance(chosen, NoCwe):
            drop(chosen.reason, chosen.detail)
            continue
        category = category_of(finding, chosen.entry.id, catalogue)
        if category is None:
            drop("no-category", f"CWE-{chosen.entry.id}")
            continue
        prompt = render_prompt(
            finding, "analysis", max_code_lines=max_code_lines, catalogue=catalogue
        )
        completion = analysis_completion(finding, chosen, category).text()
        if not (guard.is_clean(prompt) and guard.is_clean(completion)):
            drop("secret-in-output", "")
            continue
        meta = ExampleMeta(
            group=item.group,
            finding_id=finding.id,
            tool=finding.tool,
            rule=finding.rule_id,
            kind=finding.kind.value,
            cwe=f"CWE-{chosen.entry.id}",
            other_cwes=chosen.others,
            cwe_source=chosen.source,
            severity=finding.severity.value,
            category=category,
            path=item.path,
            revision=item.revision,
            commit=item.commit,
            package=_package_label(finding),
        )
        example_id = f"an-{finding.tool}-{digest(finding.id, item.revision or '')}"
        out.examples.append(
            DatasetExample(example_id, "analysis", prompt, completion, "finding", meta)
        )
    return out


def _drop(out: ExampleSet, finding: Finding) -> Callable[[AnalysisDrop, str], None]:
    def drop(reason: AnalysisDrop, detail: str) -> None:
        out.dropped.append(DroppedFinding(finding.id, finding.tool, "analysis", reason, detail))

    return drop


def _package_label(finding: Finding) -> str | None:
    pkg = finding.package
    if pkg is None:
        return None
    return " ".join(p for p in (pkg.ecosystem, pkg.name, pkg.installed_version) if p)
