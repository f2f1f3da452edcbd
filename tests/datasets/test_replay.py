"""Replay mixing: the share of Stage-1 examples in the Stage-2 mix, drawn without replacement."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from vulntune.datasets.examples import (
    DataFormatError,
    Example,
    example_from_obj,
    examples_to_jsonl,
    read_examples,
)
from vulntune.datasets.replay import mix_replay


def _examples(kind: str, n: int) -> list[Example]:
    return [
        example_from_obj({"id": f"{kind}-{i:03d}", "prompt": f"{kind} {i}", "completion": "c"})
        for i in range(n)
    ]


CODEFIX = _examples("codefix", 36)
STAGE1 = _examples("analysis", 100)


@pytest.mark.parametrize(
    ("n_codefix", "ratio", "n_replayed"),
    [
        (36, 0.25, 12),  # 12 / (36 + 12) = 0.25
        (36, 0.5, 36),
        (30, 0.1, 3),  # 3.33 -> 3
        (10, 0.2, 2),  # 2.5 -> 2 (round half to even)
        (14, 0.2, 4),  # 3.5 -> 4
        (36, 0.0, 0),
        (0, 0.25, 0),
    ],
)
def test_replayed_count_makes_the_requested_share(n_codefix, ratio, n_replayed):
    mixed, record = mix_replay(CODEFIX[:n_codefix], STAGE1, ratio, seed=1)
    assert record.n_replayed == n_replayed == len(record.replayed_ids)
    assert record.n_codefix == n_codefix
    assert len(mixed) == n_codefix + n_replayed
    achieved = n_replayed / (n_codefix + n_replayed) if mixed else 0.0
    assert record.ratio_achieved == round(achieved, 6)
    assert record.ratio_requested == ratio


def test_the_mix_is_the_codefix_set_plus_distinct_stage1_examples():
    mixed, record = mix_replay(CODEFIX, STAGE1, 0.25, seed=7)
    counts = Counter(e.id for e in mixed)
    assert max(counts.values()) == 1  # drawn without replacement
    codefix_part = [e for e in mixed if e.id.startswith("codefix-")]
    assert codefix_part != CODEFIX  # shuffled...
    assert sorted(codefix_part, key=lambda e: e.id) == CODEFIX  # ...but unchanged
    replayed = [e for e in mixed if e.id.startswith("stage1:")]
    assert len(replayed) == 12
    assert sorted(e.id.removeprefix("stage1:") for e in replayed) == sorted(record.replayed_ids)
    by_id = {e.id: e for e in STAGE1}
    for e in replayed:  # the Stage-1 conversation verbatim, under its replay name
        assert e.messages == by_id[e.id.removeprefix("stage1:")].messages
    # The mix is shuffled: replayed examples are not all at the end.
    positions = [i for i, e in enumerate(mixed) if e.id.startswith("stage1:")]
    assert positions != list(range(36, 48))


def test_the_draw_is_seeded_and_pinned():
    mixed_a, a = mix_replay(CODEFIX, STAGE1, 0.25, seed=42)
    mixed_b, b = mix_replay(CODEFIX, STAGE1, 0.25, seed=42)
    mixed_c, c = mix_replay(CODEFIX, STAGE1, 0.25, seed=43)
    assert a == b and mixed_a == mixed_b
    assert a.replayed_ids != c.replayed_ids and mixed_a != mixed_c
    assert a.replayed_ids[:4] == ["analysis-081", "analysis-014", "analysis-003", "analysis-094"]


def test_a_small_stage1_set_is_replayed_entirely():
    mixed, record = mix_replay(CODEFIX, STAGE1[:5], 0.25, seed=0)
    assert record.n_replayed == 5
    assert sorted(record.replayed_ids) == [e.id for e in STAGE1[:5]]
    assert len(mixed) == 41
    assert record.ratio_requested == 0.25
    assert record.ratio_achieved == round(5 / 41, 6) == 0.121951


def test_no_stage1_examples_at_all():
    mixed, record = mix_replay(CODEFIX, [], 0.25, seed=0)
    assert record.n_replayed == 0 and record.ratio_achieved == 0.0
    assert sorted(e.id for e in mixed) == [e.id for e in CODEFIX]


def test_ratio_zero_keeps_exactly_the_codefix_set():
    mixed, record = mix_replay(CODEFIX, STAGE1, 0.0, seed=3)
    assert sorted(e.id for e in mixed) == [e.id for e in CODEFIX]
    assert record.replayed_ids == [] and record.ratio_achieved == 0.0


@pytest.mark.parametrize("ratio", [1.0, -0.1, 1.5])
def test_impossible_ratios_are_refused(ratio):
    with pytest.raises(ValueError, match=r"replay ratio must be in \[0, 1\)"):
        mix_replay(CODEFIX, STAGE1, ratio, seed=0)


def test_record_contents():
    _, record = mix_replay(CODEFIX[:6], STAGE1, 0.25, seed=5)
    data = record.to_dict()
    assert data == {
        "seed": 5,
        "ratio_requested": 0.25,
        "ratio_achieved": 0.25,
        "n_codefix": 6,
        "n_replayed": 2,
        "replayed_ids": record.replayed_ids,
        "replayed_ids_sha256": hashlib.sha256(
            "\n".join(record.replayed_ids).encode("utf-8")
        ).hexdigest(),
    }
    assert len(data["replayed_ids"]) == 2


def test_stage1_ids_equal_to_codefix_ids_do_not_collide_in_the_mix(tmp_path):
    """Users often number both files 1..N; the mix must still hold unique ids, since Stage 2
    reads it back with read_examples, which refuses duplicate ids."""
    codefix = [
        example_from_obj({"id": i, "prompt": f"fix {i}", "completion": "c"}) for i in range(8)
    ]
    stage1 = [
        example_from_obj({"id": i, "prompt": f"why {i}", "completion": "a"}) for i in range(8)
    ]
    mixed, record = mix_replay(codefix, stage1, 0.5, seed=0)
    assert sorted(e.id for e in mixed) == sorted(
        [str(i) for i in range(8)] + [f"stage1:{i}" for i in range(8)]
    )
    assert sorted(record.replayed_ids, key=int) == [str(i) for i in range(8)]
    path = tmp_path / "mixed.jsonl"
    path.write_text(examples_to_jsonl(mixed), encoding="utf-8")
    assert read_examples(path) == mixed


def test_a_codefix_id_equal_to_a_replay_name_is_refused():
    codefix = [example_from_obj({"id": "stage1:analysis-000", "prompt": "p", "completion": "c"})]
    with pytest.raises(DataFormatError, match=r"\['stage1:analysis-000'\] clash"):
        mix_replay(codefix, STAGE1[:1], 0.5, seed=0)
