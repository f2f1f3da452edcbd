"""`analyze --format jsonl` and `--format md` on the same input as the SARIF tests."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from vulntune.inference.analyze_inputs import read_inputs
from vulntune.inference.analyze_job import analyze_reports
from vulntune.inference.analyze_text import code_fence, escape_markdown, first_sentence

from .scripted import CODEQL, FAKE_MODEL, GITLEAKS, PROJECT, ScriptedCompleter

NOW = datetime(2026, 1, 2, tzinfo=UTC)


def analyse(output_format, paths=(CODEQL, GITLEAKS), **kwargs):
    findings = read_inputs(list(paths), PROJECT).report.findings
    completer = kwargs.pop("completer", None) or ScriptedCompleter(findings)
    return analyze_reports(
        list(paths), FAKE_MODEL, completer, output_format, source_root=PROJECT, now=NOW, **kwargs
    )


def test_jsonl_has_one_record_per_finding_in_input_order():
    outcome = analyse("jsonl")
    records = [json.loads(line) for line in outcome.text.splitlines()]
    assert len(records) == len(outcome.result.items) == 4
    assert [r["id"] for r in records] == [i.finding.id for i in outcome.result.items]
    first = records[0]
    assert first["tool"] == "codeql" and first["rule_id"] == "py/sql-injection"
    assert first["status"] == "analysed"
    assert first["analysis"]["cwe"] == "CWE-89"
    assert set(first["analysis"]) == {
        "cwe", "cwe_name", "severity", "category", "root_cause", "impact", "text"
    }  # fmt: skip
    assert first["fix"]["applies"] is True and first["fix"]["diff"].startswith("--- a/app/db.py")
    passed = next(r for r in records if r["status"] == "no context")
    assert passed["analysis"] is None and passed["fix"] is None
    secret = next(r for r in records if r["tool"] == "gitleaks")
    assert secret["fix"] is None


def test_markdown_lists_the_most_severe_first_with_the_diff_fenced():
    findings = read_inputs([CODEQL], PROJECT).report.findings
    levels = iter(["low", "critical"])

    def completer(prompts, task):
        if task == "analysis":
            return [f"Classification: CWE-89 x\nSeverity: {next(levels)}" for _ in prompts]
        return ScriptedCompleter(findings)(prompts, task)

    text = analyse("md", paths=[CODEQL], completer=completer).text
    assert text.startswith("## vulntune: 3 finding(s), 2 analysed")
    sections = re.findall(r"^### \d+\. (\w+) ", text, flags=re.MULTILINE)
    assert sections == ["critical", "low"]
    assert "Passed through unchanged: 1 no context." in text
    assert text.count("```diff\n--- a/app/db.py") == 2


def test_markdown_escapes_what_the_scanner_and_the_model_wrote(tmp_path):
    doc = json.loads(CODEQL.read_text(encoding="utf-8"))
    doc["runs"][0]["results"][1]["message"]["text"] = (
        "Click [here](https://evil.example) <img src=x onerror=alert(1)> @admin #123."
    )
    path = tmp_path / "hostile.sarif"
    path.write_text(json.dumps(doc), encoding="utf-8")
    findings = read_inputs([path], PROJECT).report.findings
    hostile = (
        "Classification: CWE-89 x\nSeverity: high\nCategory: injection\n"
        "Root cause: ![pixel](https://evil.example/t.png) <script>x</script>\n"
        "Impact: @everyone ## heading"
    )
    completer = ScriptedCompleter(findings, analysis=hostile)
    text = analyse("md", paths=[path], completer=completer).text
    assert "](https://evil" not in text and "<img" not in text and "<script>" not in text
    assert "@admin" not in text and "@everyone" not in text
    assert "\\[here\\]" in text and "&lt;script&gt;" in text


def test_text_helpers():
    assert first_sentence("Use e.g. this. Then that.") == ("Use e.g. this.", "Then that.")
    assert first_sentence("Version 1.2 is bad! More") == ("Version 1.2 is bad!", "More")
    assert first_sentence("no end") == ("no end", "")
    assert escape_markdown("a*b_c\n[x](y)") == "a\\*b\\_c \\[x\\]\\(y\\)"
    assert code_fence("x ``` y", "diff") == "````diff\nx ``` y\n````"


@pytest.mark.parametrize("output_format", ["sarif", "jsonl", "md"])
def test_output_is_written_atomically_to_the_named_file(tmp_path, output_format):
    out = tmp_path / f"analysis.{output_format}"
    outcome = analyse(output_format, output=out)
    assert out.read_text(encoding="utf-8") == outcome.text
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
