"""The numbers shown at the end of a run come from the evaluation results as they are."""

from __future__ import annotations

from vulntune.pipeline.summary import comparison, headline, retention

RESULTS = {
    "models": {
        "base": {"analysis": {"cwe_accuracy": 0.0, "parse_rate": 0.1},
                 "codefix": {"applies_rate": 0.05}},
        "stage1": {"analysis": {"cwe_accuracy": 0.5, "parse_rate": 1.0}},
        "final": {"analysis": {"cwe_accuracy": 0.45, "parse_rate": 1.0},
                  "codefix": {"applies_rate": 0.4, "exact_match": None}},
    },
    "baselines": {"keyword": {"analysis": {"cwe_accuracy": 0.3}}},
    "retention": {"cwe_accuracy": 0.9, "note": "text"},
}  # fmt: skip


def test_rows_hold_each_models_value_in_table_order():
    rows = comparison(RESULTS)
    assert [r.key for r in rows] == ["parse_rate", "cwe_accuracy", "applies_rate"]
    cwe = rows[1]
    assert cwe.values == {"base": 0.0, "stage1": 0.5, "final": 0.45, "majority": None,
                          "keyword": 0.3}  # fmt: skip
    assert cwe.improved()
    assert rows[2].values["stage1"] is None and rows[2].values["final"] == 0.4


def test_headline_is_cwe_accuracy_and_applying_diffs():
    assert set(headline(RESULTS)) == {"cwe_accuracy", "applies_rate"}
    assert headline(None) == {} and comparison({}) == []


def test_retention_keeps_the_numbers():
    assert retention(RESULTS) == {"cwe_accuracy": 0.9}
    assert retention({"retention": None}) == {}


def test_the_similar_finding_baseline_is_a_column_only_where_the_results_have_it():
    assert "similar" not in comparison(RESULTS)[1].values
    results = RESULTS | {
        "baselines": RESULTS["baselines"] | {"similar": {"analysis": {"cwe_accuracy": 0.35}}}
    }
    cwe = comparison(results)[1]
    assert list(cwe.values) == ["base", "stage1", "final", "majority", "keyword", "similar"]
    assert cwe.values["similar"] == 0.35
