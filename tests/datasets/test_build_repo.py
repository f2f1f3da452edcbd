"""The build on a small two-revision repository with reports written for it (issue 9, item 8).

Every generated diff applies to its prompt's code; a dependency diff changes exactly one
version; the mined fix equals the commit's change; the finding that only moved is not mined;
no group straddles splits; the stats are exact; the planted secrets appear nowhere.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from vulntune.datasets.build import Dataset, DatasetOptions, build_dataset, write_dataset
from vulntune.datasets.records import SPLITS
from vulntune.findings.ingest import ingest_paths

from .helpers import applies_to_prompt, diff_of
from .repo_fixture import KEY_FIXED, KEY_OPEN, Repo, build_repo


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    return build_repo(tmp_path_factory.mktemp("repo"))


@pytest.fixture(scope="module")
def dataset(repo: Repo, catalogue) -> Dataset:
    findings = ingest_paths([repo.reports1], repo.path, revision=repo.rev1).findings
    findings += ingest_paths([repo.reports2], repo.path, revision=repo.rev2).findings
    options = DatasetOptions(source_root=repo.path, catalogue=False)
    return build_dataset(findings, options, catalogue=catalogue)


def _by_rule(dataset: Dataset, task: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for example in dataset.examples(task):
        out.setdefault(example.meta.rule, []).append(example)
    return out


def test_the_code_fix_examples_and_their_sources(dataset) -> None:
    got = sorted((e.meta.fix_source, e.meta.rule, e.meta.path) for e in dataset.examples("codefix"))
    assert got == [
        ("dependency", "GHSA-aaaa-0001", "requirements.txt"),
        ("dependency", "GHSA-bbbb-0002", "web/package.json"),
        ("dependency", "GHSA-cccc-0001", "worker/build.gradle.kts"),
        ("history", "B602", "app/api.py"),
        ("history", "aws-access-token", "config/settings.py"),
        ("history", "kotlin-sql-injection", "worker/src/Job.kt"),
        ("tool", "js-insecure-random", "web/server.js"),
    ]


def test_every_diff_applies_to_its_prompts_code(dataset) -> None:
    for example in dataset.examples("codefix"):
        assert applies_to_prompt(example.prompt, example.completion), example.id


def test_a_dependency_diff_changes_exactly_one_version(dataset) -> None:
    expected = {
        "requirements.txt": ("PyYAML==5.3.1", "PyYAML==5.4"),
        "web/package.json": ('"node-fetch": "2.6.0"', '"node-fetch": "2.6.7"'),
        "worker/build.gradle.kts": ("org.yaml:snakeyaml:1.33", "org.yaml:snakeyaml:2.0"),
    }
    for example in dataset.examples("codefix"):
        if example.meta.fix_source != "dependency":
            continue
        lines = diff_of(example.completion).splitlines()
        removed = [line for line in lines if line.startswith("-") and not line.startswith("---")]
        added = [line for line in lines if line.startswith("+") and not line.startswith("+++")]
        assert len(removed) == len(added) == 1
        old, new = expected[example.meta.path]
        assert old in removed[0] and new in added[0]
        assert removed[0].replace(old, new)[1:] == added[0][1:]


def test_the_smallest_common_fix_and_the_covered_advisories(dataset) -> None:
    by_rule = _by_rule(dataset, "codefix")
    assert by_rule["GHSA-aaaa-0001"][0].meta.fixed_version == "5.4"
    assert by_rule["GHSA-bbbb-0002"][0].meta.fixed_version == "2.6.7"
    covered = sorted(
        d.finding_id for d in dataset.dropped if d.reason == "covered-by-package-upgrade"
    )
    assert len(covered) == 2
    (os_pkg,) = [d for d in dataset.dropped if d.reason == "no-fixed-base-image"]
    assert os_pkg.tool == "trivy" and os_pkg.detail == "openssl"


def test_the_mined_fix_is_the_commits_change(dataset, repo) -> None:
    (example,) = _by_rule(dataset, "codefix")["B602"]
    assert diff_of(example.completion) == (
        "--- a/app/api.py\n+++ b/app/api.py\n@@ -4,5 +4,5 @@\n \n def run(cmd):\n"
        "-    return subprocess.call(cmd, shell=True)\n+    return subprocess.call(cmd.split())\n"
        " \n \n"
    )
    assert example.completion.startswith(
        "Fix: Run commands without a shell; prepared statements; key from env.\n"
    )
    assert example.meta.commit == repo.rev1 and example.meta.fixed_commit == repo.rev2
    (kotlin,) = _by_rule(dataset, "codefix")["kotlin-sql-injection"]
    assert "+            .executeQuery()\n" in kotlin.completion


def test_the_finding_that_only_moved_is_not_mined(dataset) -> None:
    assert "B324" not in _by_rule(dataset, "codefix")
    (md5,) = _by_rule(dataset, "analysis")["B324"]  # one example for the two observations
    assert md5.task == "analysis"
    drops = Counter(d.reason for d in dataset.dropped if d.tool == "bandit")
    assert drops == {"duplicate": 1, "still-open": 1}


def test_the_tool_fix_is_applied_to_the_source(dataset) -> None:
    (example,) = _by_rule(dataset, "codefix")["js-insecure-random"]
    diff = diff_of(example.completion)
    assert "-  const token = Math.random().toString(36);\n" in diff
    assert '+  const token = crypto.randomBytes(16).toString("hex");\n' in diff


def test_no_group_straddles_splits(dataset) -> None:
    split_of: dict[str, set[str]] = {}
    for task in ("analysis", "codefix"):
        for split in SPLITS:
            for example in dataset.splits[task][split]:
                split_of.setdefault(example.group, set()).add(split)
    assert split_of and all(len(s) == 1 for s in split_of.values())


def test_the_stats_are_exact(dataset) -> None:
    stats = dataset.stats
    assert stats["findings"] == 15
    assert stats["findings_by_tool"] == {
        "bandit": 3, "gitleaks": 3, "osv-scanner": 5, "semgrep": 3, "trivy": 1,
    }  # fmt: skip
    analysis = stats["tasks"]["analysis"]
    assert analysis["examples"] == 12  # 15 findings, 3 of them seen again at revision 2
    assert analysis["dropped"] == {"duplicate": 3}
    codefix = stats["tasks"]["codefix"]
    assert codefix["examples"] == 7
    assert codefix["dropped"] == {
        "covered-by-package-upgrade": 2,
        "no-fixed-base-image": 1,
        "still-open": 2,  # the moved MD5 call and the key still in deploy/keys.env
    }
    total = {
        s: sum(stats["tasks"][t]["splits"][s]["examples"] for t in ("analysis", "codefix"))
        for s in SPLITS
    }
    assert sum(total.values()) == 19
    assert analysis["splits"]["test"]["by_category"] and codefix["splits"]["train"]["examples"]


def test_the_planted_secrets_appear_nowhere(dataset, repo, tmp_path) -> None:
    out = tmp_path / "dataset"
    write_dataset(dataset, out)
    for path in out.iterdir():
        text = path.read_text()
        assert KEY_FIXED not in text and KEY_OPEN not in text, path.name
    (secret_fix,) = _by_rule(dataset, "codefix")["aws-access-token"]
    diff = diff_of(secret_fix.completion)
    assert re.search(r"^-AWS_ACCESS_KEY_ID = \"«redacted:aws-access-token:[^»]+»\"$", diff, re.M)
    assert '+AWS_ACCESS_KEY_ID = os.environ["AWS_ACCESS_KEY_ID"]\n' in diff
    analysis = [e for e in dataset.examples("analysis") if e.meta.rule == "aws-access-token"]
    assert {e.meta.cwe for e in analysis} == {"CWE-798"}
    assert {e.meta.cwe_source for e in analysis} == {"finding-kind"}
    assert all(json.loads(e.to_json())["meta"]["category"] == "secrets" for e in analysis)
