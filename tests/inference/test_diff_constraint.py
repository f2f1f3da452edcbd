"""Structured code fixes: whatever the model prefers, a finished diff applies to the prompt's
code and changes it; headers are counted from their bodies; added lines do not loop."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vulntune.datasets.unified_diff.apply import apply_check
from vulntune.evaluation.metrics import parse_codefix
from vulntune.inference.diff_constraint import (
    MAX_ADDED_LINES,
    DiffConstraint,
    DiffRow,
    rewrite_hunk_headers,
)
from vulntune.inference.generate import Generator
from vulntune.inference.vocab import TokenVocab

CODE = [
    "import os",
    "",
    "def run(cmd):",
    "    os.system(cmd)",
    "    return True",
    "",
    "def main():",
    "    run('ls')",
]
PROMPT = (
    "Fix this security finding.\nTool: bandit\nRule: B605\nLocation: app.py:4\n"
    "Message: Starting a process with a shell.\nCode:\n" + "\n".join(CODE)
)
HEAD = (
    "Fix: Run the command without a shell.\n```diff\n--- a/app.py\n+++ b/app.py\n@@ -3,5 +3,5 @@\n"
)


@pytest.fixture(scope="module")
def constraint(tiny_generator: Generator) -> DiffConstraint:
    vocab = TokenVocab.from_tokenizer(tiny_generator.tokenizer, tiny_generator.stop_ids)
    return DiffConstraint(vocab, tiny_generator.stop_ids)


def _feed(constraint: DiffConstraint, row: DiffRow, text: str) -> None:
    """Write ``text`` into ``row`` token by token (longest match), as allowed tokens."""
    for token in constraint.vocab.longest_match(text) or []:
        assert constraint.mask(row)[token], f"{text!r}: {constraint.vocab.text_of(token)!r}"
        constraint.advance(row, token)


def _drive(constraint: DiffConstraint, row: DiffRow, logits_for, steps: int = 600) -> str:
    pieces: list[str] = []
    for step in range(steps):
        token = constraint.choose(row, logits_for(step, row))
        assert constraint.mask(row)[token] or row.mode == "done"
        constraint.advance(row, token)
        if token in constraint.stop_ids:
            break
        pieces.append(constraint.vocab.text_of(token) or "")
    return "".join(pieces)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_a_finished_diff_applies_to_the_prompts_code_whatever_the_logits(
    constraint: DiffConstraint, seed: int
):
    rng = torch.Generator().manual_seed(seed)
    row = constraint.start(PROMPT)
    _feed(constraint, row, HEAD)
    size = len(constraint.vocab)
    # Random logits, with line ends and the fence often favoured so that lines and hunks
    # end (on a 50k vocabulary plain noise almost never picks them).
    ends = torch.tensor([(p or "").endswith(("\n", "`")) for p in constraint.vocab.pieces])

    def logits(*_: object) -> torch.Tensor:
        noise = torch.randn(size, generator=rng) * 5
        return noise + ends * 12 * torch.rand(1, generator=rng)

    text = HEAD + _drive(constraint, row, logits)
    answer = constraint.finish(row, text)
    if row.mode != "done":  # cut off by the step limit before the fence closed
        return
    diff = parse_codefix(answer).diff
    assert diff is not None, answer
    result = apply_check(diff, {"app.py": "\n".join(CODE) + "\n"})
    assert result.applies, (answer, result.problem)
    assert result.patched != {"app.py": "\n".join(CODE) + "\n"}  # it changes something


def test_a_line_the_file_does_not_have_is_written_as_the_files_own(constraint: DiffConstraint):
    """The model wants " os.system(cmd, shell=True)" as context: only the real line fits."""
    row = constraint.start(PROMPT)
    _feed(constraint, row, HEAD)
    wanted = " def run(command):\n"
    ids = constraint.vocab.longest_match(wanted) or []
    logits = torch.zeros(len(constraint.vocab))
    logits[ids] = 10.0
    for _ in range(12):
        token = constraint.choose(row, logits)
        constraint.advance(row, token)
        if row.mode == "line_start":
            break
    assert row.places == [(2, 3)]  # "def run(cmd):" is line 3 of the code


def test_the_fence_closes_only_after_a_change_and_two_lines_of_context(
    constraint: DiffConstraint,
):
    row = constraint.start(PROMPT)
    _feed(constraint, row, HEAD + " def run(cmd):\n")
    fence = constraint.vocab.longest_match("```")[0]
    assert not constraint.mask(row)[fence]  # nothing changed yet
    _feed(constraint, row, "-    os.system(cmd)\n+    subprocess.run(cmd.split())\n")
    assert not constraint.mask(row)[fence]  # no trailing context yet
    _feed(constraint, row, "     return True\n")
    assert not constraint.mask(row)[fence]
    _feed(constraint, row, " \n")
    assert constraint.mask(row)[fence]
    _feed(constraint, row, "```")
    assert row.mode == "done" and row.hunk_starts == [2]
    assert constraint.choose(row, torch.zeros(len(constraint.vocab))) in constraint.stop_ids


def test_an_added_line_may_not_repeat_one_the_hunk_added(constraint: DiffConstraint):
    row = constraint.start(PROMPT)
    _feed(constraint, row, HEAD + " def run(cmd):\n-    os.system(cmd)\n+    x = 1\n+    x = 1")
    newline = constraint.vocab.longest_match("\n")[0]
    assert not constraint.mask(row)[newline]
    _feed(constraint, row, "2\n")  # "    x = 12" is a new line
    assert row.added == ["    x = 1", "    x = 12"]


def test_added_lines_stop_at_the_cap(constraint: DiffConstraint):
    row = constraint.start(PROMPT)
    added = "".join(f"+    x{i} = {i}\n" for i in range(MAX_ADDED_LINES))
    _feed(constraint, row, HEAD + " def run(cmd):\n" + added)
    plus = constraint.vocab.longest_match("+")[0]
    assert not constraint.mask(row)[plus]


def test_headers_are_counted_from_their_bodies():
    text = (
        "Fix: x\n```diff\n--- a/f\n+++ b/f\n@@ -1,9 +1,9 @@\n a\n-b\n+c\n+d\n e\n"
        "@@ -7,1 +7,1 @@ def f():\n g\n-h\n i\n```"
    )
    assert rewrite_hunk_headers(text, [3, 6]) == (
        "Fix: x\n```diff\n--- a/f\n+++ b/f\n@@ -4,3 +4,4 @@\n a\n-b\n+c\n+d\n e\n"
        "@@ -7,3 +8,2 @@ def f():\n g\n-h\n i\n```"
    )
    # A stated start of 1 stays when the hunk does begin at the first line.
    assert rewrite_hunk_headers("@@ -1,7 +1,7 @@\n a\n-b\n", [0]) == "@@ -1,2 +1,1 @@\n a\n-b\n"


def test_generation_with_the_diff_constraint_on_tiny_random(tiny_generator: Generator):
    structured = tiny_generator.generate([PROMPT, PROMPT + "\n"], "codefix")
    free = tiny_generator.generate([PROMPT], "codefix", structured=False)
    assert len(structured) == 2 and all(isinstance(t, str) for t in structured)
    # Batched and one by one agree under the constraint too.
    alone = [tiny_generator.generate([p], "codefix", batch_size=1)[0] for p in (PROMPT,)]
    assert structured[0] == alone[0]
    assert isinstance(free[0], str)


def test_choosing_for_all_rows_at_once_equals_choosing_row_by_row(constraint: DiffConstraint):
    rows = [constraint.start(PROMPT) for _ in range(3)]
    _feed(constraint, rows[1], HEAD)  # at the start of a hunk body
    _feed(constraint, rows[2], HEAD + " def run(cmd):\n-    os.sys")  # copying a line
    rng = torch.Generator().manual_seed(3)
    for _ in range(20):
        logits = torch.randn(3, len(constraint.vocab), generator=rng) * 5
        together = constraint.choose_rows(rows, logits)
        assert together == [constraint.choose(row, logits[j]) for j, row in enumerate(rows)]
        for row, token in zip(rows, together, strict=True):
            constraint.advance(row, token)
