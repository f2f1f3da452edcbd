"""Similar training findings in analysis prompts: who is near, where the lines go, bad input."""

from __future__ import annotations

import json

import pytest

from vulntune.datasets.records import DatasetExample, ExampleMeta
from vulntune.datasets.similar import (
    SimilarFindings,
    SimilarFindingsError,
    prompt_fields,
    with_similar,
)


def _prompt(rule: str | None, message: str, code: str, tool: str = "bandit") -> str:
    head = ["Analyze this security finding."]
    if rule is not None:
        head += [f"Tool: {tool}", f"Rule: {rule}", "Location: app.py:3", f"Message: {message}"]
    else:
        head += ["Language: Python", "Location: src/app.py"]
    return "\n".join([*head, "Code:", code])


def _completion(cwe: int, name: str) -> str:
    return f"Classification: CWE-{cwe} {name}\nSeverity: high\nCategory: injection"


def _example(id_: str, prompt: str, cwe: int, name: str, group: str = "") -> DatasetExample:
    return DatasetExample(
        id_,
        "analysis",
        prompt,
        _completion(cwe, name),
        "finding",
        ExampleMeta(group=group or f"g-{id_}"),
    )


SQL_CODE = 'cursor.execute("SELECT * FROM users WHERE name = \'" + name + "\'")'
TLS_CODE = 'requests.get(url, verify=False)\ncursor.execute("SELECT * FROM users")'
TRAIN = [
    _example("a", _prompt("B608", "Possible SQL injection vector", SQL_CODE), 89, "SQL Injection"),
    _example("b", _prompt("B501", "Call to requests with verify=False", TLS_CODE), 295, "TLS"),
    _example(
        "c", _prompt("B113", "Call to requests without timeout", "requests.get(u)"), 400, "DoS"
    ),
    _example("d", _prompt(None, "", "open(request.args['f'])"), 22, "Path Traversal"),
]


def test_findings_of_the_same_rule_come_first_even_when_other_code_is_nearer() -> None:
    memory = SimilarFindings.from_examples(TRAIN, 2)
    # The code is the SQL finding's, the rule is B501's: the rule wins the first place.
    prompt = _prompt("B501", "Call to requests with verify=False", SQL_CODE)
    lines = memory.nearest(prompt)
    assert lines == [
        "Similar finding: bandit B501: Call to requests with verify=False -> CWE-295 TLS",
        "Similar finding: bandit B608: Possible SQL injection vector -> CWE-89 SQL Injection",
    ]


def test_the_same_rule_of_another_tool_is_not_the_same_rule() -> None:
    memory = SimilarFindings.from_examples(TRAIN, 1)
    other = _prompt("B501", "Possible SQL injection vector", SQL_CODE, tool="othertool")
    assert "bandit B608" in memory.nearest(other)[0]  # nearest by words, no rule goes first
    same = _prompt("B501", "Possible SQL injection vector", SQL_CODE)
    assert "bandit B501" in memory.nearest(same)[0]


def test_lines_go_before_the_code_and_last_without_code() -> None:
    memory = SimilarFindings.from_examples(TRAIN, 1)
    prompt = _prompt("B113", "Call to requests without timeout", "requests.get(u)")
    added = memory.add_to(prompt)
    head, code = added.split("\nCode:\n")
    assert head.endswith(
        "Similar finding: bandit B113: Call to requests without timeout -> CWE-400 DoS"
    )
    assert code == "requests.get(u)"
    no_code = "Analyze this security finding.\nTool: bandit\nRule: B113\nMessage: timeout"
    assert memory.add_to(no_code).split("\n")[-1].startswith("Similar finding: bandit B113")


def test_an_example_never_names_itself_or_its_own_group() -> None:
    twin = _example("a2", TRAIN[0].prompt, 89, "SQL Injection", group="g-a")
    memory = SimilarFindings.from_examples([*TRAIN, twin], 1)
    lines = memory.nearest(TRAIN[0].prompt, own_id="a", own_group="g-a")
    assert lines and "B608" not in lines[0]
    assert "B608" in memory.nearest(TRAIN[0].prompt, own_id="a")[0]  # the twin, another group


def test_code_only_examples_are_named_by_language_and_path() -> None:
    memory = SimilarFindings.from_examples(TRAIN, 1)
    lines = memory.nearest(_prompt(None, "", "open(request.args['name'])"))
    assert lines == ["Similar finding: Python src/app.py -> CWE-22 Path Traversal"]


