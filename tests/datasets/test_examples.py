"""Reading, validating and splitting prompt/completion JSONL files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vulntune.datasets.examples import (
    DataFormatError,
    Example,
    Message,
    example_from_obj,
    examples_to_jsonl,
    read_examples,
    split_examples,
)


def _write(path: Path, lines: list[object]) -> Path:
    """Write raw lines: strings as they are, anything else as JSON."""
    text = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> str:
    with pytest.raises(DataFormatError) as err:
        read_examples(path)
    return str(err.value)


# -- accepted shapes -------------------------------------------------------------------


def test_prompt_completion_lines(tmp_path):
    path = _write(
        tmp_path / "d.jsonl",
        [
            {"id": "a", "prompt": "Explain CWE-89", "completion": "SQL injection"},
            {"id": 7, "prompt": "P", "completion": "C", "system": "You are terse."},
            {"prompt": "no id", "completion": "content id", "system": None},
            {"id": "e", "prompt": "P", "completion": "C", "system": ""},
        ],
    )
    a, b, c, e = read_examples(path)
    assert a == Example(
        "a", (Message("user", "Explain CWE-89"), Message("assistant", "SQL injection"))
    )
    assert b.id == "7"
    assert b.messages == (
        Message("system", "You are terse."), Message("user", "P"), Message("assistant", "C")
    )  # fmt: skip
    # Without an id the example is named by a hash of its content, stable across runs:
    # sha256 of json.dumps([[role, content], ...], ensure_ascii=False), first 16 hex digits.
    assert c.id == "dc35fccd2dcd2fd8"
    assert c.messages == (Message("user", "no id"), Message("assistant", "content id"))
    assert [m.role for m in e.messages] == ["user", "assistant"]  # an empty system is dropped


def test_messages_lines(tmp_path):
    conversation = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "answer one"},
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": "answer two"},
    ]
    path = _write(
        tmp_path / "d.jsonl",
        [
            {"id": "m", "messages": conversation, "extra": "ignored"},
            {"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]},
        ],
    )
    m, plain = read_examples(path)
    assert m.completion == "answer two"
    assert [x.content for x in m.prompt_messages] == ["S", "first", "answer one", "second"]
    assert m.to_dict() == {"id": "m", "messages": conversation}
    assert plain.id == "5b2c2e99eabdb458"


def test_blank_lines_crlf_and_a_leading_bom_are_accepted(tmp_path):
    path = tmp_path / "d.jsonl"
    lines = [json.dumps({"id": str(i), "prompt": "p", "completion": "c"}) for i in range(3)]
    path.write_bytes(("\ufeff" + "\r\n".join([lines[0], "", "   ", lines[1], lines[2]])).encode())
    assert [e.id for e in read_examples(path)] == ["0", "1", "2"]


def test_unicode_line_separators_inside_strings_round_trip(tmp_path):
    """U+2028, U+2029 and U+0085 are legal raw inside JSON strings and occur in code; they
    must not split a line (examples_to_jsonl writes them raw)."""
    examples = [
        example_from_obj(
            {"id": "js", "prompt": 'var s = "a\u2028b";\x85', "completion": "fix\u2029\x0cdone"}
        ),
        example_from_obj({"id": "plain", "prompt": "p", "completion": "c"}),
    ]
    path = tmp_path / "d.jsonl"
    path.write_text(examples_to_jsonl(examples), encoding="utf-8")
    assert read_examples(path) == examples


def test_jsonl_round_trip_is_canonical(tmp_path):
    examples = [
        example_from_obj({"id": "x", "prompt": "ünï", "completion": "cödé", "system": "s"}),
        example_from_obj({"id": 3, "prompt": "p", "completion": "c"}),
    ]
    text = examples_to_jsonl(examples)
    assert text.splitlines()[1] == (
        '{"id": "3", "messages": [{"role": "user", "content": "p"}, '
        '{"role": "assistant", "content": "c"}]}'
    )
    path = tmp_path / "d.jsonl"
    path.write_text(text, encoding="utf-8")
    assert read_examples(path) == examples


# -- malformed lines -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"prompt": "p", "completion": ', "invalid JSON (Expecting value, column 31)"),
        ("{'prompt': 'p'}", "invalid JSON (Expecting property name enclosed in double quotes"),
        ('{"prompt": "p"}', "missing or non-string 'completion'"),
        ('{"completion": "c"}', "missing or non-string 'prompt'"),
        ('{"prompt": 1, "completion": "c"}', "missing or non-string 'prompt'"),
        ('{"prompt": "p", "completion": ["c"]}', "missing or non-string 'completion'"),
        ('{"prompt": "p", "completion": "c", "system": 3}', "'system' must be a string"),
        ('{"prompt": "p", "completion": "   "}', "the last message must be a non-empty assistant"),
        ('{"prompt": " ", "completion": "c"}', "needs a non-empty user prompt"),
        ('{"text": "p"}', "needs 'prompt' and 'completion', or 'messages'"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('"just a string"', "expected a JSON object, got str"),
        ('{"messages": []}', "'messages' must be a non-empty list"),
        ('{"messages": "hi"}', "'messages' must be a non-empty list"),
        ('{"messages": [{"role": "user"}]}', "messages[0] needs a string 'content'"),
        ('{"messages": ["hi"]}', "messages[0] needs a string 'content'"),
        (
            '{"messages": [{"role": "user", "content": "u"}, {"role": "bot", "content": "a"}]}',
            "messages[1] has role 'bot'; use one of ('system', 'user', 'assistant')",
        ),
        (
            '{"messages": [{"role": "assistant", "content": "a"}, '
            '{"role": "user", "content": "u"}]}',
            "the last message must be a non-empty assistant completion",
        ),
        (
            '{"messages": [{"role": "system", "content": "s"}, '
            '{"role": "assistant", "content": "a"}]}',
            "needs a non-empty user prompt before the completion",
        ),
        ('{"id": "", "prompt": "p", "completion": "c"}', "'id' must be a non-empty string"),
        ('{"id": 1.5, "prompt": "p", "completion": "c"}', "'id' must be a non-empty string"),
        ('{"id": true, "prompt": "p", "completion": "c"}', "'id' must be a non-empty string"),
        ('{"id": ["a"], "prompt": "p", "completion": "c"}', "'id' must be a non-empty string"),
    ],
)
def test_a_malformed_line_is_reported_with_file_and_line(tmp_path, line, problem):
    good = {"id": "ok", "prompt": "p", "completion": "c"}
    path = _write(tmp_path / "d.jsonl", [good, line])
    message = _problems(path)
    assert message.startswith(f"1 bad line(s):\n  {path}:2: ")
    assert problem in message


def test_several_problems_are_reported_at_once(tmp_path):
    path = _write(
        tmp_path / "d.jsonl",
        [
            {"id": "a", "prompt": "p", "completion": "c"},
            "not json",
            {"id": "b", "prompt": "p"},
            "",
            {"id": "a", "prompt": "p2", "completion": "c2"},
            {"id": "c", "messages": [{"role": "human", "content": "x"}]},
        ],
    )
    assert _problems(path) == (
        "4 bad line(s):\n"
        f"  {path}:2: invalid JSON (Expecting value, column 1)\n"
        f"  {path}:3: missing or non-string 'completion'\n"
        f"  {path}:5: duplicate id 'a' (first on line 1)\n"
        f"  {path}:6: messages[0] has role 'human'; use one of ('system', 'user', 'assistant')"
    )


def test_at_most_ten_problems_are_listed(tmp_path):
    path = _write(tmp_path / "d.jsonl", [f"bad {i}" for i in range(25)])
    message = _problems(path)
    assert message.startswith("25 bad line(s) (and 15 more):\n")
    assert message.count(f"{path}:") == 10
    assert f"{path}:10: invalid JSON" in message and f"{path}:11:" not in message


def test_duplicate_ids_including_content_ids(tmp_path):
    same = {"prompt": "same prompt", "completion": "same completion"}
    path = _write(tmp_path / "d.jsonl", [same, {"id": 5, **same}, same, {"id": "5", **same}])
    assert _problems(path) == (
        "2 bad line(s):\n"
        f"  {path}:3: duplicate id '9dacce482f93c299' (first on line 1)\n"
        f"  {path}:4: duplicate id '5' (first on line 2)"
    )


def test_a_bom_in_the_middle_of_a_file_is_reported(tmp_path):
    """Two files concatenated: the second one's BOM starts line 2."""
    path = tmp_path / "d.jsonl"
    line = json.dumps({"prompt": "p", "completion": "c"})
    line2 = json.dumps({"prompt": "p2", "completion": "c2"})
    path.write_bytes(f"\ufeff{line}\n\ufeff{line2}\n".encode())
    assert _problems(path) == (
        f"1 bad line(s):\n  {path}:2: invalid JSON (Unexpected UTF-8 BOM (decode using "
        "utf-8-sig), column 1)"
    )


