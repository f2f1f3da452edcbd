"""Unified diffs: exact output of make_diff, parsing of real-world diff shapes, git-apply
semantics, SARIF regions and the normal form. Random edits and git itself are in
test_unified_diff_git.py."""

from __future__ import annotations

import pytest

from vulntune.datasets.unified_diff import (
    DiffParseError,
    PatchApplyError,
    Replacement,
    apply_check,
    apply_patch,
    apply_replacements,
    hunk_replacements,
    make_diff,
    normalise_diff,
    parse_diff,
)

TWENTY = "".join(f"line{i}\n" for i in range(1, 21))


def lines(*items: str, newline: bool = True) -> str:
    return "\n".join(items) + ("\n" if newline and items else "")


# -------------------------------------------------------------------------------- make


def test_a_change_in_the_middle() -> None:
    assert make_diff("src/f.txt", TWENTY, TWENTY.replace("line10\n", "LINE10\n")) == (
        "--- a/src/f.txt\n+++ b/src/f.txt\n"
        "@@ -8,5 +8,5 @@\n line8\n line9\n-line10\n+LINE10\n line11\n line12\n"
    )


def test_changes_at_the_edges_have_less_context() -> None:
    assert make_diff("f", TWENTY, TWENTY.replace("line1\n", "LINE1\n", 1)) == (
        "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n-line1\n+LINE1\n line2\n line3\n"
    )
    assert make_diff("f", TWENTY, TWENTY + "line21\n") == (
        "--- a/f\n+++ b/f\n@@ -19,2 +19,3 @@\n line19\n line20\n+line21\n"
    )


def test_one_line_hunks_still_give_both_counts() -> None:
    assert make_diff("f", "a\n", "b\n") == "--- a/f\n+++ b/f\n@@ -1,1 +1,1 @@\n-a\n+b\n"


def test_empty_sides() -> None:
    assert make_diff("new.txt", "", "a\nb\n") == (
        "--- a/new.txt\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n"
    )
    assert make_diff("old.txt", "a\nb\n", "") == (
        "--- a/old.txt\n+++ b/old.txt\n@@ -1,2 +0,0 @@\n-a\n-b\n"
    )
    # A pure insertion names the line before it.
    assert make_diff("f", "a\nb\nc\nd\n", "a\nb\nX\nc\nd\n", context=0) == (
        "--- a/f\n+++ b/f\n@@ -2,0 +3,1 @@\n+X\n"
    )


def test_no_newline_at_end_of_file() -> None:
    assert make_diff("f", "a\nb", "a\nc") == (
        "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n"
        "+c\n\\ No newline at end of file\n"
    )
    assert make_diff("f", "a\nb", "a\nb\n") == (
        "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"
    )


def test_nearby_changes_share_a_hunk() -> None:
    four_apart = TWENTY.replace("line5\n", "X\n").replace("line10\n", "Y\n")  # 4 between
    assert make_diff("f", TWENTY, four_apart).count("@@ -") == 1
    five_apart = TWENTY.replace("line5\n", "X\n").replace("line11\n", "Y\n")
    assert make_diff("f", TWENTY, five_apart) == (
        "--- a/f\n+++ b/f\n"
        "@@ -3,5 +3,5 @@\n line3\n line4\n-line5\n+X\n line6\n line7\n"
        "@@ -9,5 +9,5 @@\n line9\n line10\n-line11\n+Y\n line12\n line13\n"
    )
    assert make_diff("f", TWENTY, five_apart, context=3).count("@@ -") == 1


def test_identical_texts_and_bad_context() -> None:
    assert make_diff("f", TWENTY, TWENTY) == ""
    with pytest.raises(ValueError, match="context"):
        make_diff("f", "a", "b", context=-1)


def test_carriage_returns_belong_to_the_line() -> None:
    diff = make_diff("f", "a\r\nb\r\n", "a\r\nc\r\n")
    assert diff == "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n"
    assert apply_patch(parse_diff(diff), {"f": "a\r\nb\r\n"}) == {"f": "a\r\nc\r\n"}


# -------------------------------------------------------------------------------- parse


GIT_DIFF = """\
From 1234 Mon Sep 17 00:00:00 2001
Subject: [PATCH] fix

diff --git a/app/db.py b/app/db.py
index 83db48f..bf269f4 100644
--- a/app/db.py
+++ b/app/db.py
@@ -1,3 +1,3 @@ def query():
 a
-b
+B
 c
diff --git a/new.txt b/new.txt
new file mode 100644
--- /dev/null
+++ b/new.txt
@@ -0,0 +1 @@
+hello
\\ No newline at end of file
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
--- a/gone.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
-- \n2.39.0
"""


