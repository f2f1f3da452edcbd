"""`vulntune datasets` and `vulntune runs create --dataset`, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vulntune.demo import DemoRepository, build_demo_repository, reports_dir

FILES = [
    f"{task}-{split}.jsonl"
    for task in ("analysis", "codefix")
    for split in ("train", "validation", "test")
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRepository:
    return build_demo_repository(tmp_path_factory.mktemp("demo") / "tinyparcel")


@pytest.fixture(scope="module")
def dataset_dir(cli, demo: DemoRepository, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "dataset"
    cli.ok("datasets", reports_dir("r1"), "--revision", "r1", "--source-root", demo.path, "-o", out)
    return out


def test_reports_in_a_dataset_folder_out(dataset_dir: Path) -> None:
    assert sorted(p.name for p in dataset_dir.iterdir()) == sorted([*FILES, "stats.json"])
    stats = json.loads((dataset_dir / "stats.json").read_text())
    assert stats["findings"] == 64
    lines = (dataset_dir / "codefix-train.jsonl").read_text().splitlines()
    record = json.loads(lines[0])
    assert set(record) == {"id", "prompt", "completion", "meta"}
    assert record["meta"]["fix_source"] == "dependency"
    assert record["meta"]["prompt_format_version"] == "vulntune-prompt-v1"


def test_json_output_is_one_document_with_the_stats(cli, demo, tmp_path: Path) -> None:
    done = cli.ok(
        "datasets", reports_dir("r1"), "--revision", "r1", "--source-root", demo.path,
        "-o", tmp_path / "d", "--json", "--no-catalogue",
    )  # fmt: skip
    result = cli.json(done)
    assert result["findings"] == 64
    assert result["stats"]["tasks"]["codefix"]["examples"] == 3


def test_runs_create_uses_the_dataset_and_keeps_the_test_split(cli, dataset_dir, tmp_path) -> None:
    done = cli.ok(
        "runs", "create", "--base-model", "tiny-random", "--runs-dir", tmp_path,
        "--dataset", dataset_dir, "--json",
    )  # fmt: skip
    result = cli.json(done)
    run_dir = Path(result["run_dir"])
    assert result["data"]["stage1_test"] == len(
        (dataset_dir / "analysis-test.jsonl").read_text().splitlines()
    )
    data = run_dir / "data"
    assert (data / "stage1-test.jsonl").read_text() == (
        dataset_dir / "analysis-test.jsonl"
    ).read_text()
    assert (data / "stage2-codefix-train.jsonl").read_text() == (
        dataset_dir / "codefix-train.jsonl"
    ).read_text()
    assert json.loads((data / "stats.json").read_text())["findings"] == 64


def test_a_bad_dataset_folder_creates_no_run(cli, dataset_dir, tmp_path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in FILES:
        (bad / name).write_text((dataset_dir / name).read_text())
    (bad / "codefix-validation.jsonl").write_text('{"prompt": "x"}\n')
    runs = tmp_path / "runs"
    err = cli.error(
        "runs", "create", "--base-model", "tiny-random", "--runs-dir", runs, "--dataset", bad
    )
    assert "codefix-validation.jsonl:1" in err
    assert not runs.exists() or not any(runs.iterdir())


def test_dataset_and_data_files_together_are_a_usage_error(cli, dataset_dir, tmp_path) -> None:
    err = cli.usage_error(
        "runs", "create", "--base-model", "tiny-random", "--dataset", dataset_dir,
        "--analysis-data", tmp_path / "a.jsonl", "--codefix-data", tmp_path / "c.jsonl",
    )  # fmt: skip
    assert "not both" in err


def test_an_input_that_is_no_report_fails_with_its_name(cli, tmp_path) -> None:
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": 1}')
    err = cli.error("datasets", bad, "-o", tmp_path / "out")
    assert "notes.json" in err
    assert not (tmp_path / "out").exists()


def test_the_cli_default_catalogue_cap_is_the_builders() -> None:
    from vulntune.cli.datasets import CATALOGUE_MAX
    from vulntune.datasets.catalogue_examples import DEFAULT_CATALOGUE_MAX

    assert CATALOGUE_MAX == DEFAULT_CATALOGUE_MAX


def test_the_cli_similar_limit_is_the_builders() -> None:
    from vulntune.cli.datasets import MAX_SIMILAR as CLI_MAX
    from vulntune.datasets.similar import MAX_SIMILAR

    assert CLI_MAX == MAX_SIMILAR


def test_a_similar_count_over_the_limit_is_a_usage_error(cli, tmp_path) -> None:
    err = cli.usage_error("datasets", tmp_path, "-o", tmp_path / "o", "--similar", "6")
    assert "--similar" in err
    assert not (tmp_path / "o").exists()


def test_a_bad_pair_column_is_a_usage_error(cli, tmp_path) -> None:
    err = cli.usage_error("datasets", tmp_path, "-o", tmp_path / "o", "--pair-column", "nope=x")
    assert "FIELD=COLUMN" in err


def test_findings_files_and_the_base_models_tokenizer(cli, demo, tmp_path) -> None:
    findings = tmp_path / "findings.jsonl"
    cli.ok("ingest", reports_dir("r1"), "--revision", "r1", "-o", findings)
    done = cli.ok(
        "datasets", findings, "--source-root", demo.path, "-o", tmp_path / "d",
        "--base-model", "tiny-random", "--catalogue-max", "5", "--json",
    )  # fmt: skip
    stats = cli.json(done)["stats"]
    assert stats["tokenizer"] == "tiny-random"
    lengths = stats["tasks"]["analysis"]["splits"]["train"]["lengths"]
    assert set(lengths) == {
        "prompt_chars", "completion_chars", "prompt_tokens", "completion_tokens", "total_tokens",
    }  # fmt: skip
    assert stats["tasks"]["analysis"]["catalogue"] == 5
