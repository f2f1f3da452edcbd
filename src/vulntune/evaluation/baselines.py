"""Baselines that give a model's numbers a meaning: the majority class and a keyword lookup.

- **Majority**: every answer is the training split's most common CWE, severity, category,
  root cause and impact (each counted on its own); for fixes, the most common fix sentence
  and no diff (a constant diff cannot apply to different code).
- **Keyword lookup**: CWE, category and severity from the first entry of :data:`KEYWORDS`
  whose word occurs in the rule id or message (lower-cased; most specific entries first).
  The severity is the tool's own when the prompt reports one (mapped as the datasets map it),
  else the entry's. Without a matching word it answers the majority class. Root cause is
  the message itself. For fixes: where the prompt names a package with a fixed version and
  the code shows the installed one, it writes the upgrade diff itself; otherwise no diff.
- **Similar finding** (only for runs whose prompts carry similar training findings,
  ``datasets/similar.py``): the keyword lookup, with the CWE of the nearest similar finding the
  prompt names in place of the keyword's. It is what copying the first neighbour gets, so a
  model trained on such prompts has to beat it, not only the keyword lookup.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from vulntune.conversation import Example
from vulntune.datasets.completions import (
    AnalysisCompletion,
    CodeFixCompletion,
    parse_analysis,
    parse_codefix,
)
from vulntune.datasets.cwe_catalogue import CweCatalogue
from vulntune.datasets.taxonomy import AnalysisSeverity, Category
from vulntune.datasets.unified_diff import make_diff
from vulntune.evaluation.prompt_facts import PromptFacts, prompt_facts


@dataclass(frozen=True)
class Keyword:
    """Words that point at one weakness."""

    words: tuple[str, ...]
    cwe: int
    category: Category
    severity: AnalysisSeverity


# Most specific first: the first entry with a word in the rule id or message wins.
KEYWORDS: tuple[Keyword, ...] = (
    Keyword(("prototype pollution", "__proto__", "prototype-pollution"), 1321, "injection", "high"),
    Keyword(("template injection", "ssti", "template-injection"), 1336, "injection", "high"),
    Keyword(("log injection", "log forging", "log-injection"), 117, "injection", "medium"),
    Keyword(("sql", "sqli"), 89, "injection", "high"),
    Keyword(("nosql", "mongo"), 943, "injection", "high"),
    Keyword(("ldap",), 90, "injection", "high"),
    Keyword(("xpath",), 643, "injection", "high"),
    Keyword(("xxe", "external entit", "xml parser"), 611, "xxe", "high"),
    Keyword(("ssrf", "server-side request forgery", "server side request"), 918, "ssrf", "high"),
    Keyword(("open redirect", "open-redirect", "redirect"), 601, "open-redirect", "medium"),
    Keyword(("csrf", "cross-site request forgery"), 352, "csrf", "medium"),
    Keyword(
        ("xss", "cross-site scripting", "innerhtml", "autoescape", "html"), 79, "xss", "medium"
    ),
    Keyword(
        ("path traversal", "path-traversal", "directory traversal", "traversal"),
        22,
        "path-traversal",
        "high",
    ),
    Keyword(
        (
            "command injection",
            "os command",
            "subprocess",
            "shell=true",
            "child_process",
            "child-process",
            "os.system",
            "popen",
        ),
        78,
        "injection",
        "high",
    ),
    Keyword(("eval", "code injection", "exec"), 95, "injection", "high"),
    Keyword(
        ("deserializ", "pickle", "unserialize", "marshal", "yaml.load"),
        502,
        "deserialization",
        "high",
    ),
    Keyword(("upload",), 434, "injection", "high"),
    Keyword(("mass assignment", "mass-assignment"), 915, "injection", "medium"),
    Keyword(("private key", "private-key", "aws", "stripe"), 798, "secrets", "critical"),
    Keyword(
        ("secret", "api key", "api-key", "apikey", "password", "credential", "token"),
        798,
        "secrets",
        "high",
    ),
    Keyword(("jwt",), 347, "auth", "high"),
    Keyword(("md5", "sha1", "weak hash", "insecure hash", "hashlib"), 328, "crypto", "medium"),
    Keyword(("ecb", "rc4", "3des", "weak cipher", "blowfish"), 327, "crypto", "medium"),
    Keyword(("random", "prng"), 330, "crypto", "low"),
    Keyword(
        ("certificate", "verify=false", "tls", "ssl", "insecure transport"), 295, "crypto", "high"
    ),
    Keyword(
        ("buffer overflow", "strcpy", "strcat", "sprintf", "gets", "memcpy"),
        120,
        "memory-safety",
        "high",
    ),
    Keyword(("format string", "printf"), 134, "memory-safety", "high"),
    Keyword(("redos", "regular expression", "regex"), 1333, "dos", "medium"),
    Keyword(("denial of service", "resource exhaustion", "timeout", "dos"), 400, "dos", "medium"),
    Keyword(("hsts", "strict-transport-security", "http://"), 319, "misconfiguration", "low"),
    Keyword(("cookie", "httponly", "samesite"), 614, "misconfiguration", "low"),
    Keyword(("clickjacking", "x-frame-options", "frame"), 1021, "misconfiguration", "low"),
    Keyword(("debug",), 489, "misconfiguration", "medium"),
    Keyword(("root", "privileged", "privilege"), 250, "misconfiguration", "medium"),
    Keyword(("encrypt",), 311, "misconfiguration", "medium"),
    Keyword(("0.0.0.0", "ingress", "security group", "public"), 284, "misconfiguration", "high"),
    Keyword(("permission", "chmod", "world-writable"), 732, "misconfiguration", "medium"),
    Keyword(
        ("stack trace", "exposure", "sensitive", "information"),
        200,
        "information-disclosure",
        "medium",
    ),
)

# A tool's own severity word -> the analysis severity (as the datasets README maps them).
_REPORTED: dict[str, AnalysisSeverity] = {
    "critical": "critical",
    "high": "high",
    "error": "high",
    "important": "high",
    "medium": "medium",
    "moderate": "medium",
    "warning": "medium",
    "low": "low",
    "info": "low",
    "note": "low",
    "bestpractice": "low",
    "informational": "info",
    "manualreview": "info",
}
_CVSS = re.compile(r"^\d+(?:\.\d+)?$")


@dataclass(frozen=True)
class MajorityAnswers:
    """The most common value of each field in a training split."""

    cwe_id: int
    severity: AnalysisSeverity
    category: Category
    root_cause: str
    impact: str
    fix_sentence: str


def _most_common(values: Sequence[object], default: object) -> object:
    counted = Counter(v for v in values if v is not None)
    if not counted:
        return default
    best = max(counted.values())
    return next(v for v in values if v is not None and counted[v] == best)  # first of the ties


def majority_answers(analysis: Sequence[Example], codefix: Sequence[Example]) -> MajorityAnswers:
    """Count the fields of training completions."""
    parsed = [parse_analysis(e.completion) for e in analysis]
    fixes = [parse_codefix(e.completion).sentence for e in codefix]
    return MajorityAnswers(
        cwe_id=_most_common([p.cwe_id for p in parsed], 20),  # type: ignore[arg-type]
        severity=_most_common([p.severity for p in parsed], "medium"),  # type: ignore[arg-type]
        category=_most_common([p.category for p in parsed], "injection"),  # type: ignore[arg-type]
        root_cause=_most_common([p.root_cause for p in parsed], "Unknown."),  # type: ignore[arg-type]
        impact=_most_common([p.impact for p in parsed], "Unknown."),  # type: ignore[arg-type]
        fix_sentence=_most_common(fixes, "Apply the fix."),  # type: ignore[arg-type]
    )


class MajorityBaseline:
    """Answers every prompt with the training split's most common values."""

    name = "majority"

    def __init__(self, answers: MajorityAnswers, catalogue: CweCatalogue) -> None:
        self.answers, self.catalogue = answers, catalogue

    def analysis(self, prompt: str) -> str:
        a = self.answers
        return _analysis_text(
            self.catalogue, a.cwe_id, a.severity, a.category, a.root_cause, a.impact
        )

    def codefix(self, prompt: str) -> str:
        return f"Fix: {self.answers.fix_sentence}"


