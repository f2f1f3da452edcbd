"""`vulntune ingest` on archives: a CI artifact zip as downloaded, and the unpack limit."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

_SARIF = {
    "version": "2.1.0",
    "runs": [
        {
            "tool": {"driver": {"name": "Bandit", "version": "1.8.0"}},
            "results": [
                {
                    "ruleId": "B602",
                    "level": "error",
                    "message": {"text": "subprocess call with shell=True identified."},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "app/jobs.py"},
                                "region": {"startLine": 17},
                            }
                        }
                    ],
                }
            ],
        }
    ],
}


def test_an_artifact_zip_is_read_directly(cli, tmp_path: Path) -> None:
    artifact = tmp_path / "bandit-results.zip"
    with zipfile.ZipFile(artifact, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bandit.sarif", json.dumps(_SARIF))
        archive.writestr("bandit.html", "<html></html>")
        archive.writestr("../../evil.sarif", json.dumps(_SARIF))
    out = tmp_path / "findings.jsonl"
    summary = cli.json(cli.ok("ingest", artifact, "-o", out, "--json"))
    assert summary["files"] == {f"{artifact}!bandit.sarif": 1}
    assert summary["skipped"] == [
        {"file": f"{artifact}!bandit.html", "reason": "not a scanner report (not JSON)"}
    ]
    assert summary["errors"] == [
        {
            "file": f"{artifact}!../../evil.sarif",
            "problem": "a '..' path that leaves the archive: refused",
        }
    ]
    (line,) = out.read_text().splitlines()
    assert json.loads(line)["origin"]["file"] == f"{artifact}!bandit.sarif"
    assert not (tmp_path.parent / "evil.sarif").exists()


def test_the_unpack_limit_stops_a_bomb_with_one_clear_error(cli, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.sarif", b" " * (2 * 1024 * 1024 + 1))
    out = tmp_path / "findings.jsonl"
    done = cli.run("ingest", bomb, "-o", out, "--max-unpacked-mb", "2")
    assert done.returncode == 1 and not out.exists()
    assert f"error: {bomb}!big.sarif: unpacks to more than 2 MiB (a zip bomb?)" in " ".join(
        done.stderr.split()
    )
    assert "--max-unpacked-mb" in done.stderr and "Traceback" not in done.stderr


def test_the_unpack_limit_must_be_positive(cli, tmp_path: Path) -> None:
    assert "--max-unpacked-mb" in cli.usage_error("ingest", tmp_path, "--max-unpacked-mb", "0")