def test_non_utf8_data_is_refused_naming_the_byte(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"prompt": "caf\xe9", "completion": "c"}\n')
    assert _problems(path) == f"{path}: not UTF-8 text (invalid continuation byte at byte 15)"


def test_utf16_data_is_refused(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"prompt": "p", "completion": "c"}), encoding="utf-16")
    assert _problems(path).startswith(f"{path}: not UTF-8 text (invalid start byte at byte 0)")


@pytest.mark.parametrize("content", ["", "\n\n  \n", "\ufeff"])
def test_a_file_without_examples(tmp_path, content):
    path = tmp_path / "d.jsonl"
    path.write_text(content, encoding="utf-8")
    assert _problems(path) == f"{path}: contains no examples"


def test_a_missing_or_unreadable_file(tmp_path):
    assert _problems(tmp_path / "nope.jsonl") == f"{tmp_path / 'nope.jsonl'}: no such data file"
    assert _problems(tmp_path) == f"{tmp_path}: cannot read: Is a directory"


# -- splitting -------------------------------------------------------------------------


def _numbered(n: int) -> list[Example]:
    return [
        example_from_obj({"id": f"e{i:02d}", "prompt": "p", "completion": "c"}) for i in range(n)
    ]


def test_split_is_deterministic_and_pinned():
    examples = _numbered(20)
    train, val = split_examples(examples, 0.1, seed=42)
    assert [e.id for e in val] == ["e19", "e05"]
    assert split_examples(examples, 0.1, seed=42) == (train, val)
    assert sorted(e.id for e in train + val) == [e.id for e in examples]
    assert split_examples(examples, 0.1, seed=43)[1] != val
    assert examples == _numbered(20)  # the input is not shuffled in place


@pytest.mark.parametrize(
    ("n", "fraction", "sizes"),
    [
        (40, 0.1, (36, 4)),
        (40, 0.25, (30, 10)),
        (10, 0.04, (9, 1)),  # rounds to 0, but a non-zero fraction gets one example
        (2, 0.1, (1, 1)),
        (2, 0.9, (1, 1)),  # training keeps at least one
        (1, 0.5, (1, 0)),  # one example cannot be split
        (5, 0.0, (5, 0)),
        (0, 0.1, (0, 0)),
    ],
)
def test_split_sizes(n, fraction, sizes):
    train, val = split_examples(_numbered(n), fraction, seed=0)
    assert (len(train), len(val)) == sizes
