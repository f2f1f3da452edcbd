"""History mining of secrets: a fix only when the change really removes the secret."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from vulntune.datasets.build import DatasetOptions, build_dataset
from vulntune.findings.ingest import ingest_paths

KEY = "AKIAZ7QX3MPLT5WRNB4K"  # shaped like an AWS key id; not a credential
ENV = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "T",
       "GIT_COMMITTER_EMAIL": "t@e", "GIT_CONFIG_GLOBAL": os.devnull}  # fmt: skip


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], env=ENV, capture_output=True, text=True)
    done.check_returncode()
    return done.stdout.strip()


def _leak(path: str, line: int) -> dict:
    return {"RuleID": "aws-access-token", "Description": "AWS key", "StartLine": line,
            "EndLine": line, "StartColumn": 7, "EndColumn": 26, "Match": KEY, "Secret": KEY,
            "File": path, "Commit": "", "Tags": []}  # fmt: skip


def test_a_secret_moved_to_a_new_file_is_not_a_fix(tmp_path: Path, catalogue) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "app.py").write_text(f'import os\nKEY = "{KEY}"\nREGION = "eu"\n')
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "one")
    (repo / "app.py").write_text('import os\nKEY = os.environ["KEY"]\nREGION = "eu"\n')
    (repo / "deploy.env").write_text(f"KEY={KEY}\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "Move the key to deploy.env")
    reports = []
    for number, leaks in ((1, [_leak("app.py", 2)]), (2, [_leak("deploy.env", 1)])):
        report = tmp_path / f"gitleaks-{number}.json"
        report.write_text(json.dumps(leaks))
        reports.append(report)
    findings = ingest_paths([reports[0]], None, revision="HEAD~1").findings
    findings += ingest_paths([reports[1]], None, revision="HEAD").findings
    options = DatasetOptions(source_root=repo, catalogue=False)
    dataset = build_dataset(findings, options, catalogue=catalogue)
    assert dataset.examples("codefix") == []
    reasons = {(d.detail, d.reason) for d in dataset.dropped if d.task == "codefix"}
    assert ("app.py", "secret-still-present") in reasons
    assert len(dataset.examples("analysis")) == 2
    for example in dataset.examples("analysis"):
        assert KEY not in example.to_json()
