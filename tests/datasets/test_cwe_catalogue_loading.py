"""Loading CWE catalogues: by path or $VULNTUNE_CWE_XML, once per process, through the
on-disk cache keyed by content, and clear errors for files that are not catalogues."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from vulntune.datasets import cwe_catalogue
from vulntune.datasets.cwe_catalogue import CatalogueError, CweCatalogue

X = 'xmlns:xhtml="http://www.w3.org/1999/xhtml"'


# -------------------------------------------------------------------------------- loading

MINI = """<?xml version="1.0" encoding="UTF-8"?>
<Weakness_Catalog Name="CWE" Version="{version}" Date="2030-01-01"
    xmlns="http://cwe.mitre.org/cwe-7" {x}>
  <Weaknesses>
    <Weakness ID="10" Name="Pillar" Abstraction="Pillar" Status="Stable">
      <Description>Top.</Description>
    </Weakness>
    <Weakness ID="11" Name="Child" Abstraction="Base" Status="Draft">
      <Description><xhtml:p>First.</xhtml:p><xhtml:p>Second   line.</xhtml:p></Description>
      <Related_Weaknesses>
        <Related_Weakness Nature="ChildOf" CWE_ID="99" View_ID="1003" Ordinal="Primary"/>
        <Related_Weakness Nature="ChildOf" CWE_ID="12" View_ID="1000"/>
        <Related_Weakness Nature="ChildOf" CWE_ID="10" View_ID="1000" Ordinal="Primary"/>
      </Related_Weaknesses>
    </Weakness>
    <Weakness ID="12" Name="Outside the research view" Abstraction="Class" Status="Draft">
      <Related_Weaknesses>
        <Related_Weakness Nature="ChildOf" CWE_ID="10" View_ID="1003" Ordinal="Primary"/>
        <Related_Weakness Nature="PeerOf" CWE_ID="11" View_ID="1000"/>
      </Related_Weaknesses>
    </Weakness>
  </Weaknesses>
  <Categories>
    <Category ID="20" Name="DEPRECATED: Old" Status="Deprecated"><Summary>Gone.</Summary>
      <Relationships><Has_Member CWE_ID="11" View_ID="1000"/></Relationships>
    </Category>
  </Categories>
</Weakness_Catalog>
"""


@pytest.fixture
def mini_xml(tmp_path: Path) -> Path:
    path = tmp_path / "cwec_mini.xml"
    path.write_text(MINI.format(version="9.9", x=X), encoding="utf-8")
    return path


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget the catalogues this process loaded, as a new process would."""
    monkeypatch.setattr(cwe_catalogue, "_LOADED", {})


def test_a_catalogue_given_by_path(mini_xml: Path, tmp_path: Path, fresh_process: None) -> None:
    mini = CweCatalogue.load(mini_xml, cache_dir=tmp_path / "cache")
    assert mini.version == "9.9" and len(mini) == 4
    child = mini.get(11)
    assert child is not None
    assert child.description == "First.\nSecond line."
    assert child.parents == (10, 12)  # view 1000 only, the primary first
    assert mini.parents(12) == (10,)  # no parent in view 1000: the other views' primary one
    assert mini.ancestors(11) == (10, 12)
    assert mini.children(10) == (11, 12)
    assert mini.get(20) is not None and mini.get(20).members == (11,)  # type: ignore[union-attr]
    assert mini.deprecated(20) and not mini.deprecated(11)
    assert CweCatalogue.load(mini_xml, cache_dir=tmp_path / "cache") is mini


def test_environment_variable_names_the_catalogue(
    mini_xml: Path, monkeypatch: pytest.MonkeyPatch, fresh_process: None
) -> None:
    monkeypatch.setenv("VULNTUNE_CWE_XML", str(mini_xml))
    assert CweCatalogue.load().version == "9.9"
    monkeypatch.delenv("VULNTUNE_CWE_XML")
    assert CweCatalogue.load().version == "4.14"


def test_parsed_records_are_cached_by_content(
    mini_xml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_process: None
) -> None:
    cache = tmp_path / "cache"
    first = CweCatalogue.load(mini_xml, cache_dir=cache)
    files = list(cache.iterdir())
    assert len(files) == 1 and files[0].name.startswith("cwec-") and files[0].suffix == ".json"

    # A new process reads the cache and never parses the XML.
    def no_parse(path: Path) -> None:
        raise AssertionError(f"parsed {path} although the cache holds it")

    monkeypatch.setattr(cwe_catalogue, "_LOADED", {})
    monkeypatch.setattr(cwe_catalogue, "parse_catalogue", no_parse)
    second = CweCatalogue.load(mini_xml, cache_dir=cache)
    assert second is not first and second.get(11) == first.get(11)
    assert second.ids() == first.ids()

    # Different content is a different cache entry, never the stale one.
    monkeypatch.undo()
    monkeypatch.setattr(cwe_catalogue, "_LOADED", {})
    mini_xml.write_text(MINI.format(version="9.10", x=X), encoding="utf-8")
    assert CweCatalogue.load(mini_xml, cache_dir=cache).version == "9.10"
    assert len(list(cache.iterdir())) == 2


def test_a_damaged_cache_is_rebuilt(mini_xml: Path, tmp_path: Path, fresh_process: None) -> None:
    cache = tmp_path / "cache"
    CweCatalogue.load(mini_xml, cache_dir=cache)
    (cached,) = cache.iterdir()
    cached.write_text('{"version": "9.9", "entr', encoding="utf-8")
    cwe_catalogue._LOADED.clear()
    assert CweCatalogue.load(mini_xml, cache_dir=cache).version == "9.9"
    assert cached.read_bytes().startswith(b'{"version":"9.9"')


def test_a_cache_that_cannot_be_created_only_costs_time(
    mini_xml: Path, tmp_path: Path, fresh_process: None
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert CweCatalogue.load(mini_xml, cache_dir=blocker / "cwe").version == "9.9"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("<Weakness_Catalog", "not well-formed XML"),
        ("<html><body>CWE</body></html>", "is not a CWE catalogue"),
        (MINI.format(version="9.9", x=X).replace("cwe-7", "cwe-6"), "is not a CWE catalogue"),
        (
            MINI.format(version="9.9", x=X).replace('CWE_ID="12"', 'CWE_ID="x12"'),
            "a ChildOf of 11 has CWE_ID='x12', not a number",
        ),
    ],
)
def test_bad_catalogue_files(
    tmp_path: Path, content: str, problem: str, fresh_process: None
) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogueError, match=re.escape(problem)) as info:
        CweCatalogue.load(path, cache_dir=tmp_path / "cache")
    assert str(path) in str(info.value)


def test_missing_catalogue_file(tmp_path: Path, fresh_process: None) -> None:
    with pytest.raises(CatalogueError, match=r"cannot read CWE catalogue .*missing\.xml"):
        CweCatalogue.load(tmp_path / "missing.xml", cache_dir=tmp_path / "cache")


def test_the_bundled_file_is_found_without_importing_cwe2() -> None:
    code = (
        "import sys\n"
        "from vulntune.datasets.cwe_catalogue import default_catalogue_path\n"
        "path = default_catalogue_path()\n"
        "print(path.name, 'cwe2' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["cwec_v4.14.xml", "False"]