def test_parse_a_git_diff() -> None:
    patch = parse_diff(GIT_DIFF)
    assert [(f.old_path, f.new_path) for f in patch.files] == [
        ("app/db.py", "app/db.py"),
        (None, "new.txt"),
        ("gone.txt", None),
    ]
    first = patch.files[0].hunks[0]
    assert (first.old_start, first.old_count, first.new_start, first.new_count) == (1, 3, 1, 3)
    assert [(line.kind, line.text) for line in first.lines] == [
        (" ", "a"), ("-", "b"), ("+", "B"), (" ", "c"),
    ]  # fmt: skip
    assert first.header_line == 8 and first.lines[1].diff_line == 10
    created = patch.files[1].hunks[0]
    assert (created.new_count, created.lines[0].newline) == (1, False)
    assert patch.files[2].hunks[0].lines[-1].text == "bye"  # the mail signature is not a line
    result = apply_patch(patch, {"app/db.py": "a\nb\nc\n", "gone.txt": "bye\n"})
    assert result == {"app/db.py": "a\nB\nc\n", "new.txt": "hello"}


def test_parse_names_without_prefixes_and_with_timestamps_and_quotes() -> None:
    plain = (
        "--- app.py\t2024-01-01 10:00:00\n+++ app.py\t2024-01-02 10:00:00\n@@ -1 +1 @@\n-a\n+b\n"
    )
    assert parse_diff(plain).files[0].old_path == "app.py"
    spaced = "--- a/my file.py\n+++ b/my file.py\n@@ -1 +1 @@\n-a\n+b\n"
    assert parse_diff(spaced).files[0].path == "my file.py"
    name = '"a/caf\\303\\251 \\"x\\".txt"'
    quoted = f"--- {name}\n+++ {name.replace('a/', 'b/')}\n@@ -1 +1 @@\n-a\n+b\n"
    assert parse_diff(quoted).files[0].path == 'café "x".txt'
    one_sided = "--- a/x.py\n+++ x.py\n@@ -1 +1 @@\n-a\n+b\n"
    files = parse_diff(one_sided).files[0]
    assert (files.old_path, files.new_path) == ("a/x.py", "x.py")


def test_a_removed_line_that_looks_like_a_header() -> None:
    # Removing the SQL comment "-- x" gives the body line "--- x"; the counts say it is one.
    diff = "--- a/q.sql\n+++ b/q.sql\n@@ -1,3 +1,2 @@\n a\n--- x\n+++ y\n b\n"
    hunk = parse_diff(diff).files[0].hunks[0]
    assert [(line.kind, line.text) for line in hunk.lines] == [
        (" ", "a"), ("-", "-- x"), ("+", "++ y"), (" ", "b"),
    ]  # fmt: skip
    assert not hunk.counts_match()  # -1,3 +1,2 vs 3 old and 3 new lines in the body


def test_empty_lines_in_a_hunk_are_empty_context_lines() -> None:
    diff = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n\n-b\n+B\n\n\nSome chatter after.\n"
    hunk = parse_diff(diff).files[0].hunks[0]
    assert [line.kind + line.text for line in hunk.lines] == [" a", " ", "-b", "+B"]
    assert apply_patch(parse_diff(diff), {"f": "a\n\nb\n"}) == {"f": "a\n\nB\n"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("just words\n", "not a unified diff"),
        ("", "not a unified diff"),
        ("--- a/f\nno plus line\n", "diff line 2: expected '\\+\\+\\+ <path>'"),
        ("--- a/f\n+++ b/f\n@@ -x +1 @@\n", "diff line 3: malformed hunk header"),
        ("--- a/f\n+++ b/f\n@@ -1 +1 @@\n", "diff line 3: hunk .* is empty"),
        ("--- a/f\n+++ b/f\n", "no hunk follows the header of f"),
        ("@@ -1 +1 @@\n-a\n+b\n", "diff line 1: hunk header .* does not follow"),
        ("--- /dev/null\n+++ /dev/null\n@@ -0,0 +1 @@\n+a\n", "both file names are /dev/null"),
        ("--- a/f\n+++ b/f\n@@ -1 +1 @@\n\\ No newline at end of file\n", "before any hunk"),
        ("diff --git a/x b/x\nBinary files a/x and b/x differ\n", "binary patches"),
    ],
)
def test_parse_errors_name_the_line(text: str, problem: str) -> None:
    with pytest.raises(DiffParseError, match=problem):
        parse_diff(text)


# -------------------------------------------------------------------------------- apply

MIDDLE = make_diff("f.txt", TWENTY, TWENTY.replace("line10\n", "LINE10\n"))


