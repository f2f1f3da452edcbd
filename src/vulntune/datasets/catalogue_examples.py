"""The CWE catalogue as a teacher: examples from MITRE's demonstrative examples.

A project's findings cover a handful of CWEs; the catalogue's demonstrative examples show
code for many more, each with MITRE's explanation. They are read at run time from the
catalogue (never copied into the repository) and only ever go to the train split.

- Stage 1: the first code block marked ``Bad`` of an example (with a language, at most
  ``max_code_lines`` lines) is the prompt (:func:`render_code_prompt`: language, no CWE
  named); the completion classifies it as the entry's CWE. ``Root cause`` is the
  catalogue's explanation after the block (else the example's introduction), ``Impact``
  the entry's consequences, ``Category`` the CWE -> category table. ``Severity``: a
  catalogue example has no finding, so it takes MITRE's *Likelihood of Exploit* of the
  entry (High, Medium, Low -> high, medium, low); entries without one give no example.
- Stage 2: a ``Bad`` block followed in the same example by a ``Good`` block of the same
  language that rewrites it (at least half the lines alike) gives the diff from one to the
  other; the ``Fix:`` sentence is the catalogue's text just before the good block.

Selection: the CWEs of the user's findings first, then their parents and children in the
catalogue, then the rest, each by id and example order; at most ``limit`` examples a task.
"""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from vulntune.datasets.analysis_examples import impact
from vulntune.datasets.completions import AnalysisCompletion, CodeFixCompletion
from vulntune.datasets.cwe_catalogue import CodeBlock, CweCatalogue, CweEntry
from vulntune.datasets.fixes.common import first_difference, fix_sentence
from vulntune.datasets.prompt_text import strip_cwe_references
from vulntune.datasets.records import DatasetExample, ExampleMeta, ExampleSet
from vulntune.datasets.render import DEFAULT_MAX_CODE_LINES, render_code_prompt
from vulntune.datasets.secret_guard import SecretGuard
from vulntune.datasets.sentences import pick_sentences, sentences
from vulntune.datasets.taxonomy import AnalysisSeverity, category_for_cwe
from vulntune.datasets.unified_diff import make_diff

DEFAULT_CATALOGUE_MAX = 200  # examples per task; `vulntune demo` uses a smaller cap
LIKELIHOOD_SEVERITY: dict[str, AnalysisSeverity] = {
    "High": "high",
    "Medium": "medium",
    "Low": "low",
}
_EXTENSIONS = {
    "c": ".c", "c++": ".cpp", "c#": ".cs", "java": ".java", "javascript": ".js", "php": ".php",
    "python": ".py", "perl": ".pl", "ruby": ".rb", "go": ".go", "kotlin": ".kt", "rust": ".rs",
    "shell": ".sh", "sql": ".sql", "html": ".html", "xml": ".xml", "jsp": ".jsp",
    "asp.net": ".aspx", "typescript": ".ts", "swift": ".swift",
}  # fmt: skip
_MIN_SIMILARITY = 0.5
# A sentence that introduces a code block ("... a string such as:") says nothing alone.
_LEADS_TO_CODE = ("such as.", "as follows.", "following.", "below.", "like.", "being.")


@dataclass(frozen=True, slots=True)
class _Candidate:
    entry: CweEntry
    number: int  # 1-based example number in the entry
    bad: CodeBlock
    explanation: str  # the prose after the bad block
    good: CodeBlock | None
    before_good: str  # the prose just before the good block


def catalogue_examples(
    catalogue: CweCatalogue,
    preferred_cwes: Iterable[int],
    guard: SecretGuard,
    *,
    limit: int = DEFAULT_CATALOGUE_MAX,
    max_code_lines: int = DEFAULT_MAX_CODE_LINES,
) -> ExampleSet:
    """Up to ``limit`` Stage-1 and ``limit`` Stage-2 examples (see the module docstring)."""
    out = ExampleSet()
    if limit <= 0:
        return out
    preferred = set(preferred_cwes)
    relatives = {r for c in preferred for r in (*catalogue.parents(c), *catalogue.children(c))}
    order = sorted(
        catalogue.ids("weakness"),
        key=lambda i: (0 if i in preferred else 1 if i in relatives else 2, i),
    )
    analysis: list[DatasetExample] = []
    codefix: list[DatasetExample] = []
    for cwe_id in order:
        if len(analysis) >= limit and len(codefix) >= limit:
            break
        entry = catalogue.get(cwe_id)
        if entry is None or catalogue.deprecated(cwe_id):
            continue
        severity = LIKELIHOOD_SEVERITY.get(entry.likelihood or "")
        category = category_for_cwe(cwe_id, catalogue)
        for candidate in _candidates(entry, max_code_lines):
            if len(analysis) < limit and severity is not None and category is not None:
                example = _analysis(candidate, severity, category, catalogue, guard)
                if example is not None:
                    analysis.append(example)
            if len(codefix) < limit and candidate.good is not None:
                example = _codefix(candidate, guard)
                if example is not None:
                    codefix.append(example)
    out.examples += analysis + codefix
    return out


