"""The built-in datasets: strict JSONL, prompt and completion layouts, diffs that apply to the
code they fix, consistent classifications and severities, and nothing that looks like a secret.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from vulntune.datasets import builtin
from vulntune.datasets.builtin import (
    ANALYSIS_CATEGORIES,
    ANALYSIS_SEVERITIES,
    BUILTIN_DATASETS,
    builtin_dataset_path,
    load_builtin,
)
from vulntune.errors import VulntuneError
from vulntune.findings.redact import MARKER_RE, redact_text

EXPECTED_COUNTS = {"analysis": 48, "codefix": 48, "heldout": 8}
ID_PREFIX = {"analysis": "an-", "codefix": "cf-", "heldout": "ho-"}
HEADER = {
    "analysis": "Analyze this security finding.",
    "codefix": "Fix this security finding.",
    "heldout": "Analyze this security finding.",
}
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
    "Code",
)
ANALYSIS_LINES = ("Classification", "Severity", "Category", "Root cause", "Impact")

ALL = {name: load_builtin(name) for name in BUILTIN_DATASETS}
RECORDS = [(name, r) for name in BUILTIN_DATASETS for r in ALL[name]]
ANALYSES = [(name, r) for name, r in RECORDS if name != "codefix"]
CODEFIXES = ALL["codefix"]


# -------------------------------------------------------------------------------- parsing


@dataclass
class Prompt:
    header: str
    fields: dict[str, str]  # in prompt order; "Code" holds the block, newline-joined
    code: list[str]


def parse_prompt(text: str) -> Prompt:
    lines = text.split("\n")
    fields: dict[str, str] = {}
    code: list[str] = []
    for i, line in enumerate(lines[1:], start=1):
        if line == "Code:":
            code = lines[i + 1 :]
            fields["Code"] = "\n".join(code)
            break
        key, sep, value = line.partition(": ")
        assert sep and value, f"not a 'Key: value' line: {line!r}"
        assert key in FIELD_ORDER and key != "Code", f"unknown field {key!r}"
        assert key not in fields, f"field {key!r} twice"
        fields[key] = value
    return Prompt(lines[0], fields, code)


def parse_analysis(text: str) -> dict[str, str]:
    lines = text.split("\n")
    assert len(lines) == len(ANALYSIS_LINES), f"expected 5 lines, got {len(lines)}"
    out = {}
    for expected_key, line in zip(ANALYSIS_LINES, lines, strict=True):
        key, sep, value = line.partition(": ")
        assert key == expected_key and sep and value.strip() == value and value, line
        out[key] = value
    return out


@dataclass
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: list[str]  # with their " ", "-" or "+" prefix

    @property
    def old(self) -> list[str]:
        return [line[1:] for line in self.lines if line[0] in " -"]

    @property
    def new(self) -> list[str]:
        return [line[1:] for line in self.lines if line[0] in " +"]

    def context_around(self) -> tuple[int, int]:
        """Context lines before the first change and after the last one."""
        prefixes = [line[0] for line in self.lines]
        changed = [i for i, p in enumerate(prefixes) if p != " "]
        return changed[0], len(prefixes) - 1 - changed[-1]


HUNK_HEADER = re.compile(r"@@ -(\d+),(\d+) \+(\d+),(\d+) @@")


def parse_codefix(text: str) -> tuple[str, str, list[Hunk]]:
    """(fix sentence, path, hunks) of a code-fix completion; asserts its layout."""
    lines = text.split("\n")
    assert lines[0].startswith("Fix: ") and lines[0].endswith("."), lines[0]
    assert lines[1] == "```diff" and lines[-1] == "```", "diff must be one ```diff block"
    diff = lines[2:-1]
    assert diff[0].startswith("--- a/") and diff[1].startswith("+++ b/"), diff[:2]
    path = diff[0][len("--- a/") :]
    assert diff[1][len("+++ b/") :] == path, "old and new file names differ"
    hunks: list[Hunk] = []
    for line in diff[2:]:
        header = HUNK_HEADER.fullmatch(line)
        if header:
            hunks.append(Hunk(*map(int, header.groups()), lines=[]))
            continue
        assert hunks, f"diff line before the first hunk header: {line!r}"
        assert line[:1] in (" ", "-", "+"), f"not a diff line: {line!r}"
        hunks[-1].lines.append(line)
    assert hunks, "no hunks"
    return lines[0][len("Fix: ") :], path, hunks


def apply_to_block(code: list[str], hunks: list[Hunk]) -> tuple[int, list[str]]:
    """Apply hunks to the prompt's code block. Returns the file line number of the block's
    first line (implied by the hunk headers) and the patched block."""
    first_line: int | None = None
    delta = 0  # new-file minus old-file line numbers after the hunks applied so far
    cursor = 0  # block index below which earlier hunks already matched
    result: list[str] = []
    for hunk in hunks:
        assert len(hunk.old) == hunk.old_count, "old line count does not match the header"
        assert len(hunk.new) == hunk.new_count, "new line count does not match the header"
        assert any(line[0] in "-+" for line in hunk.lines), "hunk changes nothing"
        assert hunk.new_start == hunk.old_start + delta, "new start does not follow old start"
        positions = [
            p
            for p in range(cursor, len(code) - len(hunk.old) + 1)
            if code[p : p + len(hunk.old)] == hunk.old
            and (first_line is None or hunk.old_start - p == first_line)
        ]
        assert positions, f"hunk at line {hunk.old_start} does not match the code shown"
        position = positions[0]
        first_line = hunk.old_start - position
        result += code[cursor:position] + hunk.new
        cursor = position + len(hunk.old)
        delta += hunk.new_count - hunk.old_count
    assert first_line is not None and first_line >= 1
    return first_line, result + code[cursor:]


def expected_severity(tool: str, reported: str) -> str:
    """The documented mapping of a tool's own severity onto the five normalised levels."""
    if re.fullmatch(r"\d+(\.\d+)?", reported):  # CodeQL security-severity, OSV CVSS
        score = float(reported)
        return (
            "critical"
            if score >= 9
            else "high"
            if score >= 7
            else "medium"
            if score >= 4
            else "low"
        )
    table = {
        "semgrep": {"ERROR": "high", "WARNING": "medium", "INFO": "low"},
        "bandit": {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"},
        "trivy": {"CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low"},
        "npm-audit": {"critical": "critical", "high": "high", "moderate": "medium", "low": "low"},
        "zap": {"High": "high", "Medium": "medium", "Low": "low", "Informational": "info"},
        "devskim": {
            "Critical": "critical",
            "Important": "high",
            "Moderate": "medium",
            "BestPractice": "low",
            "ManualReview": "info",
        },
    }
    return table[tool][reported]


# -------------------------------------------------------------------------------- files


def test_counts_are_pinned() -> None:
    assert {name: len(records) for name, records in ALL.items()} == EXPECTED_COUNTS


@pytest.mark.parametrize("name", BUILTIN_DATASETS)
def test_files_are_strict_utf8_jsonl(name: str) -> None:
    raw = builtin_dataset_path(name).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no byte-order mark"
    assert b"\r" not in raw and raw.endswith(b"\n")
    lines = raw.decode("utf-8").split("\n")[:-1]
    assert all(lines), "no blank lines"
    for line in lines:
        record = json.loads(line)
        assert set(record) == {"id", "prompt", "completion"}
        assert all(isinstance(v, str) and v.strip() == v and v for v in record.values())
    assert [json.loads(line) for line in lines] == ALL[name]


def test_ids_are_unique_and_shaped() -> None:
    ids = [r["id"] for records in ALL.values() for r in records]
    assert len(ids) == len(set(ids))
    for name, records in ALL.items():
        for record in records:
            tool = parse_prompt(record["prompt"]).fields["Tool"]
            slug = tool.removesuffix("-scanner")
            assert re.fullmatch(r"[a-z]{2}(-[a-z0-9]+)+-\d{2}", record["id"]), record["id"]
            assert record["id"].startswith(ID_PREFIX[name] + slug + "-"), record["id"]


def test_no_duplicate_prompts_or_completions() -> None:
    for key in ("prompt", "completion"):
        texts = [r[key] for records in ALL.values() for r in records]
        assert len(texts) == len(set(texts)), f"duplicate {key}"


def test_heldout_rules_never_appear_in_training() -> None:
    def rules(name: str) -> set[tuple[str, str]]:
        fields = [parse_prompt(r["prompt"]).fields for r in ALL[name]]
        return {(f["Tool"], f["Rule"]) for f in fields}

    assert not rules("heldout") & (rules("analysis") | rules("codefix"))


def test_examples_stay_short_for_cpu_training() -> None:
    sizes = [len(r["prompt"]) + len(r["completion"]) for records in ALL.values() for r in records]
    # About 4 characters per token: every example 125-450 tokens, 200 on average.
    assert min(sizes) >= 500 and max(sizes) <= 1800
    assert sum(sizes) / len(sizes) <= 900


# -------------------------------------------------------------------------------- prompts


@pytest.mark.parametrize(("name", "record"), RECORDS, ids=[r["id"] for _, r in RECORDS])
def test_prompt_layout(name: str, record: dict) -> None:
    prompt = parse_prompt(record["prompt"])
    fields = prompt.fields
    assert prompt.header == HEADER[name]
    order = [FIELD_ORDER.index(key) for key in fields]
    assert order == sorted(order), f"fields out of order: {list(fields)}"
    assert {"Tool", "Rule", "Message"} <= set(fields)
    assert re.fullmatch(r"[a-z][a-z-]*", fields["Tool"])
    if "Reported severity" in fields:
        assert name != "codefix", "code-fix prompts carry no reported severity"
    if "Location" in fields:
        assert re.fullmatch(r"[^\s:]+(:[1-9]\d*)?", fields["Location"]), fields["Location"]
    if "Package" in fields:
        assert re.fullmatch(r"[A-Za-z]+ \S+ \S+ \(fixed in \S+\)", fields["Package"])
        assert re.fullmatch(r"CVE-\d{4}-\d{4,}", fields.get("Vulnerability", ""))
    if "URL" in fields:
        assert re.fullmatch(r"(GET|POST|PUT|PATCH|DELETE) https://\S+", fields["URL"])
    if "Evidence" in fields:
        assert "URL" in fields
    if name == "codefix":
        assert re.fullmatch(r"\S+:\d+", fields.get("Location", "")), "fixes need path:line"
        assert prompt.code, "fixes need code"
    else:
        assert prompt.code or "Package" in fields or "URL" in fields
    if prompt.code:
        assert prompt.code[0].strip() and prompt.code[-1].strip()
    for line in record["prompt"].split("\n"):
        assert line == line.rstrip(), f"trailing whitespace: {line!r}"


# -------------------------------------------------------------------------------- analyses


@pytest.mark.parametrize(("name", "record"), ANALYSES, ids=[r["id"] for _, r in ANALYSES])
def test_analysis_completion_layout(name: str, record: dict) -> None:
    fields = parse_prompt(record["prompt"]).fields
    analysis = parse_analysis(record["completion"])
    assert re.fullmatch(r"CWE-[1-9]\d* \S.*", analysis["Classification"])
    assert analysis["Severity"] in ANALYSIS_SEVERITIES
    assert analysis["Category"] in ANALYSIS_CATEGORIES
    is_dependency = "Package" in fields
    assert (analysis["Category"] == "vulnerable-dependency") == is_dependency
    for key in ("Root cause", "Impact"):
        assert 60 <= len(analysis[key]) <= 320 and analysis[key].endswith("."), key
    if "Reported severity" in fields:
        reported = fields["Reported severity"]
        assert analysis["Severity"] == expected_severity(fields["Tool"], reported)


def test_each_cwe_id_has_one_name() -> None:
    names: dict[str, set[str]] = defaultdict(set)
    for _, record in ANALYSES:
        cwe, name = parse_analysis(record["completion"])["Classification"].split(" ", 1)
        names[cwe].add(name)
    assert {cwe: n for cwe, n in names.items() if len(n) > 1} == {}
    assert names["CWE-89"] == {
        "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')"
    }


def test_analyses_cover_many_tools_and_categories() -> None:
    tools = {parse_prompt(r["prompt"]).fields["Tool"] for r in ALL["analysis"]}
    categories = {parse_analysis(r["completion"])["Category"] for r in ALL["analysis"]}
    severities = {parse_analysis(r["completion"])["Severity"] for r in ALL["analysis"]}
    assert len(tools) >= 10 and len(categories) >= 12
    assert {"critical", "high", "medium", "low"} <= severities


# -------------------------------------------------------------------------------- code fixes


@pytest.mark.parametrize("record", CODEFIXES, ids=[r["id"] for r in CODEFIXES])
def test_codefix_diff_applies_to_the_code_shown(record: dict) -> None:
    prompt = parse_prompt(record["prompt"])
    fix, path, hunks = parse_codefix(record["completion"])
    location_path, location_line = prompt.fields["Location"].rsplit(":", 1)
    assert path == location_path
    first_line, patched = apply_to_block(prompt.code, hunks)
    assert patched != prompt.code
    # git apply reads a hunk without trailing context as "at end of file", and patch -F0 reads
    # uneven context as "at start/end of file". The code shown is an excerpt, so every hunk
    # needs two context lines on both sides, except before a change that starts at line 1.
    for hunk in hunks:
        before, after = hunk.context_around()
        assert after == 2 and (before == 2 or hunk.old_start == 1), (hunk.old_start, before, after)
    assert first_line <= int(location_line) < first_line + len(prompt.code), (
        "the Location line lies outside the code block as the diff numbers it"
    )
    assert 40 <= len(fix) <= 260


def test_diff_checker_rejects_broken_diffs() -> None:
    code = ["a", "b", "c"]
    good = [Hunk(10, 2, 10, 2, [" a", "-b", "+B"])]
    assert apply_to_block(code, good) == (10, ["a", "B", "c"])
    assert good[0].context_around() == (1, 0)
    wrong_count = [Hunk(10, 3, 10, 2, [" a", "-b", "+B"])]
    with pytest.raises(AssertionError, match="old line count"):
        apply_to_block(code, wrong_count)
    not_in_code = [Hunk(10, 2, 10, 2, [" a", "-x", "+B"])]
    with pytest.raises(AssertionError, match="does not match the code"):
        apply_to_block(code, not_in_code)
    inconsistent_numbers = [Hunk(10, 1, 10, 1, ["-a", "+A"]), Hunk(20, 1, 20, 1, ["-c", "+C"])]
    with pytest.raises(AssertionError, match="does not match the code"):
        apply_to_block(code, inconsistent_numbers)


# -------------------------------------------------------------------------------- secrets

SECRET_PATTERNS = {
    "aws key id": r"(?:AKIA|ASIA)[0-9A-Z]{16}",
    "github token": r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}",
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "slack": r"xox[abposr]-[A-Za-z0-9-]+|hooks\.slack\.com/services/",
    "stripe": r"[rs]k_(?:live|test)_[A-Za-z0-9]+",
    "google api key": r"AIza[0-9A-Za-z_-]{20,}",
    "jwt": r"eyJ[A-Za-z0-9_-]{8,}\.eyJ",
}


