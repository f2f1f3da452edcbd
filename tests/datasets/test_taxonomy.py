"""The analysis vocabularies and the CWE -> category table: live catalogue ids only, the
commonly reported CWEs covered, ancestors used for the rest, and agreement with every
built-in analysis."""

from __future__ import annotations

from collections import Counter

import pytest

from vulntune.datasets import builtin, taxonomy
from vulntune.datasets.builtin import load_builtin
from vulntune.datasets.cwe_catalogue import CweCatalogue, parse_cwe_id
from vulntune.datasets.taxonomy import (
    ANALYSIS_CATEGORIES,
    ANALYSIS_SEVERITIES,
    CWE_CATEGORIES,
    category_for_cwe,
)

TOP_25_2023 = (787, 79, 89, 416, 78, 20, 125, 22, 352, 434, 862, 476, 287, 190, 502, 77, 119,
               798, 918, 306, 362, 269, 94, 863, 276)  # fmt: skip
TOP_25_2024 = (79, 787, 89, 352, 22, 125, 78, 416, 862, 434, 94, 20, 77, 287, 269, 502, 200,
               863, 918, 119, 476, 798, 190, 400, 306)  # fmt: skip
# The CWEs in a real CI's Semgrep, Trivy, Checkov, OSV-Scanner, gitleaks and ZAP output
# (shared/corpus), less 16, 264 and 320, which MITRE has made obsolete.
SEEN_IN_SCANNER_OUTPUT = (
    11, 20, 22, 23, 73, 74, 77, 78, 79, 80, 89, 90, 91, 93, 94, 95, 96, 113, 115, 116, 119,
    121, 125, 134, 150, 155, 173, 183, 190, 200, 204, 209, 242, 250, 252, 262, 269, 272, 276,
    284, 285, 287, 295, 297, 300, 306, 310, 311, 319, 321, 322, 323, 326, 327, 328, 329, 330,
    338, 341, 345, 346, 347, 352, 353, 362, 369, 377, 378, 379, 400, 406, 409, 427, 441, 444,
    451, 454, 470, 471, 476, 477, 489, 501, 502, 521, 522, 523, 524, 532, 538, 548, 552, 553,
    601, 611, 613, 614, 639, 643, 665, 667, 668, 673, 674, 676, 681, 682, 688, 693, 697, 704,
    706, 732, 749, 770, 774, 776, 778, 780, 787, 798, 835, 837, 841, 862, 913, 915, 916, 917,
    918, 922, 926, 939, 942, 943, 1004, 1104, 1204, 1220, 1275, 1323, 1333, 1336, 1390,
)  # fmt: skip
# Built-in analyses whose category is not the table's, and why (see the taxonomy docstring).
BUILTIN_EXCEPTIONS = {
    "ho-zap-hsts-01": "a missing web-server header is a misconfiguration (CWE-319: crypto)",
    "ho-checkov-sg-ssh-01": "an IaC security group is a misconfiguration (CWE-284: auth)",
}


def test_vocabularies_are_pinned() -> None:
    assert ANALYSIS_CATEGORIES == (
        "injection", "xss", "auth", "crypto", "secrets", "deserialization", "path-traversal",
        "ssrf", "xxe", "open-redirect", "csrf", "memory-safety", "dos",
        "information-disclosure", "misconfiguration", "vulnerable-dependency",
    )  # fmt: skip
    assert ANALYSIS_SEVERITIES == ("critical", "high", "medium", "low", "info")
    assert builtin.ANALYSIS_CATEGORIES is ANALYSIS_CATEGORIES
    assert builtin.ANALYSIS_SEVERITIES is ANALYSIS_SEVERITIES


def test_each_cwe_has_one_category() -> None:
    counts = Counter(cwe for ids in taxonomy._BY_CATEGORY.values() for cwe in ids)
    assert [cwe for cwe, n in counts.items() if n > 1] == []
    assert len(CWE_CATEGORIES) == sum(counts.values())
    assert set(CWE_CATEGORIES.values()) == set(ANALYSIS_CATEGORIES)


def test_every_table_entry_is_a_live_catalogue_entry(catalogue: CweCatalogue) -> None:
    missing = [cwe for cwe in CWE_CATEGORIES if catalogue.get(cwe) is None]
    retired = [cwe for cwe in CWE_CATEGORIES if cwe not in missing and catalogue.deprecated(cwe)]
    assert (missing, retired) == ([], [])


@pytest.mark.parametrize(
    ("name", "ids"),
    [
        ("top 25 of 2023", TOP_25_2023),
        ("top 25 of 2024", TOP_25_2024),
        ("seen in scanner output", SEEN_IN_SCANNER_OUTPUT),
    ],
)
def test_commonly_reported_cwes_have_explicit_entries(name: str, ids: tuple[int, ...]) -> None:
    assert [cwe for cwe in ids if cwe not in CWE_CATEGORIES] == [], name


def _builtin_analyses() -> list[tuple[str, int, str, bool]]:
    found = []
    for name in ("analysis", "heldout"):
        for record in load_builtin(name):
            lines = dict(line.split(": ", 1) for line in record["completion"].split("\n"))
            cwe = parse_cwe_id(lines["Classification"])
            assert cwe is not None
            dependency = "\nPackage: " in record["prompt"]
            found.append((record["id"], cwe, lines["Category"], dependency))
    return found


def test_table_agrees_with_every_builtin_analysis(catalogue: CweCatalogue) -> None:
    disagreements = {}
    for example_id, cwe, category, dependency in _builtin_analyses():
        assert cwe in CWE_CATEGORIES, f"{example_id}: CWE-{cwe} has no explicit entry"
        got = category_for_cwe(cwe, catalogue, dependency=dependency)
        if got != category:
            disagreements[example_id] = (cwe, category, got)
    assert set(disagreements) == set(BUILTIN_EXCEPTIONS), disagreements
    assert disagreements["ho-zap-hsts-01"] == (319, "misconfiguration", "crypto")
    assert disagreements["ho-checkov-sg-ssh-01"] == (284, "misconfiguration", "auth")


def test_dependency_findings_are_always_vulnerable_dependency(catalogue: CweCatalogue) -> None:
    assert category_for_cwe(79, catalogue, dependency=True) == "vulnerable-dependency"
    assert category_for_cwe(999_999, catalogue, dependency=True) == "vulnerable-dependency"
    assert category_for_cwe(79, catalogue) == "xss"


def test_ids_without_an_entry_take_their_nearest_ancestors_category(
    catalogue: CweCatalogue,
) -> None:
    assert 36 not in CWE_CATEGORIES  # Absolute Path Traversal, a child of CWE-22
    assert category_for_cwe(36, catalogue) == "path-traversal"
    # CWE-82 sits under CWE-83 (xss) and, further up, CWE-74 (injection): the nearest wins.
    assert 82 not in CWE_CATEGORIES and catalogue.ancestors(82)[:3] == (83, 79, 74)
    assert category_for_cwe(82, catalogue) == "xss"


def test_ids_without_any_categorised_ancestor(catalogue: CweCatalogue) -> None:
    assert category_for_cwe(664, catalogue) is None  # a pillar
    assert category_for_cwe(16, catalogue) is None  # an obsolete category
    assert category_for_cwe(999_999, catalogue) is None  # not in the catalogue
