"""CWE ids, advisory ids and the string lists parsers read them from."""

from __future__ import annotations

from vulntune.findings.identifiers import (
    cwe_id,
    extract_cwe_ids,
    extract_vulnerability_ids,
    is_vulnerability_id,
    split_versions,
    string_list,
)


def test_cwe_ids_from_the_shapes_tools_write():
    assert cwe_id(79) == "CWE-79"
    assert cwe_id("089") == "CWE-89"
    assert cwe_id("external/cwe/cwe-079") == "CWE-79"
    assert cwe_id("CWE-22: Improper Limitation of a Pathname") == "CWE-22"
    assert cwe_id(0) is None
    assert cwe_id("no cwe here") is None
    assert extract_cwe_ids(
        ["CWE-79: Improper Neutralization", "external/cwe/cwe-079", "security"],
        "see cwe_352 and CWE 1321",
        {"cwe": ["CWE-089"]},
        611,
    ) == ["CWE-79", "CWE-352", "CWE-1321", "CWE-89", "CWE-611"]
    # A CWE id inside another word, or a number in free text, is not a CWE reference.
    assert extract_cwe_ids("NOCWE-12 and 79 apples") == []


def test_advisory_ids_are_found_and_canonicalised():
    text = (
        "cve-2021-44228 (see GHSA-JFH8-C2JP-5V3Q), PYSEC-2021-19, GO-2022-0493, "
        "RUSTSEC-2021-0078 and CVE-2021-44228 again; not GHSA-abcd-efgh-ijkl"
    )
    assert extract_vulnerability_ids(text, ["CVE-2014-0160"]) == [
        "CVE-2021-44228",
        "GHSA-jfh8-c2jp-5v3q",
        "PYSEC-2021-19",
        "GO-2022-0493",
        "RUSTSEC-2021-0078",
        "CVE-2014-0160",
    ]
    assert is_vulnerability_id("CVE-2016-2781")
    assert is_vulnerability_id("GHSA-35jh-r3h4-6jhm")
    assert not is_vulnerability_id("CKV2_GHA_1")
    assert not is_vulnerability_id("CVE-2016-2781 extra")


def test_string_lists_and_version_lists():
    assert string_list(["a", "", 3, "b"]) == ["a", "b"]
    assert string_list("x") == ["x"]
    assert string_list(None) == []
    assert split_versions("1.5.13, 1.3.15") == ["1.5.13", "1.3.15"]
    assert split_versions(["2.0.1", "2.0.1", ""]) == ["2.0.1"]
    assert split_versions("") == []
