"""benchmarks/cwe_id_learning.py: the teacher-forced check of whether a LoRA configuration learns
the CWE id, run on tiny-random with a hand-made run directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..benchmark_scripts import BENCHMARKS, load_script

SCRIPT = BENCHMARKS / "cwe_id_learning.py"


@pytest.fixture(scope="module")
def check():
    return load_script("cwe_id_learning")


def _example(rule: str, cwe: int) -> dict[str, str]:
    return {
        "prompt": f"Analyze this security finding.\nTool: bandit\nRule: {rule}\nMessage: m",
        "completion": f"Classification: CWE-{cwe} Name\nSeverity: low\nCategory: injection",
    }


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    data = tmp_path / "run" / "data"
    data.mkdir(parents=True)
    train = [_example("B404", 78), _example("B501", 295), _example("B608", 89)]
    test = [_example("B602", 78)]
    # Examples without a CWE id on the first line are not part of the check.
    test.append({"prompt": "p", "completion": "Severity: low"})
    for name, rows in (("train", train), ("test", test)):
        lines = "\n".join(json.dumps(r) for r in rows) + "\n"
        (data / f"stage1-{name}.jsonl").write_text(lines)
    return tmp_path / "run"


@pytest.mark.parametrize(("weight", "clip"), [("1", "1"), ("5", "0")])
def test_it_reports_every_n_epochs_with_counts_of_the_splits(check, run_dir, capsys, weight, clip):
    argv = [
        "--run",
        str(run_dir),
        "--base-model",
        "tiny-random",
        "--epochs",
        "3",
        "--every",
        "2",
        "--last-layers",
        "2",
        "--line-weight",
        weight,
        "--max-grad-norm",
        clip,
    ]
    assert check.main([*argv, "--batch-size", "2", "--target", "full"]) == 0
    reports = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["epoch"] for r in reports] == [2, 3]
    assert [r["steps"] for r in reports] == [4, 6]
    for r in reports:
        assert (r["train"], r["test"]) == (3, 1)
        assert 0 <= r["train_hits"] <= 3 and 0 <= r["test_hits"] <= 1
        assert r["last_loss"] == r["last_loss"]  # a number, not NaN
        assert (r["line_weight"], r["max_grad_norm"]) == (float(weight), float(clip))


@pytest.mark.parametrize(
    ("extra", "train", "steps"),
    [
        # A drill per training example in the same epochs: twice the examples and steps.
        (["--target", "drill"], 6, [6, 9]),
        # The line first, the whole completion in the last epoch: the steps of one set.
        (["--target", "line", "--then-full", "1"], 3, [4, 6]),
        (["--target", "line", "--layout", "name-first"], 3, [4, 6]),
    ],
)
def test_drills_curricula_and_layouts_train_and_report(check, run_dir, capsys, extra, train, steps):
    argv = ["--run", str(run_dir), "--base-model", "tiny-random", "--epochs", "3"]
    argv += ["--every", "2", "--last-layers", "2", "--batch-size", "2", *extra]
    assert check.main(argv) == 0
    reports = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["steps"] for r in reports] == steps
    assert [r["train"] for r in reports] == [train, 3 if "--then-full" in extra else train]
    target = extra[1]
    assert [r["trained_on"] for r in reports] == [
        target,
        "full" if "--then-full" in extra else target,
    ]


def test_a_drill_asks_for_the_classification_alone(check):
    drill = check.drill(_example("B501", 295))
    assert drill["prompt"].startswith("Classify this security finding.\nTool: bandit\n")
    assert drill["completion"] == "Classification: CWE-295 Name"


def test_name_first_spans_the_name_and_the_id(check):
    from vulntune.models.loading import load_model_and_tokenizer
    from vulntune.models.prompt_format import PromptFormatter, prompt_format_for
    from vulntune.models.resolve import resolve_model

    assert check.name_first("Classification: CWE-295 Name\nSeverity: low") == (
        "Classification: Name (CWE-295)\nSeverity: low"
    )
    path = resolve_model("tiny-random").path
    formatter = PromptFormatter(load_model_and_tokenizer(path).tokenizer, prompt_format_for(path))
    encoded = check.encode(formatter, _example("B501", 295), "full", "name-first")
    a, b = encoded.id_span
    assert formatter.tokenizer.decode(encoded.completion[a:b]).strip() == "Name (CWE-295)"
    # A catalogue name with parentheses of its own: the span still ends after the id.
    example = _example("B602", 78)
    example["completion"] = example["completion"].replace("Name", "OS Command ('Injection')")
    for target in ("full", "line"):
        encoded = check.encode(formatter, example, target, "name-first")
        a, b = encoded.id_span
        assert formatter.tokenizer.decode(encoded.completion[a:b]).strip() == (
            "OS Command ('Injection') (CWE-78)"
        )


def test_the_id_span_covers_exactly_the_digits(check, run_dir):
    from vulntune.models.loading import load_model_and_tokenizer
    from vulntune.models.prompt_format import PromptFormatter, prompt_format_for
    from vulntune.models.resolve import resolve_model

    path = resolve_model("tiny-random").path
    tokenizer = load_model_and_tokenizer(path).tokenizer
    formatter = PromptFormatter(tokenizer, prompt_format_for(path))
    encoded = check.encode(formatter, _example("B501", 295), "full")
    a, b = encoded.id_span
    assert tokenizer.decode(encoded.completion[a:b]).strip() == "295"
    line = check.encode(formatter, _example("B501", 295), "line")
    assert tokenizer.decode(line.completion).startswith("Classification: CWE-295 Name")
    assert "Severity" not in tokenizer.decode(line.completion)
    # The classification line's tokens, which --line-weight weighs, end at its newline.
    first = tokenizer.decode(encoded.completion[: encoded.line_end])
    assert first.startswith("Classification: CWE-295") and "Severity" not in first
    rest = tokenizer.decode(encoded.completion[encoded.line_end :])
    assert rest.lstrip("\n").startswith("Severity")


def test_a_folder_that_is_no_run_is_named(check, tmp_path, capsys):
    assert check.main(["--run", str(tmp_path), "--base-model", "tiny-random"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "data" / "stage1-train.jsonl") in err and "not found" in err


def test_a_broken_line_is_named_with_its_number(check, run_dir, capsys):
    (run_dir / "data" / "stage1-test.jsonl").write_text('{"prompt": "p"}\n')
    assert check.main(["--run", str(run_dir), "--base-model", "tiny-random"]) == 2
    assert "stage1-test.jsonl:1: not a prompt/completion example" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--every", "0"], "--every must be at least 1"),
        (["--learning-rate", "0"], "--learning-rate must be positive"),
        (["--line-weight", "-1"], "--line-weight must be positive"),
        (["--max-grad-norm", "-1"], "--max-grad-norm must be 0 (off) or positive"),
        (["--target", "half"], "invalid choice"),
        (["--epochs", "2", "--then-full", "3"], "--then-full must be between 0 and --epochs"),
        (["--layout", "cwe-last"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(check, capsys, tmp_path, argv, problem):
    with pytest.raises(SystemExit) as info:
        check.parse_args(["--run", str(tmp_path), *argv])
    assert info.value.code == 2
    assert problem in capsys.readouterr().err