class KeywordBaseline:
    """The keyword lookup of :data:`KEYWORDS`, falling back to the majority class."""

    name = "keyword"

    def __init__(self, answers: MajorityAnswers, catalogue: CweCatalogue) -> None:
        self.answers, self.catalogue = answers, catalogue

    def analysis(self, prompt: str) -> str:
        facts = prompt_facts(prompt)
        keyword = match_keyword(f"{facts.rule or ''} {facts.message or ''}")
        a = self.answers
        cwe = self._cwe(facts, keyword)
        category: Category = keyword.category if keyword else a.category
        if facts.package is not None:
            category = "vulnerable-dependency"
        severity = reported_severity(facts.reported_severity) or (
            keyword.severity if keyword else a.severity
        )
        root_cause = facts.message or a.root_cause
        return _analysis_text(self.catalogue, cwe, severity, category, root_cause, a.impact)

    def _cwe(self, facts: PromptFacts, keyword: Keyword | None) -> int:
        return keyword.cwe if keyword else self.answers.cwe_id

    def codefix(self, prompt: str) -> str:
        facts = prompt_facts(prompt)
        diff = dependency_upgrade_diff(facts)
        if diff is None:
            return f"Fix: {self.answers.fix_sentence}"
        sentence = (
            f"Upgrade {facts.package} to {facts.fixed_version}, the advisory's fixed version."
        )
        return CodeFixCompletion(sentence, diff).text()