def _candidates(entry: CweEntry, max_code_lines: int) -> Iterator[_Candidate]:
    for number, example in enumerate(entry.demonstrative_examples, start=1):
        parts = example.parts
        for at, part in enumerate(parts):
            if not isinstance(part, CodeBlock) or part.nature != "Bad" or not part.language:
                continue
            if not part.code.strip() or len(part.code.split("\n")) > max_code_lines:
                break
            explanation = next((p for p in parts[at + 1 :] if isinstance(p, str)), "")
            good, before = None, ""
            prose = ""
            for later in parts[at + 1 :]:
                if isinstance(later, str):
                    prose = later
                elif later.nature == "Good" and later.language == part.language:
                    alike = difflib.SequenceMatcher(
                        None, part.code.split("\n"), later.code.split("\n"), autojunk=False
                    ).ratio()
                    if alike >= _MIN_SIMILARITY and len(later.code.split("\n")) <= max_code_lines:
                        good, before = later, prose
                    break
            yield _Candidate(entry, number, part, explanation or example.intro, good, before)
            break  # the first bad block of an example


def _analysis(
    candidate: _Candidate,
    severity: AnalysisSeverity,
    category: str,
    catalogue: CweCatalogue,
    guard: SecretGuard,
) -> DatasetExample | None:
    entry = candidate.entry
    text = strip_cwe_references(candidate.explanation, catalogue.name, [entry.id])
    usable = [s for s in sentences(text) if not s.endswith(_LEADS_TO_CODE)]
    picked = pick_sentences([usable], limit=2, max_chars=320)
    if not picked:
        return None
    root = " ".join(picked)
    completion = AnalysisCompletion(
        cwe_id=entry.id,
        cwe_name=entry.name,
        severity=severity,
        category=category,  # type: ignore[arg-type]
        root_cause=root,
        impact=impact(entry, root),
    ).text()
    lines = candidate.bad.code.split("\n")
    prompt = render_code_prompt("analysis", lines, language=candidate.bad.language)
    if not (guard.is_clean(prompt) and guard.is_clean(completion)):
        return None
    meta = ExampleMeta(
        group=f"cat-{entry.id}-{candidate.number}",
        cwe=f"CWE-{entry.id}",
        cwe_source="catalogue",
        severity=severity,
        category=category,
        language=candidate.bad.language,
        source=f"CWE-{entry.id} example {candidate.number}",
    )
    example_id = f"cat-an-{entry.id}-{candidate.number}"
    return DatasetExample(example_id, "analysis", prompt, completion, "catalogue", meta)


def _codefix(candidate: _Candidate, guard: SecretGuard) -> DatasetExample | None:
    assert candidate.good is not None
    entry = candidate.entry
    language = candidate.bad.language or ""
    path = "example" + _EXTENSIONS.get(language.lower(), ".txt")
    bad, good = candidate.bad.code.rstrip("\n") + "\n", candidate.good.code.rstrip("\n") + "\n"
    diff = make_diff(path, bad, good)
    if not diff:
        return None
    first_changed = min(
        first_difference(bad.split("\n"), good.split("\n")), len(bad.rstrip("\n").split("\n"))
    )
    sentence = fix_sentence(
        candidate.before_good, f"Rewrite the code as CWE-{entry.id}'s good example does."
    )
    prompt = render_code_prompt(
        "codefix", bad.rstrip("\n").split("\n"), language=language, path=path, line=first_changed
    )
    completion = CodeFixCompletion(sentence, diff).text()
    if not (guard.is_clean(prompt) and guard.is_clean(completion)) or "CWE" in prompt:
        return None
    meta = ExampleMeta(
        group=f"cat-{entry.id}-{candidate.number}",
        fix_source="catalogue",
        cwe=f"CWE-{entry.id}",
        cwe_source="catalogue",
        language=language,
        path=posixpath.basename(path),
        source=f"CWE-{entry.id} example {candidate.number}",
    )
    example_id = f"cat-cf-{entry.id}-{candidate.number}"
    return DatasetExample(example_id, "codefix", prompt, completion, "catalogue", meta)
