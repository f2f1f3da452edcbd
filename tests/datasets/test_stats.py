"""stats.json: nearest-rank percentiles, counts by field, drops by reason."""

from __future__ import annotations

from vulntune.datasets.records import DatasetExample, DroppedFinding, ExampleMeta, InputProblem
from vulntune.datasets.stats import build_stats, percentiles


def test_nearest_rank_percentiles() -> None:
    assert percentiles([]) == {}
    assert percentiles(list(range(1, 101))) == {
        "p50": 50,
        "p90": 90,
        "p95": 95,
        "p99": 99,
        "p100": 100,
    }
    assert percentiles([7]) == {"p50": 7, "p90": 7, "p95": 7, "p99": 7, "p100": 7}


def test_counts_drops_and_tokens() -> None:
    meta = ExampleMeta(group="g", tool="bandit", kind="code", severity="high", category="injection")
    own = DatasetExample("a", "analysis", "one two three", "four", "finding", meta)
    taught = DatasetExample(
        "b", "analysis", "x", "y", "catalogue", ExampleMeta(group="c", category="xss")
    )
    splits = {
        "analysis": {"train": [own, taught], "validation": [], "test": []},
        "codefix": {"train": [], "validation": [], "test": []},
    }
    dropped = [
        DroppedFinding("f1", "checkov", "analysis", "no-cwe"),
        DroppedFinding("f2", "checkov", "analysis", "no-cwe"),
        DroppedFinding("f3", "bandit", "codefix", "still-open"),
    ]
    stats = build_stats(
        splits, dropped, findings=4, findings_by_tool={"bandit": 2, "checkov": 2},
        problems=[InputProblem("p.jsonl", 3, "invalid JSON")], settings={"seed": 0},
        tokens=lambda text: len(text.split()), base_model="tiny",
    )  # fmt: skip
    train = stats["tasks"]["analysis"]["splits"]["train"]
    assert train["examples"] == 2 and train["catalogue"] == 1
    assert train["by_tool"] == {"bandit": 1}
    assert train["by_category"] == {"injection": 1, "xss": 1}
    assert train["by_origin"] == {"catalogue": 1, "finding": 1}
    assert train["lengths"]["prompt_tokens"]["p100"] == 3
    assert stats["tasks"]["analysis"]["dropped"] == {"no-cwe": 2}
    assert stats["tasks"]["codefix"]["dropped_by_tool"] == {"bandit": {"still-open": 1}}
    assert stats["input_problems"] == ["p.jsonl:3: invalid JSON"]
    assert stats["tokenizer"] == "tiny"
