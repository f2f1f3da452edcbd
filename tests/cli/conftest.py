"""Running vulntune as a user does (a subprocess, or typer's runner for quick usage checks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vulntune.cli import app


class Cli:
    """`python -m vulntune ...` with the checks every test repeats."""

    @staticmethod
    def run(*args: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        # One intra-op thread: the tiny model trains several times faster on a busy machine.
        env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"}
        return subprocess.run(
            [sys.executable, "-m", "vulntune", *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )

    def ok(self, *args: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        done = self.run(*args, timeout=timeout)
        assert done.returncode == 0, done.stderr
        return done

    def error(self, *args: object) -> str:
        """stderr of a command that must fail with exit status 1 and one error message."""
        done = self.run(*args)
        assert done.returncode == 1, (done.stdout, done.stderr)
        assert done.stderr.count("error:") == 1, done.stderr
        assert "Traceback" not in done.stderr
        return done.stderr

    @staticmethod
    def usage_error(*args: object) -> str:
        """stderr of a command typer must refuse as a usage error (exit 2, usage shown),
        with the panel's borders and line breaks taken out."""
        result = CliRunner().invoke(app, [str(a) for a in args])
        assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
        assert result.stdout == ""
        assert "Usage: " in result.stderr and "Traceback" not in result.stderr
        return " ".join(result.stderr.replace("│", " ").split())

    @staticmethod
    def json(done: subprocess.CompletedProcess[str]) -> object:
        """stdout must be exactly one JSON document (json.loads refuses anything more)."""
        return json.loads(done.stdout)


@pytest.fixture(scope="session")
def cli() -> Cli:
    return Cli()


def _numbered_data(directory: Path, n: int = 16) -> tuple[Path, Path]:
    """Both files number their examples 0..n-1, as users do: ids collide across files."""
    directory.mkdir(parents=True, exist_ok=True)
    words = "query cursor token header cookie path file version package".split()
    paths = []
    for kind in ("analysis", "codefix"):
        lines = [
            json.dumps(
                {
                    "id": i,
                    "prompt": f"{kind} finding {i}: " + " ".join(words[: 2 + i % 7]),
                    "completion": " ".join(reversed(words[: 3 + i % 5])),
                }
            )
            for i in range(n)
        ]
        path = directory / f"{kind}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths[0], paths[1]


@pytest.fixture(scope="session")
def data(tmp_path_factory) -> tuple[Path, Path]:
    """(analysis.jsonl, codefix.jsonl), 16 numbered examples each: 14/2 after the split."""
    return _numbered_data(tmp_path_factory.mktemp("cli-data"))
