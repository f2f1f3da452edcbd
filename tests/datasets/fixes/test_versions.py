"""Version ordering per ecosystem and the smallest upgrade that fixes every advisory."""

from __future__ import annotations

import pytest

from vulntune.datasets.fixes.versions import (
    generic_key,
    maven_key,
    pep440_key,
    rubygems_key,
    semver_key,
    smallest_common_fix,
)


@pytest.mark.parametrize(
    ("key", "lower", "higher"),
    [
        (pep440_key, "5.3.1", "5.4"),
        (pep440_key, "2.0rc1", "2.0"),
        (pep440_key, "1.9.9", "1.10"),
        (semver_key, "1.0.0-beta.2", "1.0.0"),
        (semver_key, "v1.2.3", "v1.10.0"),
        (semver_key, "1.0.0-alpha", "1.0.0-alpha.1"),
        (maven_key, "1.33", "2.0"),
        (maven_key, "1.0-rc1", "1.0"),
        (maven_key, "1.0-alpha", "1.0-beta"),
        (maven_key, "1.0", "1.0-sp1"),
        (maven_key, "1.0", "1.0.1"),
        (rubygems_key, "1.0.0.rc1", "1.0.0"),
        (rubygems_key, "1.0", "1.0.1"),
        (generic_key, "1.2", "1.10"),
    ],
)
def test_versions_sort_as_their_ecosystem_orders_them(key, lower, higher) -> None:
    assert key(lower) < key(higher)


def test_padding_does_not_count() -> None:
    assert maven_key("1.0") == maven_key("1") == maven_key("1.0.0-final")
    assert rubygems_key("1.0") == rubygems_key("1")


def test_the_smallest_version_above_the_installed_one_that_fixes_every_advisory() -> None:
    # node-fetch 2.6.0 in the demo: one advisory fixed in 2.6.1, one in 2.6.7 and 3.1.1.
    assert smallest_common_fix("2.6.0", [["2.6.1"], ["2.6.7", "3.1.1"]], "npm") == "2.6.7"
    assert smallest_common_fix("2.6.0", [["2.6.1"]], "npm") == "2.6.1"
    assert smallest_common_fix("3.0.0", [["2.6.7", "3.1.1"]], "npm") == "3.1.1"
    assert smallest_common_fix("1.33", [["2.0"]], "maven") == "2.0"
    assert smallest_common_fix("5.3.1", [["5.4"], ["5.3.2"]], "pypi") == "5.4"


def test_no_common_fix_when_an_advisory_lists_none_or_all_are_below() -> None:
    assert smallest_common_fix("1.0", [["1.1"], []], "pypi") is None
    assert smallest_common_fix("3.0", [["2.0"]], "pypi") is None
    assert smallest_common_fix("1.0", [], "pypi") is None
