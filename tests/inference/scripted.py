"""A scripted model for `analyze` tests: answers built from the findings, no weights.

:class:`ScriptedCompleter` answers every analysis prompt with a fixed five-line analysis and
every code-fix prompt with a diff that a correct model would write: it changes the flagged line
of the real source file (so the diff applies to the code the prompt showed), or, for the
findings named in ``broken``, a diff whose context does not match. It records every call so
tests can see that whole lists of prompts are asked at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vulntune.datasets.render import Task, code_excerpt, render_prompt
from vulntune.datasets.unified_diff.write import make_diff
from vulntune.findings.record import Finding
from vulntune.inference.analyze_fix import shown_file
from vulntune.inference.analyze_model import AnalysisModel

DATA = Path(__file__).resolve().parent / "data"
PROJECT = DATA / "project"
CODEQL = DATA / "codeql-flows.sarif"
GITLEAKS = DATA / "gitleaks-token.sarif"
PLANTED_SECRET = "ghp_Zq8vR3mK1xT7pW2nL9sD4fH6jB0cY5aE8uQ1"

ANALYSIS = (
    "Classification: CWE-89 SQL Injection\n"
    "Severity: high\n"
    "Category: injection\n"
    "Root cause: The query is built by concatenating request input.\n"
    "Impact: An attacker can read or change any row of the database."
)
FIX_SENTENCE = "Pass the value as a query parameter."

FAKE_MODEL = AnalysisModel(
    source="model",
    spec="scripted-model",
    path=Path("/scripted"),
    content_hash="sha256:" + "ab" * 32,
    prompt_format="chatml",
)


def fix_answer(finding: Finding, source_root: Path, *, broken: bool = False) -> str:
    """A code-fix answer whose diff changes ``finding``'s flagged line in the real file, or in
    the lines the prompt showed when the file is not there (``# checked`` appended); with
    ``broken`` its context lines do not match."""
    excerpt = code_excerpt(finding)
    assert excerpt is not None and excerpt.path is not None and excerpt.flagged_line is not None
    file = source_root / excerpt.path
    # Without the file (a report read without its source tree), the lines the prompt showed.
    real = file.read_text(encoding="utf-8") if file.is_file() else shown_file(excerpt)
    lines = real.split("\n")
    changed = list(lines)
    changed[excerpt.flagged_line - 1] += "  # checked"
    if broken:
        lines[excerpt.flagged_line - 2] += "  # not in the file"
    diff = make_diff(excerpt.path, "\n".join(lines), "\n".join(changed))
    return f"Fix: {FIX_SENTENCE}\n\n```diff\n{diff}```"


@dataclass
class ScriptedCompleter:
    """A Completer answering from the findings it was given (see the module docstring)."""

    findings: Sequence[Finding]
    source_root: Path = PROJECT
    broken: frozenset[str] = frozenset()  # finding ids whose diff must not apply
    analysis: str = ANALYSIS
    calls: list[tuple[Task, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._fixes = {
            render_prompt(f, "codefix"): f for f in self.findings if code_excerpt(f) is not None
        }

    def __call__(self, prompts: Sequence[str], task: Task) -> list[str]:
        self.calls.append((task, len(prompts)))
        if task == "analysis":
            return [self.analysis for _ in prompts]
        answers = []
        for prompt in prompts:
            finding = self._fixes[prompt]
            answers.append(fix_answer(finding, self.source_root, broken=finding.id in self.broken))
        return answers
