"""Checks the dataset tests share: every code-fix diff applies to its prompt's code."""

from __future__ import annotations

import re

from vulntune.datasets.unified_diff import apply_check, parse_diff


def prompt_code(prompt: str) -> list[str]:
    """The lines of a prompt's ``Code:`` block."""
    _head, sep, code = prompt.partition("\nCode:\n")
    assert sep, prompt
    return code.split("\n")


def diff_of(completion: str) -> str:
    """The unified diff of a code-fix completion."""
    match = re.search(r"```diff\n(.*)\n```$", completion, re.S)
    assert match is not None, completion
    return match.group(1) + "\n"


def applies_to_prompt(prompt: str, completion: str) -> bool:
    """True when the completion's diff applies (git's rules) to the prompt's code block,
    placed at the file lines its hunks name (blank lines stand for the lines before it)."""
    diff = diff_of(completion)
    patch = parse_diff(diff)
    (file_patch,) = patch.files
    code = prompt_code(prompt)
    first_hunk = file_patch.hunks[0]
    # The block starts at or before the first hunk's first line: find where its old lines sit.
    old = [line.rstrip("\n") for line in first_hunk.old_lines]
    for offset in range(len(code)):
        if code[offset : offset + len(old)] == old:
            first_line = first_hunk.old_start - offset
            break
    else:
        return False
    padded = ["<not shown>"] * (first_line - 1) + code
    return apply_check(diff, {file_patch.path: "\n".join(padded) + "\n"}).applies