class SimilarBaseline(KeywordBaseline):
    """The keyword lookup with the nearest similar training finding's CWE."""

    name = "similar"

    def _cwe(self, facts: PromptFacts, keyword: Keyword | None) -> int:
        if facts.similar_cwe is not None and self.catalogue.name(facts.similar_cwe):
            return facts.similar_cwe
        return super()._cwe(facts, keyword)


def match_keyword(text: str) -> Keyword | None:
    """The first entry of :data:`KEYWORDS` with a word in ``text`` (case-insensitive)."""
    lowered = text.lower()
    return next((k for k in KEYWORDS if any(w in lowered for w in k.words)), None)


def reported_severity(value: str | None) -> AnalysisSeverity | None:
    """A tool's severity word or CVSS score as an analysis severity; None if unknown."""
    if not value:
        return None
    word = value.strip().lower().replace(" ", "")
    if _CVSS.match(word):
        score = float(word)
        return (
            "critical"
            if score >= 9
            else "high"
            if score >= 7
            else "medium"
            if score >= 4
            else "low"
        )
    return _REPORTED.get(word)


def dependency_upgrade_diff(facts: PromptFacts) -> str | None:
    """The diff that replaces the installed version by the fixed one on the first code line
    that names both the installed version and (where it fits) the package; None when the
    prompt lacks what that needs."""
    if not (facts.code and facts.path and facts.installed_version and facts.fixed_version):
        return None
    lines = facts.code.split("\n")
    name = (facts.package or "").split(":")[-1].split("/")[-1].lower()
    candidates = [i for i, line in enumerate(lines) if facts.installed_version in line]
    named = [i for i in candidates if name and name in lines[i].lower()]
    index = (named or candidates or [None])[0]
    if index is None:
        return None
    new_lines = list(lines)
    new_lines[index] = lines[index].replace(facts.installed_version, facts.fixed_version, 1)
    diff = make_diff(facts.path, facts.code, "\n".join(new_lines))
    # The code block starts at the file line that puts the flagged line where it is shown.
    first = (facts.line - index) if facts.line is not None and facts.line > index else 1
    return _shift_hunks(diff, first - 1)


def _shift_hunks(diff: str, offset: int) -> str:
    def shift(match: re.Match[str]) -> str:
        old, old_n, new, new_n = match.groups()
        return f"@@ -{int(old) + offset},{old_n} +{int(new) + offset},{new_n} @@"

    return re.sub(r"^@@ -(\d+),(\d+) \+(\d+),(\d+) @@", shift, diff, flags=re.M)


def _analysis_text(
    catalogue: CweCatalogue,
    cwe: int,
    severity: AnalysisSeverity,
    category: Category,
    root_cause: str,
    impact: str,
) -> str:
    name = catalogue.name(cwe) or "Unknown weakness"
    return AnalysisCompletion(
        cwe, name, severity, category, " ".join(root_cause.split()), " ".join(impact.split())
    ).text()
