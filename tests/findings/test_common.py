"""Severities every parser reads the same way: words, SARIF levels, CVSS scores."""

from __future__ import annotations

import pytest

from vulntune.findings.common import (
    normalize_severity,
    severity_from_level,
    severity_from_score,
    severity_from_word,
)
from vulntune.findings.record import Severity


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (10, Severity.CRITICAL),
        (9.0, Severity.CRITICAL),
        ("9.0", Severity.CRITICAL),
        (8.99, Severity.HIGH),
        ("7.0", Severity.HIGH),
        (6.9, Severity.MEDIUM),
        (4.0, Severity.MEDIUM),
        (3.9, Severity.LOW),
        (0.1, Severity.LOW),
        (0, Severity.INFO),
        (" 5.5 ", Severity.MEDIUM),
    ],
)
def test_cvss_scores_map_on_the_cvss_bands(score, expected):
    assert severity_from_score(score) is expected


@pytest.mark.parametrize("score", [-1, 10.1, "high", "", None, True, float("nan"), [7.0]])
def test_non_scores_are_not_guessed(score):
    assert severity_from_score(score) is None


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("error", Severity.HIGH),
        ("warning", Severity.MEDIUM),
        ("note", Severity.LOW),
        ("none", Severity.INFO),
        ("Error", Severity.HIGH),
        ("fatal", None),
        (None, None),
    ],
)
def test_sarif_levels(level, expected):
    assert severity_from_level(level) is expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("CRITICAL", Severity.CRITICAL),
        ("HIGH", Severity.HIGH),
        ("ERROR", Severity.HIGH),
        ("Important", Severity.HIGH),
        ("MEDIUM", Severity.MEDIUM),
        ("moderate", Severity.MEDIUM),
        ("WARNING", Severity.MEDIUM),
        ("LOW", Severity.LOW),
        ("BestPractice", Severity.LOW),
        ("INFO", Severity.INFO),
        ("Informational", Severity.INFO),
        ("negligible", Severity.INFO),
        ("UNKNOWN", Severity.INFO),
        ("ManualReview", Severity.INFO),
        ("  high ", Severity.HIGH),
        ("very_high", Severity.CRITICAL),
        ("severe", None),
        (3, None),
    ],
)
def test_tool_severity_words(word, expected):
    assert severity_from_word(word) is expected


def test_normalize_severity_takes_words_levels_and_scores_with_a_default():
    assert normalize_severity("note") is Severity.LOW
    assert normalize_severity("7.5") is Severity.HIGH
    assert normalize_severity(9.8) is Severity.CRITICAL
    assert normalize_severity("whatever") is None
    assert normalize_severity("whatever", Severity.MEDIUM) is Severity.MEDIUM
    assert normalize_severity(None, Severity.LOW) is Severity.LOW
    assert normalize_severity(True, Severity.LOW) is Severity.LOW
