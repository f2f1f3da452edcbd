"""Unified diffs on random edits, and against git itself: what make_diff writes applies
(with apply_patch and with git apply), SARIF regions reproduce the patch, and the cases
where git and vulntune agree or (documented) differ."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vulntune.datasets.unified_diff import (
    apply_check,
    apply_patch,
    apply_replacements,
    hunk_replacements,
    make_diff,
    normalise_diff,
    parse_diff,
)

TWENTY = "".join(f"line{i}\n" for i in range(1, 21))
MIDDLE = make_diff("f.txt", TWENTY, TWENTY.replace("line10\n", "LINE10\n"))


# -------------------------------------------------------------------------------- properties

_LINES = st.lists(st.sampled_from(["a", "b", "c", "", "  x", "d\t", "é"]), max_size=14)


@st.composite
def edits(draw: st.DrawFn) -> tuple[str, str]:
    """Two texts, the second a few random line edits of the first, either with or without
    a final newline."""
    old = draw(_LINES)
    new = list(old)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(new)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        if action == "insert":
            new[at:at] = draw(
                st.lists(st.sampled_from(["a", "X", "Y", ""]), min_size=1, max_size=3)
            )
        elif new:
            at = min(at, len(new) - 1)
            if action == "delete":
                del new[at : at + draw(st.integers(1, 2))]
            else:
                new[at] = draw(st.sampled_from(["Z", "a", "b "]))

    def text(items: list[str]) -> str:
        return "\n".join(items) + ("\n" if items and draw(st.booleans()) else "")

    return text(old), text(new)


@settings(max_examples=200, deadline=None)
@given(edits(), st.integers(0, 3))
def test_make_apply_round_trip(pair: tuple[str, str], context: int) -> None:
    old, new = pair
    diff = make_diff("f", old, new, context=context)
    if old == new:
        assert diff == ""
        return
    patch = parse_diff(diff)
    if context > 0:  # git needs context to place hunks; -U0 diffs need --unidiff-zero
        assert apply_patch(patch, {"f": old}) == {"f": new}
    canonical = [
        line if line.startswith(("--- ", "+++ ", "@@ ")) else line[0] + line[1:].rstrip()
        for line in diff.split("\n")[:-1]
        if not line.startswith("\\")
    ]
    assert normalise_diff(diff) == "".join(line + "\n" for line in canonical)
    assert normalise_diff(normalise_diff(diff)) == normalise_diff(diff)


@settings(max_examples=200, deadline=None)
@given(edits(), st.sampled_from(["", "top\n", "top\nmore\n"]))
def test_replacements_reproduce_the_patched_file(pair: tuple[str, str], prefix: str) -> None:
    old, new = pair
    if old == new:
        return
    diff = make_diff("f", old, new)
    original = prefix + old if old.startswith(("a", "b", "c")) else old  # offsets too
    expected = apply_check(diff, {"f": original})
    if not expected.applies:
        return
    replacements = hunk_replacements(parse_diff(diff), original)
    assert apply_replacements(original, replacements) == expected.patched["f"]  # type: ignore[index]


# -------------------------------------------------------------------------------- real git

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")


def git_apply(directory: Path, text: str, diff: str, *options: str) -> tuple[bool, str]:
    """Run ``git apply`` on f.txt = ``text`` in ``directory``; (applied, file text or error)."""
    target = directory / "f.txt"
    target.write_bytes(text.encode())
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(directory)}
    result = subprocess.run(
        [GIT or "git", "apply", *options, "-"],
        cwd=directory, input=diff.encode(), capture_output=True, env=env, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        return False, result.stderr.decode()
    return True, target.read_bytes().decode() if target.exists() else ""


@needs_git
@settings(max_examples=30, deadline=None)
@given(edits())
def test_git_applies_what_make_diff_writes(tmp_path_factory: pytest.TempPathFactory,
                                           pair: tuple[str, str]) -> None:  # fmt: skip
    old, new = pair
    diff = make_diff("f.txt", old, new)
    if not diff:
        return
    applied, result = git_apply(tmp_path_factory.mktemp("git"), old, diff)
    assert applied, result
    assert result == new
    assert apply_patch(parse_diff(diff), {"f.txt": old}) == {"f.txt": new}


@needs_git
def test_git_agrees_on_offsets_context_and_counts(tmp_path: Path) -> None:
    shifted = "x\ny\nz\n" + TWENTY
    assert git_apply(tmp_path, shifted, MIDDLE) == (
        True, apply_patch(parse_diff(MIDDLE), {"f.txt": shifted})["f.txt"],
    )  # fmt: skip
    bad_context = MIDDLE.replace(" line9\n", " line9 \n")
    assert not git_apply(tmp_path, TWENTY, bad_context)[0]
    assert not apply_check(bad_context, {"f.txt": TWENTY}).applies
    overcount = MIDDLE.replace("@@ -8,5 +8,5 @@", "@@ -8,6 +8,6 @@")
    assert not git_apply(tmp_path, TWENTY, overcount)[0]
    assert not apply_check(overcount, {"f.txt": TWENTY}).applies
    assert git_apply(tmp_path, TWENTY, overcount, "--recount")[0]
    assert apply_check(overcount, {"f.txt": TWENTY}, recount=True).applies
    top = make_diff("f.txt", TWENTY, TWENTY.replace("line1\n", "LINE1\n", 1))
    assert not git_apply(tmp_path, "zz\n" + TWENTY, top)[0]
    assert not apply_check(top, {"f.txt": "zz\n" + TWENTY}).applies


@needs_git
def test_the_documented_difference_from_git_on_undercounted_headers(tmp_path: Path) -> None:
    # git reads only as many lines as the header counts and ignores the rest; vulntune
    # reports the disagreement (and applies the whole body with recount).
    undercount = MIDDLE.replace("@@ -8,5 +8,5 @@", "@@ -8,4 +8,4 @@")
    assert git_apply(tmp_path, TWENTY, undercount)[0]
    assert not apply_check(undercount, {"f.txt": TWENTY}).applies
    assert apply_check(undercount, {"f.txt": TWENTY}, recount=True).applies