def test_a_hunk_is_found_at_an_offset() -> None:
    shifted = "x\ny\nz\n" + TWENTY
    assert apply_patch(parse_diff(MIDDLE), {"f.txt": shifted})["f.txt"] == shifted.replace(
        "line10\n", "LINE10\n"
    )
    shorter = TWENTY.replace("line2\n", "").replace("line3\n", "")
    assert apply_check(MIDDLE, {"f.txt": shorter}).patched == {
        "f.txt": shorter.replace("line10\n", "LINE10\n")
    }


def test_the_nearest_match_wins_and_later_hunks_follow_the_earlier_ones() -> None:
    text = "a\nb\nX\nc\nd\n" * 3  # three identical places: lines 1-5, 6-10, 11-15
    diff = "--- a/f\n+++ b/f\n@@ -7,3 +7,3 @@\n b\n-X\n+Y\n c\n"  # stated: line 7
    assert (
        apply_patch(parse_diff(diff), {"f": text})["f"]
        == "a\nb\nX\nc\nd\n" + ("a\nb\nY\nc\nd\n") + "a\nb\nX\nc\nd\n"
    )
    two = (
        "--- a/f\n+++ b/f\n@@ -2,3 +2,4 @@\n b\n-X\n+Y\n+Y\n c\n@@ -12,3 +13,3 @@\n b\n-X\n+Z\n c\n"
    )
    assert apply_patch(parse_diff(two), {"f": text})["f"] == (
        "a\nb\nY\nY\nc\nd\n" + "a\nb\nX\nc\nd\n" + "a\nb\nZ\nc\nd\n"
    )


def test_mismatched_context_is_refused_with_its_line() -> None:
    bad = MIDDLE.replace(" line9\n", " line9 \n")
    result = apply_check(bad, {"f.txt": TWENTY})
    assert not result.applies and result.patched is None
    assert result.problem == (
        "f.txt: hunk 1 (@@ -8,5 +8,5 @@, diff line 3): context at diff line 5 does not match "
        "file line 9: expected 'line9 \\n', found 'line9\\n', and no other place matches"
    )


def test_header_counts_must_agree_unless_recounted() -> None:
    for wrong in ("@@ -8,4 +8,4 @@", "@@ -8,6 +8,6 @@", "@@ -8,5 +8,6 @@"):
        diff = MIDDLE.replace("@@ -8,5 +8,5 @@", wrong)
        result = apply_check(diff, {"f.txt": TWENTY})
        assert not result.applies
        assert "header counts disagree with the body, which has 5 old and 5 new lines" in (
            result.problem or ""
        )
        recounted = apply_check(diff, {"f.txt": TWENTY}, recount=True)
        assert recounted.patched == {"f.txt": TWENTY.replace("line10\n", "LINE10\n")}


def test_start_and_end_rules() -> None:
    top = make_diff("f", TWENTY, TWENTY.replace("line1\n", "LINE1\n", 1))
    problem = apply_check(top, {"f": "zz\n" + TWENTY}).problem
    assert problem is not None and problem.endswith(
        "it matches at line 2, but a hunk that starts at line 1 must match at the start of the file"
    )
    no_trailing = "--- a/f\n+++ b/f\n@@ -9,2 +9,2 @@\n line9\n-line10\n+LINE10\n"
    problem = apply_check(no_trailing, {"f": TWENTY}).problem
    assert problem is not None and problem.endswith(
        "it matches at line 9, but a hunk without trailing context must match at the end of "
        "the file (20 lines)"
    )
    at_end = "--- a/f\n+++ b/f\n@@ -19,2 +19,2 @@\n line19\n-line20\n+LINE20\n"
    assert apply_check(at_end, {"f": TWENTY}).applies


def test_missing_created_deleted_and_renamed_files() -> None:
    assert apply_check(MIDDLE, {}).problem == "f.txt: no such file among the files to patch"
    create = "--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1 @@\n+x\n"
    assert apply_check(create, {"n.txt": ""}).problem == (
        "n.txt: the patch creates it, but it exists"
    )
    assert apply_check(create, {"other": "o"}).patched == {"other": "o", "n.txt": "x\n"}
    delete = "--- a/d.txt\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n"
    assert apply_check(delete, {"d.txt": "a\nb\n"}).patched == {}
    partial = "--- a/d.txt\n+++ /dev/null\n@@ -1,2 +0,1 @@\n-a\n b\n"
    assert apply_check(partial, {"d.txt": "a\nb\n"}).problem == (
        "d.txt: the patch deletes it but leaves lines in it"
    )
    first_only = "--- a/d.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n"  # must be the whole file
    assert (apply_check(first_only, {"d.txt": "a\nb\n"}).problem or "").endswith(
        "it matches at line 1, but a hunk without trailing context must match at the end of "
        "the file (2 lines)"
    )
    rename = "--- a/old.py\n+++ b/new.py\n@@ -1 +1 @@\n-a\n+b\n"
    assert apply_check(rename, {"old.py": "a\n"}).patched == {"new.py": "b\n"}


