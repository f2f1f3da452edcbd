"""The whole build on the demo project: six revisions of real reports, real fixes in git.

The pinned lists are the demo README's table of planted weaknesses: every finding a commit
really fixed gives a code-fix example (from history, or the manifest upgrade for the
advisories OSV-Scanner reported at r1 and r6), r4's moved block gives none, r5's deleted
function is dropped with its reason.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest

from vulntune.datasets.build import Dataset, DatasetOptions, build_dataset
from vulntune.datasets.records import SPLITS
from vulntune.demo import DemoRepository, build_demo_repository, reports_dir
from vulntune.findings.ingest import ingest_paths

from .helpers import applies_to_prompt

TAGS = ("r1", "r2", "r3", "r4", "r5", "r6")
MINED = {
    # (source, rule, file, found at, fixed at)
    ("history", "B311", "api/auth.py", "r1", "r2"),
    ("history", "B506", "api/imports.py", "r1", "r2"),
    ("history", "B608", "api/db.py", "r1", "r2"),
    ("history", "CKV_GHA_2", ".github/workflows/ci.yml", "r1", "r2"),
    ("history", "js-insecure-random-token", "web/server.js", "r1", "r2"),
    ("history", "kotlin-snakeyaml-unsafe-constructor",
     "worker/src/main/kotlin/tinyparcel/worker/LabelJob.kt", "r1", "r2"),
    ("history", "kotlin-sql-injection",
     "worker/src/main/kotlin/tinyparcel/worker/LabelStore.kt", "r1", "r2"),
    ("history", "B113", "api/app.py", "r2", "r3"),
    ("history", "B324", "api/auth.py", "r2", "r3"),
    ("history", "B501", "api/app.py", "r2", "r3"),
    ("history", "B602", "api/app.py", "r2", "r3"),
    ("history", "CKV2_GHA_1", ".github/workflows/ci.yml", "r2", "r3"),
    ("history", "CKV_DOCKER_3", "api/Dockerfile", "r2", "r3"),
    ("history", "CKV_DOCKER_7", "api/Dockerfile", "r2", "r3"),
    ("history", "js-child-process-injection", "web/lib/thumbnails.js", "r2", "r3"),
    ("history", "js-tls-verification-disabled", "web/lib/carrier.js", "r2", "r3"),
    ("history", "python-flask-path-traversal", "api/app.py", "r2", "r3"),
    ("history", "B403", "api/imports.py", "r4", "r5"),  # the import goes with the endpoint
    ("history", "B201", "api/app.py", "r5", "r6"),
    ("history", "aws-access-token", ".github/workflows/ci.yml", "r1", "r6"),
    ("dependency", "GHSA-8q59-q68h-6hv4", "api/requirements.txt", "r1", None),
    ("dependency", "GHSA-r683-j2x4-v87g", "web/package.json", "r1", None),
    ("dependency", "GHSA-mjmj-j48q-9wg2", "worker/build.gradle.kts", "r1", None),
}  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRepository:
    return build_demo_repository(tmp_path_factory.mktemp("demo") / "tinyparcel")


@pytest.fixture(scope="module")
def findings() -> list:
    found = []
    for tag in TAGS:
        found += ingest_paths([reports_dir(tag)], None, revision=tag).findings
    return found


@pytest.fixture(scope="module")
def dataset(demo: DemoRepository, findings, catalogue) -> Dataset:
    options = DatasetOptions(source_root=demo.path, catalogue_max=CATALOGUE_MAX)
    return build_dataset(findings, options, catalogue=catalogue)


CATALOGUE_MAX = 20


def _own(dataset: Dataset, task: str) -> list:
    return [e for e in dataset.examples(task) if e.origin == "finding"]


def _tag_of(demo: DemoRepository) -> dict[str, str]:
    return {r.sha: r.tag for r in demo.revisions}


def test_every_really_fixed_finding_gives_a_code_fix_example(demo, dataset) -> None:
    tag = _tag_of(demo)
    got = {
        (e.meta.fix_source, e.meta.rule, e.meta.path, tag[e.meta.commit],
         tag.get(e.meta.fixed_revision or ""))
        for e in _own(dataset, "codefix")
    }  # fmt: skip
    assert got == MINED
    assert len(_own(dataset, "codefix")) == len(MINED)


def test_the_moved_block_of_r4_and_the_deleted_function_of_r5_are_not_fixes(demo, dataset):
    tag = _tag_of(demo)
    assert not [e for e in _own(dataset, "codefix") if e.meta.fixed_revision == "r4"]
    assert not [e for e in _own(dataset, "codefix") if tag[e.meta.commit] == "r4"
                and e.meta.rule != "B403"]  # fmt: skip
    deleted = [d for d in dataset.dropped if d.reason == "deletes-whole-function"]
    assert [(d.tool, d.detail) for d in deleted] == [("bandit", "api/imports.py")]


def test_a_mined_fix_is_the_commits_own_change(demo, dataset) -> None:
    (example,) = [e for e in dataset.examples("codefix") if e.meta.rule == "B506"]
    assert "-    manifest = yaml.load(data, Loader=yaml.Loader)\n" in example.completion
    assert "+    manifest = yaml.safe_load(data)\n" in example.completion
    shown = subprocess.run(
        ["git", "-C", str(demo.path), "diff", "r1", "r2", "--", "api/imports.py"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for line in ("-    manifest = yaml.load(data, Loader=yaml.Loader)",
                 "+    manifest = yaml.safe_load(data)"):  # fmt: skip
        assert line in shown.splitlines()
    assert example.completion.startswith(
        "Fix: Fix injection and deserialization findings from the first scan.\n```diff\n"
    )


def test_every_diff_applies_to_the_code_its_prompt_shows(dataset) -> None:
    for example in dataset.examples("codefix"):
        assert applies_to_prompt(example.prompt, example.completion), example.id


def test_the_counts_are_pinned(dataset) -> None:
    stats = dataset.stats
    assert stats["findings"] == 283
    assert stats["tasks"]["analysis"]["examples"] == 52 + CATALOGUE_MAX
    assert stats["tasks"]["analysis"]["catalogue"] == CATALOGUE_MAX
    assert stats["tasks"]["codefix"]["catalogue"] == CATALOGUE_MAX
    assert stats["tasks"]["analysis"]["dropped"] == {"duplicate": 217, "no-cwe": 14}
    assert stats["tasks"]["codefix"]["dropped"] == {
        "covered-by-package-upgrade": 1,
        "deletes-whole-function": 1,
        "still-open": 41,
    }
    by_source = Counter(e.meta.fix_source for e in dataset.examples("codefix"))
    assert by_source == {"history": 20, "dependency": 3, "catalogue": CATALOGUE_MAX}


def test_catalogue_examples_train_only_and_the_findings_cwes_first(dataset) -> None:
    for task in ("analysis", "codefix"):
        for split in ("validation", "test"):
            assert all(e.origin != "catalogue" for e in dataset.splits[task][split])
    own_cwes = {e.meta.cwe for e in _own(dataset, "analysis")}
    taught = [e for e in dataset.examples("analysis") if e.origin == "catalogue"]
    assert {e.meta.cwe for e in taught} <= own_cwes
    for example in taught:
        assert "CWE" not in example.prompt


def test_no_group_straddles_splits(dataset) -> None:
    split_of: dict[str, set[str]] = {}
    for task in ("analysis", "codefix"):
        for split in SPLITS:
            for example in dataset.splits[task][split]:
                split_of.setdefault(example.group, set()).add(split)
    assert all(len(splits) == 1 for splits in split_of.values())


def test_the_planted_key_never_appears(dataset, demo) -> None:
    raw = (Path(demo.path) / "infra" / "main.tf").read_text()
    key = next(w for w in raw.replace('"', " ").split() if w.startswith("AKIA"))
    for task in ("analysis", "codefix"):
        for example in dataset.examples(task):
            assert key not in example.to_json()
    assert any("«redacted:aws-access-token" in e.prompt for e in dataset.examples("codefix"))


def test_similar_findings_change_analysis_prompts_only_and_come_from_train(
    demo, findings, dataset, catalogue
) -> None:
    options = DatasetOptions(source_root=demo.path, catalogue_max=CATALOGUE_MAX, similar=2)
    similar = build_dataset(findings, options, catalogue=catalogue)
    assert similar.stats["settings"]["similar"] == 2 and dataset.stats["settings"]["similar"] == 0
    assert similar.splits["codefix"] == dataset.splits["codefix"]
    train_cwes = {e.completion.split()[1] for e in dataset.splits["analysis"]["train"]}
    for split in SPLITS:
        plain, added = dataset.splits["analysis"][split], similar.splits["analysis"][split]
        assert [(e.id, e.completion) for e in added] == [(e.id, e.completion) for e in plain]
        for before, after in zip(plain, added, strict=True):
            lines = [x for x in after.prompt.split("\n") if x.startswith("Similar finding: ")]
            assert 1 <= len(lines) <= 2, after.id
            assert "\n".join(x for x in after.prompt.split("\n") if x not in lines) == before.prompt
            assert {x.rsplit(" -> ", 1)[1].split()[0] for x in lines} <= train_cwes
    with pytest.raises(ValueError, match="similar must be between 0 and 5, not 6"):
        DatasetOptions(similar=6)
