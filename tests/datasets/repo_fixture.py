"""A small git repository with two revisions and the scanner reports made at each.

Python, JavaScript and Kotlin sources; requirements.txt, package.json (with its lock file),
build.gradle.kts and a Dockerfile. Revision 2 really fixes the shell call of app/api.py,
the Kotlin SQL injection and the committed AWS key of config/settings.py; it only moves the
MD5 call of app/api.py down (a docstring above it). The reports are written here in the
formats vulntune reads: Bandit JSON, Semgrep JSON (one result with a `fix`), gitleaks JSON,
OSV-Scanner JSON and Trivy JSON (an OS package of the image).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Shaped like AWS access key ids (gitleaks' aws-access-token rule); not real credentials.
KEY_FIXED = "AKIAZ7QX3MPLT5WRNB4K"  # committed in config/settings.py, removed by revision 2
KEY_OPEN = "AKIAW4NH8RKQ2VTJDC6M"  # in deploy/keys.env at both revisions

API_1 = """import hashlib
import subprocess


def run(cmd):
    return subprocess.call(cmd, shell=True)


def digest(data):
    return hashlib.md5(data).hexdigest()
"""
API_2 = """\"\"\"Commands and digests.\"\"\"

import hashlib
import subprocess


def run(cmd):
    return subprocess.call(cmd.split())


def digest(data):
    return hashlib.md5(data).hexdigest()
"""
SERVER_JS = """const crypto = require("crypto");
const express = require("express");

const app = express();

app.get("/token", (req, res) => {
  const token = Math.random().toString(36);
  res.send(token);
});

module.exports = app;
"""
JOB_KT_1 = """package demo

import java.sql.Connection

class Job(private val db: Connection) {
    fun find(id: String) =
        db.createStatement().executeQuery("SELECT * FROM jobs WHERE id = '" + id + "'")

    fun count() = db.createStatement().executeQuery("SELECT count(*) FROM jobs")
}
"""
JOB_KT_2 = """package demo

import java.sql.Connection

class Job(private val db: Connection) {
    fun find(id: String) =
        db.prepareStatement("SELECT * FROM jobs WHERE id = ?").apply { setString(1, id) }
            .executeQuery()

    fun count() = db.createStatement().executeQuery("SELECT count(*) FROM jobs")
}
"""
SETTINGS_1 = f"""import os

DEBUG = False
AWS_ACCESS_KEY_ID = "{KEY_FIXED}"
REGION = "eu-west-1"
"""
SETTINGS_2 = """import os

