"""Findings in, findings annotated with the model's analysis and suggested fix out.

Each finding is rendered with the training renderer (:func:`~vulntune.datasets.render.
render_prompt`), so the model sees exactly the prompt layout it was trained on: an analysis
prompt for every finding with something to analyse (a code block, a package or a URL), and a
code-fix prompt for those whose prompt shows numbered code or a dependency manifest. Whole
lists of prompts of one task go to the :data:`~vulntune.inference.analyze_model.Completer`
at a time, so a batched generator can sort and batch them as it likes.

The answers are read leniently (:func:`~vulntune.datasets.completions.parse_analysis`); the
CWE name always comes from MITRE's catalogue, never from the model, and a CWE id the catalogue
does not have is dropped. A fix counts only when its diff applies to the code the prompt
showed (:mod:`vulntune.inference.analyze_fix`). Model output is untrusted: it is redacted
like scanner text before it is read.

A finding that is not analysed passes through unchanged with the reason
(:data:`FindingStatus`): it is suppressed in the scan, below ``min_severity``, has nothing
a prompt could show, or the model's answers held nothing usable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from vulntune.datasets.completions import parse_analysis
from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.datasets.render import Task, code_excerpt, render_prompt
from vulntune.datasets.similar import SimilarFindings
from vulntune.datasets.taxonomy import AnalysisSeverity, Category
from vulntune.errors import VulntuneError
from vulntune.findings.record import Finding, FindingKind, Severity
from vulntune.findings.redact import SecretIndex, redact_text
from vulntune.inference.analyze_fix import SuggestedFix, check_fix
from vulntune.inference.analyze_model import Completer

FindingStatus = Literal[
    "analysed",  # the model's analysis and/or an applying fix are attached
    "unusable answer",  # asked, but neither answer held anything usable
    "no context",  # no code, package or URL a prompt could show
    "suppressed",  # suppressed in the scan itself
    "below minimum severity",  # under --min-severity
]
# Prompts per call to the completer: enough for a batched generator to sort by length and
# fill its batches, few enough that the progress bar moves.
PROMPTS_PER_CALL = 32
# Kinds whose prompt can ask for a fix: a secret's line is redacted, so no fix can change it.
_FIXABLE = frozenset({FindingKind.CODE, FindingKind.CONFIG, FindingKind.DEPENDENCY})

ProgressFn = Callable[[Task, int, int], None]  # (task, prompts answered, prompts in total)


class AnalyzeError(VulntuneError):
    """Analysis cannot go on (the model answered with the wrong number of texts)."""


@dataclass(frozen=True, slots=True)
class FindingAnalysis:
    """What the model said about a finding, as far as it could be read: the CWE (a catalogue
    id, with MITRE's name), severity, category, root cause and impact; ``text`` is the
    answer as the model wrote it (redacted); ``complete`` when all five lines were usable."""

    cwe_id: int | None
    cwe_name: str | None
    severity: AnalysisSeverity | None
    category: Category | None
    root_cause: str | None
    impact: str | None
    text: str

    @property
    def cwe(self) -> str | None:
        """The CWE as finding records write it (``CWE-89``), or None."""
        return None if self.cwe_id is None else f"CWE-{self.cwe_id}"

    @property
    def complete(self) -> bool:
        """All five fields are there."""
        return None not in (self.cwe_id, self.severity, self.category, self.root_cause, self.impact)


@dataclass(frozen=True, slots=True)
class AnalyzedFinding:
    """A finding with what the model made of it; ``analysis`` and ``fix`` are None when the
    finding was not analysed (``status`` says why) or the model gave no usable answer."""

    finding: Finding
    status: FindingStatus
    analysis: FindingAnalysis | None = None
    fix: SuggestedFix | None = None

    @property
    def severity_rank(self) -> int:
        """0 for critical ... 4 for info: the model's severity when it gave one, else the
        scanner's (what "most severe first" sorts by)."""
        judged = self.analysis.severity if self.analysis is not None else None
        return Severity(judged).rank if judged is not None else self.finding.severity.rank


@dataclass(frozen=True)
class AnalyzeResult:
    """Every finding in input order, annotated or passed through."""

    items: list[AnalyzedFinding]

    def counts(self) -> Counter[FindingStatus]:
        """Findings per status."""
        return Counter(item.status for item in self.items)

    @property
    def analysed(self) -> int:
        """Findings with the model's output attached."""
        return sum(item.status == "analysed" for item in self.items)

    @property
    def passed_through(self) -> int:
        """Findings written out unchanged."""
        return len(self.items) - self.analysed

    @property
    def fixes_applying(self) -> int:
        """Suggested fixes whose diff applies to the scanned code."""
        return sum(item.fix is not None and item.fix.applies for item in self.items)


def analyze_findings(
    findings: Sequence[Finding],
    completer: Completer,
    *,
    min_severity: Severity | None = None,
    secrets: SecretIndex | None = None,
    catalogue: CweCatalogue | None = None,
    progress: ProgressFn | None = None,
    prompts_per_call: int = PROMPTS_PER_CALL,
    similar: SimilarFindings | None = None,
) -> AnalyzeResult:
    """Ask ``completer`` for an analysis of every finding that has something to analyse and
    for a fix of those whose prompt shows numbered code; read and check the answers.
    ``secrets`` (the secret findings of the ingest) redacts known secret values from the
    model's answers on top of the generic detectors. ``similar`` writes the nearest training
    findings into the analysis prompts, as the run's training prompts have them."""
    catalogue = catalogue or CweCatalogue.load()
    statuses = [_precheck(f, min_severity) for f in findings]
    asked = [i for i, status in enumerate(statuses) if status is None]
    fixable = [i for i in asked if _fixable(findings[i])]
    analysis_texts = _complete(
        completer,
        [_analysis_prompt(findings[i], catalogue, similar) for i in asked],
        "analysis",
        progress,
        prompts_per_call,
    )
    fix_texts = _complete(
        completer,
        [render_prompt(findings[i], "codefix", catalogue=catalogue) for i in fixable],
        "codefix",
        progress,
        prompts_per_call,
    )
    analyses = {
        i: read_analysis(_redacted(text, secrets), catalogue)
        for i, text in zip(asked, analysis_texts, strict=True)
    }
    fixes = {
        i: check_fix(findings[i], _redacted(text, secrets))
        for i, text in zip(fixable, fix_texts, strict=True)
    }
    items = []
    for i, finding in enumerate(findings):
        status = statuses[i]
        if status is not None:
            items.append(AnalyzedFinding(finding, status))
            continue
        analysis, fix = analyses[i], fixes.get(i)
        usable = analysis is not None or (fix is not None and fix.applies)
        items.append(
            AnalyzedFinding(finding, "analysed" if usable else "unusable answer", analysis, fix)
        )
    return AnalyzeResult(items)


def _analysis_prompt(
    finding: Finding, catalogue: CweCatalogue, similar: SimilarFindings | None
) -> str:
    prompt = render_prompt(finding, "analysis", catalogue=catalogue)
    return similar.add_to(prompt) if similar is not None else prompt


def read_analysis(text: str, catalogue: CweCatalogue) -> FindingAnalysis | None:
    """The analysis in a model's answer, or None when no field of the layout is usable. The
    CWE name is the catalogue's; an id the catalogue does not have is dropped."""
    parsed = parse_analysis(text)
    cwe_id = parsed.cwe_id if parsed.cwe_id is not None and parsed.cwe_id in catalogue else None
    analysis = FindingAnalysis(
        cwe_id=cwe_id,
        cwe_name=catalogue.name(cwe_id) if cwe_id is not None else None,
        severity=parsed.severity,
        category=parsed.category,
        root_cause=parsed.root_cause,
        impact=parsed.impact,
        text=text.strip(),
    )
    fields = (cwe_id, parsed.severity, parsed.category, parsed.root_cause, parsed.impact)
    return analysis if any(value is not None for value in fields) else None


def _precheck(finding: Finding, min_severity: Severity | None) -> FindingStatus | None:
    """Why ``finding`` is not analysed, or None when it is."""
    if finding.suppressed:
        return "suppressed"
    if min_severity is not None and finding.severity.rank > min_severity.rank:
        return "below minimum severity"
    has_url = finding.web is not None and bool(finding.web.url.strip())
    has_package = finding.package is not None and bool(finding.package.name.strip())
    if code_excerpt(finding) is None and not has_url and not has_package:
        return "no context"
    return None


def _fixable(finding: Finding) -> bool:
    if finding.kind not in _FIXABLE:
        return False
    excerpt = code_excerpt(finding)
    return excerpt is not None and excerpt.first_line is not None and bool(excerpt.path)


def _complete(
    completer: Completer,
    prompts: list[str],
    task: Task,
    progress: ProgressFn | None,
    per_call: int,
) -> list[str]:
    """The completer's answers to ``prompts``, asked ``per_call`` prompts at a time."""
    answers: list[str] = []
    if progress is not None:
        progress(task, 0, len(prompts))
    for start in range(0, len(prompts), per_call):
        chunk = prompts[start : start + per_call]
        got = completer(chunk, task)
        if not isinstance(got, list) or len(got) != len(chunk):
            count = len(got) if isinstance(got, list) else type(got).__name__
            raise AnalyzeError(
                f"the model answered {len(chunk)} {task} prompt(s) with {count} text(s)"
            )
        answers += got
        if progress is not None:
            progress(task, len(answers), len(prompts))
    return answers


def _redacted(text: str, secrets: SecretIndex | None) -> str:
    if secrets:
        text = secrets.known(text).text
    return redact_text(text)
