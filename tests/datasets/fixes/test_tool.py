"""Tool-provided fixes applied to file lines (SARIF regions: 1-based, end column exclusive)."""

from __future__ import annotations

from vulntune.datasets.fixes.tool import apply_changes
from vulntune.findings.record import FixChange

LINES = ["import os", "os.system(cmd)", "x = 1"]


def test_a_column_region_is_replaced() -> None:
    change = FixChange("a.py", "subprocess.run", 2, 1, 2, 10)
    assert apply_changes(LINES, [change], "a.py") == ["import os", "subprocess.run(cmd)", "x = 1"]


def test_a_region_without_columns_is_whole_lines_and_may_add_lines() -> None:
    change = FixChange(None, "import subprocess\nsubprocess.run(cmd)", 2, None, 2, None)
    assert apply_changes(LINES, [change], "a.py") == [
        "import os", "import subprocess", "subprocess.run(cmd)", "x = 1",
    ]  # fmt: skip


def test_several_changes_apply_from_the_end() -> None:
    changes = [FixChange("a.py", "y", 3, 1, 3, 2), FixChange("./a.py", "sys", 1, 8, 1, 10)]
    assert apply_changes(LINES, changes, "a.py") == ["import sys", "os.system(cmd)", "y = 1"]


def test_unusable_fixes_give_none() -> None:
    assert apply_changes(LINES, [FixChange("b.py", "x", 1, 1, 1, 2)], "a.py") is None
    assert apply_changes(LINES, [FixChange("a.py", "x", 9, 1, 9, 2)], "a.py") is None
    assert apply_changes(LINES, [FixChange("a.py", "x", 1, 50, 1, 60)], "a.py") is None
    overlapping = [FixChange("a.py", "a", 2, 1, 2, 5), FixChange("a.py", "b", 2, 3, 2, 8)]
    assert apply_changes(LINES, overlapping, "a.py") is None