DEBUG = False
AWS_ACCESS_KEY_ID = os.environ["AWS_ACCESS_KEY_ID"]
REGION = "eu-west-1"
"""
FILES_1 = {
    "app/api.py": API_1,
    "web/server.js": SERVER_JS,
    "worker/src/Job.kt": JOB_KT_1,
    "config/settings.py": SETTINGS_1,
    "deploy/keys.env": f"REGION=eu-west-1\nAWS_KEY={KEY_OPEN}\n",
    "requirements.txt": "flask==3.1.3\nPyYAML==5.3.1\nrequests==2.33.0\n",
    "web/package.json": json.dumps(
        {"name": "web", "dependencies": {"express": "4.21.2", "node-fetch": "2.6.0"}}, indent=2
    )
    + "\n",
    "web/package-lock.json": json.dumps({"name": "web", "lockfileVersion": 3}, indent=2) + "\n",
    "worker/build.gradle.kts": (
        'plugins {\n    kotlin("jvm") version "2.0.21"\n}\n\ndependencies {\n'
        '    implementation("org.yaml:snakeyaml:1.33")\n'
        '    implementation("org.postgresql:postgresql:42.7.4")\n}\n'
    ),
    "Dockerfile": "FROM debian:11.2\nRUN apt-get update\nCOPY . /app\n",
}
FILES_2 = {
    **FILES_1,
    "app/api.py": API_2,
    "worker/src/Job.kt": JOB_KT_2,
    "config/settings.py": SETTINGS_2,
}


@dataclass(frozen=True)
class Repo:
    path: Path
    rev1: str
    rev2: str
    reports1: Path
    reports2: Path


def _git(path: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "GIT_AUTHOR_DATE": "2025-01-01T00:00:00+00:00",
        "GIT_COMMITTER_DATE": "2025-01-01T00:00:00+00:00",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    done = subprocess.run(
        ["git", "-C", str(path), *args], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip()


def _commit(path: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", message)
    return _git(path, "rev-parse", "HEAD")


def _bandit(results: list[tuple[str, str, int, int, str, str, str]]) -> dict:
    return {
        "errors": [],
        "results": [
            {
                "code": "",
                "col_offset": 4,
                "end_col_offset": 40,
                "filename": path,
                "issue_confidence": "HIGH",
                "issue_cwe": {"id": cwe, "link": ""},
                "issue_severity": severity,
                "issue_text": text,
                "line_number": line,
                "line_range": [line],
                "more_info": "",
                "test_id": rule,
                "test_name": rule,
            }
            for rule, path, line, cwe, severity, text, _ in results
        ],
    }


def _semgrep(results: list[dict]) -> dict:
    return {"version": "1.135.0", "results": results, "errors": [], "paths": {"scanned": []}}


def _semgrep_result(rule, path, line, col, end_col, message, cwe, fix=None) -> dict:
    extra = {"message": message, "severity": "ERROR", "metadata": {"cwe": [cwe]}, "lines": ""}
    if fix is not None:
        extra["fix"] = fix
    return {
        "check_id": rule, "path": path, "start": {"line": line, "col": col},
        "end": {"line": line, "col": end_col}, "extra": extra,
    }  # fmt: skip


def _leak(path: str, line: int, column: int, key: str) -> dict:
    return {
        "RuleID": "aws-access-token", "Description": "AWS access key", "StartLine": line,
        "EndLine": line, "StartColumn": column, "EndColumn": column + len(key) - 1,
        "Match": key, "Secret": key, "File": path, "Commit": "", "Tags": [],
        "Fingerprint": f"{path}:aws-access-token:{line}",
    }  # fmt: skip


def _osv() -> dict:
    def vuln(ident, cwe, fixed, package):
        return {
            "id": ident, "summary": f"{ident} summary", "aliases": [],
            "affected": [{"package": package, "ranges": [{"type": "ECOSYSTEM", "events": [
                {"introduced": "0"}, *({"fixed": f} for f in fixed)]}]}],
            "database_specific": {"cwe_ids": [cwe], "severity": "HIGH"},
        }  # fmt: skip

    pypi = {"ecosystem": "PyPI", "name": "PyYAML"}
    npm = {"ecosystem": "npm", "name": "node-fetch"}
    maven = {"ecosystem": "Maven", "name": "org.yaml:snakeyaml"}
    return {"results": [
        {"source": {"path": "/ci/checkout/requirements.txt", "type": "lockfile"}, "packages": [
            {"package": {"name": "PyYAML", "version": "5.3.1", "ecosystem": "PyPI"},
             "vulnerabilities": [vuln("GHSA-aaaa-0001", "CWE-20", ["5.4"], pypi),
                                 vuln("GHSA-aaaa-0002", "CWE-20", ["5.3.2"], pypi)]}]},
        {"source": {"path": "/ci/checkout/web/package-lock.json", "type": "lockfile"},
         "packages": [{"package": {"name": "node-fetch", "version": "2.6.0", "ecosystem": "npm"},
             "vulnerabilities": [vuln("GHSA-bbbb-0001", "CWE-20", ["2.6.1"], npm),
                                 vuln("GHSA-bbbb-0002", "CWE-200", ["2.6.7", "3.1.1"], npm)]}]},
        {"source": {"path": "/ci/checkout/worker/gradle.lockfile", "type": "lockfile"},
         "packages": [{"package": {"name": "org.yaml:snakeyaml", "version": "1.33",
                                   "ecosystem": "Maven"},
             "vulnerabilities": [vuln("GHSA-cccc-0001", "CWE-502", ["2.0"], maven)]}]},
    ]}  # fmt: skip


def _trivy() -> dict:
    return {
        "SchemaVersion": 2, "ArtifactName": "app:1", "ArtifactType": "container_image",
        "Results": [{"Target": "app:1 (debian 11.2)", "Class": "os-pkgs", "Type": "debian",
            "Vulnerabilities": [{"VulnerabilityID": "CVE-2099-1111", "PkgName": "openssl",
                "InstalledVersion": "1.1.1n-0+deb11u1", "FixedVersion": "1.1.1n-0+deb11u5",
                "Severity": "HIGH", "Title": "openssl: a flaw", "CweIDs": ["CWE-125"]}]}],
    }  # fmt: skip


def build_repo(root: Path) -> Repo:
    """The repository under ``root/repo`` and the reports under ``root/reports-{1,2}``."""
    path = root / "repo"
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    rev1 = _commit(path, FILES_1, "Initial import")
    rev2 = _commit(path, FILES_2, "Run commands without a shell; prepared statements; key from env")
    shell = ("B602", "app/api.py", 6, 78, "HIGH", "subprocess call with shell=True identified, security issue.", "")  # fmt: skip  # noqa: E501
    md5_1 = ("B324", "app/api.py", 10, 327, "HIGH", "Use of weak MD5 hash for security.", "")
    md5_2 = ("B324", "app/api.py", 12, 327, "HIGH", "Use of weak MD5 hash for security.", "")
    token = _semgrep_result(
        "js-insecure-random", "web/server.js", 7, 17, 43,
        "Math.random() is not a secure source of randomness for a token.", "CWE-338",
        fix='crypto.randomBytes(16).toString("hex")',
    )  # fmt: skip
    sqli = _semgrep_result(
        "kotlin-sql-injection", "worker/src/Job.kt", 7, 9, 88,
        "A SQL query is built by concatenating a request value.", "CWE-89",
    )  # fmt: skip
    reports = {
        1: {
            "bandit.json": _bandit([shell, md5_1]),
            "semgrep.json": _semgrep([token, sqli]),
            "gitleaks.json": [
                _leak("config/settings.py", 4, 22, KEY_FIXED),
                _leak("deploy/keys.env", 2, 9, KEY_OPEN),
            ],
            "osv-scanner.json": _osv(),
            "trivy.json": _trivy(),
        },
        2: {
            "bandit.json": _bandit([md5_2]),
            "semgrep.json": _semgrep([token]),
            "gitleaks.json": [_leak("deploy/keys.env", 2, 9, KEY_OPEN)],
        },
    }
    folders = {}
    for number, files in reports.items():
        folder = root / f"reports-{number}"
        folder.mkdir()
        for name, data in files.items():
            (folder / name).write_text(json.dumps(data, indent=1))
        folders[number] = folder
    return Repo(path, rev1, rev2, folders[1], folders[2])
