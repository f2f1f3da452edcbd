"""chrF against values computed by hand from the definition (n = 1..6, beta = 2)."""

from __future__ import annotations

import pytest

from vulntune.evaluation.chrf import chrf


def test_identical_texts_score_one_and_whitespace_is_ignored():
    assert chrf("a b", "ab") == 1.0
    assert chrf("SQL injection in the query", "SQL injection in the query") == 1.0


def test_a_partial_match_by_hand():
    # n=1: 2 of 3 match both ways; n=2: 1 of 2; n=3: 0 of 1; n=4..6: no n-grams either side.
    # P = R = (2/3 + 1/2 + 0) / 3 = 7/18, so F = 7/18.
    assert chrf("abc", "abd") == pytest.approx(7 / 18)


def test_recall_weighs_more_than_precision():
    # n=1: P = 1, R = 1/2; n=2: the hypothesis has no bigram, P = R = 0.
    # P = 1/2, R = 1/4, F2 = 5 * P * R / (4 * P + R) = 0.625 / 2.25.
    assert chrf("a", "ab") == pytest.approx(0.625 / 2.25)
    assert chrf("ab", "a") > chrf("a", "ab")  # the same pair with P and R swapped


def test_empty_texts():
    assert chrf("", "") == 1.0
    assert chrf("", "something") == 0.0
    assert chrf("something", " ") == 0.0
    assert chrf("xyz", "abc") == 0.0