@pytest.mark.parametrize("name", BUILTIN_DATASETS)
def test_no_secret_looking_strings(name: str) -> None:
    text = builtin_dataset_path(name).read_text(encoding="utf-8")
    for what, pattern in SECRET_PATTERNS.items():
        assert not re.search(pattern, text), f"{name} contains something like a {what}"
    for record in ALL[name]:
        for key in ("prompt", "completion"):
            # The project's own redactor finds nothing left to redact...
            assert redact_text(record[key]) == record[key], (record["id"], key)
            # ...and every marker is in the format it writes.
            for marker in re.findall(r"«[^»]*»", record[key]):
                assert MARKER_RE.fullmatch(marker), (record["id"], marker)


def test_secret_findings_show_markers_not_values() -> None:
    for name, records in ALL.items():
        for record in records:
            if parse_prompt(record["prompt"]).fields["Tool"] == "gitleaks":
                assert "«redacted:" in record["prompt"], (name, record["id"])


# -------------------------------------------------------------------------------- API


def test_builtin_dataset_path_points_at_packaged_files() -> None:
    for name in BUILTIN_DATASETS:
        path = builtin_dataset_path(name)
        assert path.is_file() and path.name == f"{name}.jsonl"
        assert path.parent.name == "builtin" and path.parent.parent.name == "datasets"


def test_unknown_name_is_refused_with_the_valid_ones() -> None:
    for call in (builtin_dataset_path, load_builtin):
        with pytest.raises(VulntuneError) as err:
            call("analyses")
        message = str(err.value)
        assert "'analyses'" in message
        assert all(name in message for name in BUILTIN_DATASETS)


def test_load_builtin_names_the_bad_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    broken = tmp_path / "analysis.jsonl"
    monkeypatch.setattr(builtin, "_resource", lambda name: broken)
    broken.write_text('{"id": "a", "prompt": "p", "completion": "c"}\n{"id": \n', encoding="utf-8")
    with pytest.raises(VulntuneError, match=r"line 2: invalid JSON"):
        load_builtin("analysis")
    broken.write_text('{"id": "a", "prompt": "p"}\n', encoding="utf-8")
    with pytest.raises(VulntuneError, match=r"line 1: needs non-empty string fields"):
        load_builtin("analysis")