def test_long_messages_are_cut_and_nothing_similar_gives_no_line() -> None:
    long = _example("e", _prompt("B999", "word " * 60, "x = 1"), 20, "Input Validation")
    memory = SimilarFindings.from_examples([long], 1)
    (line,) = memory.nearest(_prompt("B999", "other", "y = 2"))
    summary = line.split(": ", 1)[1].split(" -> ")[0]
    assert summary.endswith("...") and len(summary.split(": ", 1)[1]) == 100
    unrelated = "Analyze this security finding.\nTool: zap\nRule: 10020\nMessage: header\nCode:\nq"
    assert memory.nearest(unrelated) == []


def test_similar_lines_already_in_a_prompt_are_not_read_as_its_own_words() -> None:
    memory = SimilarFindings.from_examples(TRAIN, 1)
    prompt = _prompt("B113", "Call to requests without timeout", "requests.get(u)")
    fields, _ = prompt_fields(memory.add_to(prompt))
    assert "Similar finding" not in fields and fields["Rule"] == "B113"
    assert memory.add_to(prompt) == memory.add_to(memory.add_to(prompt)).replace(
        "\n" + memory.nearest(prompt)[0], "", 1
    )


def test_with_similar_draws_every_split_from_train_only() -> None:
    test = _example("t", _prompt("B608", "Possible SQL injection vector", SQL_CODE), 89, "SQL")
    validation = _example("v", _prompt("B608", "Possible SQL injection", SQL_CODE), 78, "OS")
    out = with_similar({"train": TRAIN, "validation": [validation], "test": [test]}, 1)
    (tested,) = out["test"]
    assert "-> CWE-89 SQL Injection" in tested.prompt  # train's B608, not validation's CWE-78
    assert tested.completion == test.completion and tested.id == "t"
    assert "CWE-78" not in "".join(e.prompt for e in out["train"])
    assert with_similar({"train": TRAIN}, 0) == {"train": TRAIN}


def test_examples_without_a_classification_line_are_not_remembered() -> None:
    odd = DatasetExample("x", "analysis", TRAIN[0].prompt, "no classification", "finding",
                         ExampleMeta(group="gx"))  # fmt: skip
    assert len(SimilarFindings.from_examples([odd, TRAIN[1]], 1)) == 1


@pytest.mark.parametrize("k", [0, 6, -1])
def test_a_count_outside_one_to_five_is_refused(k: int) -> None:
    with pytest.raises(SimilarFindingsError, match=f"between 1 and 5, not {k}"):
        SimilarFindings.from_examples(TRAIN, k)


def test_a_training_file_is_read_and_its_bad_lines_are_named(tmp_path) -> None:
    path = tmp_path / "stage1-train.jsonl"
    rows = [json.loads(e.to_json()) for e in TRAIN]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    memory = SimilarFindings.from_jsonl(path, 2)
    assert memory.nearest(TRAIN[1].prompt) == SimilarFindings.from_examples(TRAIN, 2).nearest(
        TRAIN[1].prompt
    )
    path.write_text(json.dumps(rows[0]) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(SimilarFindingsError, match=r"stage1-train\.jsonl:2: not a training"):
        SimilarFindings.from_jsonl(path, 1)
    path.write_text('{"id": "a"}\n', encoding="utf-8")
    with pytest.raises(SimilarFindingsError, match=r":1: not a training example \(KeyError"):
        SimilarFindings.from_jsonl(path, 1)
    with pytest.raises(SimilarFindingsError, match=r"missing\.jsonl: cannot read"):
        SimilarFindings.from_jsonl(tmp_path / "missing.jsonl", 1)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(SimilarFindingsError, match="cannot read"):
        SimilarFindings.from_jsonl(path, 1)


def _code_prompt(path: str, code: str) -> str:
    return f"Analyze this security finding.\nLanguage: Python\nLocation: {path}\nCode:\n{code}"


def test_identifiers_match_by_their_parts_and_the_file_does_not_count() -> None:
    inner = _example("h", _code_prompt("web/view.py", "el.innerHTML = x"), 79, "XSS")
    same_file = _example("f", _code_prompt("src/app.py", "token = rand()"), 338, "PRNG")
    memory = SimilarFindings.from_examples([inner, same_file], 1)
    # The same file as one, "innerHtml" (inner, html) as the other's innerHTML.
    lines = memory.nearest(_code_prompt("src/app.py", "render(innerHtml)"))
    assert lines == ["Similar finding: Python web/view.py -> CWE-79 XSS"]


def test_a_line_that_would_repeat_another_is_skipped_for_the_next_nearest() -> None:
    copy = _example("b2", TRAIN[1].prompt, 295, "TLS")  # the same finding in another file
    memory = SimilarFindings.from_examples([*TRAIN, copy], 2)
    lines = memory.nearest(TRAIN[1].prompt)
    assert len(lines) == 2 and lines[0] != lines[1]
    assert "B501" in lines[0] and "B501" not in lines[1]
