"""check_fix: a suggested diff counts only when it applies to the code the prompt showed, and
its SARIF replacements reproduce it on the real file."""

from __future__ import annotations

import dataclasses

import pytest

from vulntune.datasets.render import code_excerpt
from vulntune.datasets.unified_diff import apply_check, apply_replacements
from vulntune.datasets.unified_diff.write import make_diff
from vulntune.inference.analyze_fix import check_fix, shown_file
from vulntune.inference.analyze_inputs import read_inputs

from .scripted import CODEQL, FIX_SENTENCE, PROJECT, fix_answer


@pytest.fixture(scope="module")
def finding():
    return read_inputs([CODEQL], PROJECT).report.findings[1]  # app/db.py:7, the concatenation


def test_an_applying_diff_becomes_replacements_that_reproduce_it(finding):
    answer = fix_answer(finding, PROJECT)
    fix = check_fix(finding, answer)
    assert fix is not None and fix.applies, fix
    assert fix.sentence == FIX_SENTENCE and fix.path == "app/db.py"
    assert len(fix.replacements) == 1
    real = (PROJECT / "app/db.py").read_text(encoding="utf-8")
    patched = apply_check(fix.diff, {"app/db.py": real}).patched
    assert patched is not None
    assert apply_replacements(real, fix.replacements) == patched["app/db.py"]
    (replacement,) = fix.replacements
    assert replacement.start_line <= 7 <= replacement.end_line


def test_two_hunks_give_two_replacements(finding):
    excerpt = code_excerpt(finding)
    assert excerpt is not None and excerpt.first_line is not None
    shown = shown_file(excerpt)
    lines = shown.split("\n")
    first, last = excerpt.first_line, excerpt.first_line + len(excerpt.lines) - 2
    lines[first] += "  # hunk 1"  # the block's second line and its last but one
    lines[last - 1] += "  # hunk 2"
    changed = "\n".join(lines)
    diff = make_diff("app/db.py", shown, changed, context=1)
    fix = check_fix(finding, f"Fix: two places.\n```diff\n{diff}```")
    assert fix is not None and fix.applies, fix
    assert len(fix.replacements) == 2
    assert apply_replacements(shown, fix.replacements) == changed


def test_a_diff_whose_context_does_not_match_does_not_apply(finding):
    fix = check_fix(finding, fix_answer(finding, PROJECT, broken=True))
    assert fix is not None and not fix.applies
    assert fix.replacements == () and fix.problem


def test_a_diff_outside_the_shown_lines_does_not_apply(finding):
    # Line 1 of the file is shown (the block starts there), but a hunk claiming the file ends
    # after the block cannot be checked: the block is not known to end the file.
    excerpt = code_excerpt(finding)
    assert excerpt is not None and excerpt.first_line is not None
    shown = shown_file(excerpt).split("\n")
    assert "was not shown" in shown[excerpt.last_line]  # one placeholder after the block
    diff = (
        "--- a/app/db.py\n+++ b/app/db.py\n"
        f"@@ -{excerpt.last_line},1 +{excerpt.last_line},2 @@\n"
        f" {excerpt.lines[-1]}\n+# appended at the end\n"
        "\\ No newline at end of file\n"
    )
    fix = check_fix(finding, f"Fix: x\n```diff\n{diff}```")
    assert fix is not None and not fix.applies


def test_a_diff_for_another_file_does_not_apply(finding):
    answer = fix_answer(finding, PROJECT).replace("app/db.py", "app/other.py")
    fix = check_fix(finding, answer)
    assert fix is not None and not fix.applies


def test_no_diff_is_no_fix(finding):
    assert check_fix(finding, "Fix: sanitise the input.") is None


def test_a_diff_changing_a_redacted_line_never_applies(finding):
    # The prompt shows a marker where the file has the token; an edit of that line cannot be
    # carried over to the real file.
    assert finding.context is not None
    excerpt = code_excerpt(finding)
    assert excerpt is not None
    token_line = next(i for i, text in enumerate(excerpt.lines) if "API_TOKEN" in text)
    assert "«redacted:" in excerpt.lines[token_line]
    assert excerpt.first_line is not None
    shown = shown_file(excerpt)
    lines = shown.split("\n")
    lines[excerpt.first_line - 1 + token_line] = "API_TOKEN = os.environ['API_TOKEN']"
    diff = make_diff("app/db.py", shown, "\n".join(lines))
    fix = check_fix(finding, f"Fix: read it from the environment.\n```diff\n{diff}```")
    assert fix is not None and not fix.applies
    assert fix.problem is not None and "redacted" in fix.problem


def test_a_snippet_without_line_numbers_gives_no_applying_fix(finding):
    bare = dataclasses.replace(finding, context=None, location=None)
    fix = check_fix(bare, fix_answer(finding, PROJECT))
    assert fix is None or not fix.applies
