"""Does a file still parse? Python (``ast``), JSON, YAML, TOML, and JavaScript with
``node --check`` when node is on PATH.

A fix is judged on the code in its prompt, which is an excerpt of a file: a 40-line window
of Python may not parse on its own. So the question metrics ask is "does the patched text
parse when the original text did": :func:`syntax_check` answers for one text, and a file
whose original does not parse is not counted (see ``metrics.py``).
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

Language = Literal["python", "json", "yaml", "toml", "javascript"]
_BY_SUFFIX: dict[str, Language] = {
    ".py": "python",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
}
NODE_TIMEOUT_S = 20


@dataclass(frozen=True)
class SyntaxCheck:
    """``parses`` is None when the file could not be checked; ``skipped`` then says why."""

    language: Language | None
    parses: bool | None
    skipped: str | None = None


def language_of(path: str) -> Language | None:
    """The language a file name implies, among those that can be checked."""
    return _BY_SUFFIX.get(PurePosixPath(path).suffix.lower())


def syntax_check(path: str, text: str) -> SyntaxCheck:
    """Whether ``text`` (the content of ``path``) parses in the language its name implies."""
    language = language_of(path)
    if language is None:
        return SyntaxCheck(None, None, f"no parser for {PurePosixPath(path).suffix or path!r}")
    if language == "javascript":
        return _node_check(text)
    if language == "yaml":
        return _yaml_check(text)
    try:
        if language == "python":
            ast.parse(text)
        elif language == "json":
            json.loads(text)
        else:
            tomllib.loads(text)
    except (SyntaxError, ValueError):  # JSONDecodeError and TOMLDecodeError are ValueErrors
        return SyntaxCheck(language, False)
    return SyntaxCheck(language, True)


def _node_check(text: str) -> SyntaxCheck:
    node = shutil.which("node")
    if node is None:
        return SyntaxCheck("javascript", None, "node is not on PATH")
    with tempfile.TemporaryDirectory(prefix="vulntune-js-") as folder:
        script = Path(folder) / "patched.js"
        script.write_text(text, encoding="utf-8")
        try:
            done = subprocess.run(
                [node, "--check", str(script)],
                capture_output=True,
                timeout=NODE_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return SyntaxCheck("javascript", None, f"node --check took over {NODE_TIMEOUT_S} s")
    return SyntaxCheck("javascript", done.returncode == 0)


def _yaml_check(text: str) -> SyntaxCheck:
    try:
        import yaml
    except ImportError:
        return SyntaxCheck("yaml", None, "PyYAML is not installed")
    try:
        list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return SyntaxCheck("yaml", False)
    return SyntaxCheck("yaml", True)