def test_a_patch_without_newline_at_the_end_must_match_exactly() -> None:
    diff = make_diff("f", "a\nb", "a\nc")
    assert apply_check(diff, {"f": "a\nb"}).patched == {"f": "a\nc"}
    assert not apply_check(diff, {"f": "a\nb\n"}).applies


# -------------------------------------------------------------------------------- regions


def test_replacements_of_each_shape() -> None:
    original = "a\nb\nc\nd\ne\nf\ng\n"
    replace = hunk_replacements(
        parse_diff(make_diff("f", original, original.replace("d", "D"))), original
    )
    assert replace == [Replacement(4, 1, 5, 1, "D\n", "d\n")]
    insert = hunk_replacements(
        parse_diff(make_diff("f", original, original.replace("d\n", "d\nX\n"))), original
    )
    assert insert == [Replacement(5, 1, 5, 1, "X\n", "")]
    delete = hunk_replacements(
        parse_diff(make_diff("f", original, original.replace("c\nd\n", ""))), original
    )
    assert delete == [Replacement(3, 1, 5, 1, "", "c\nd\n")]
    append = hunk_replacements(parse_diff(make_diff("f", original, original + "h\n")), original)
    assert append == [Replacement(8, 1, 8, 1, "h\n", "")]


def test_a_last_line_without_newline_ends_at_its_last_column() -> None:
    original = "a\nb\n😀é"
    patch = parse_diff(make_diff("f", original, "a\nb\nz\n"))
    assert hunk_replacements(patch, original) == [Replacement(3, 1, 3, 4, "z\n", "😀é")]
    points = hunk_replacements(patch, original, column_kind="unicodeCodePoints")
    assert points == [Replacement(3, 1, 3, 3, "z\n", "😀é")]
    assert apply_replacements(original, points, column_kind="unicodeCodePoints") == "a\nb\nz\n"
    assert apply_replacements(original, hunk_replacements(patch, original)) == "a\nb\nz\n"


def test_replacements_follow_offsets_into_original_line_numbers() -> None:
    original = "x\ny\nz\n" + TWENTY
    replacements = hunk_replacements(parse_diff(MIDDLE), original)
    assert replacements == [Replacement(13, 1, 14, 1, "LINE10\n", "line10\n")]


def test_replacement_errors() -> None:
    two_files = parse_diff(MIDDLE + MIDDLE.replace("f.txt", "g.txt"))
    with pytest.raises(PatchApplyError, match="changes 2 files"):
        hunk_replacements(two_files, TWENTY)
    with pytest.raises(PatchApplyError, match="overlap"):
        apply_replacements(
            "abc\n", [Replacement(1, 1, 1, 3, "", ""), Replacement(1, 2, 1, 4, "", "")]
        )
    with pytest.raises(PatchApplyError, match="past the end"):
        apply_replacements("abc\n", [Replacement(5, 1, 5, 1, "x", "")])


# -------------------------------------------------------------------------------- normalise


def test_normalise_diff_gives_the_canonical_form() -> None:
    messy = (
        "diff --git a/app.py b/app.py\nindex 1..2 100644\n"
        "--- app.py\t2024-01-01\n+++ app.py\t2024-01-02\n"
        "@@ -3,9 +3,99 @@ def f():\n a  \n\n-b\t\n\\ No newline at end of file\n+B\n"
        "@@ -20,1 +1,1 @@\n-x\r\n+y\n"
    )
    assert normalise_diff(messy) == (
        "--- a/app.py\n+++ b/app.py\n@@ -3,3 +3,3 @@\n a\n \n-b\n+B\n@@ -20,1 +20,1 @@\n-x\n+y\n"
    )


def test_normalise_diff_is_idempotent_and_keeps_make_diff_output() -> None:
    diff = make_diff("f", TWENTY, TWENTY.replace("line3\n", "").replace("line15\n", "X\nY\n"))
    assert normalise_diff(diff) == diff
    assert normalise_diff(normalise_diff(diff)) == diff
    create = "--- /dev/null\n+++ b/n\n@@ -0,0 +1 @@\n+x\n"
    assert normalise_diff(create) == "--- /dev/null\n+++ b/n\n@@ -0,0 +1,1 @@\n+x\n"
