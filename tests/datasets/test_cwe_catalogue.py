"""The CWE catalogue: real entries of CWE 4.14, code examples rendered back to source, the
hierarchy and id parsing. Loading, caching and bad files are in
test_cwe_catalogue_loading.py."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from vulntune.datasets.cwe_catalogue import (
    CodeBlock,
    CweCatalogue,
    default_catalogue_path,
    parse_cwe_id,
)
from vulntune.datasets.cwe_xml import render_code

SQLI = "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')"


def _code_blocks(catalogue: CweCatalogue, cwe_id: int, language: str | None) -> list[CodeBlock]:
    entry = catalogue.get(cwe_id)
    assert entry is not None
    return [
        part
        for example in entry.demonstrative_examples
        for part in example.parts
        if isinstance(part, CodeBlock) and part.language == language
    ]


# -------------------------------------------------------------------------------- entries


def test_the_bundled_catalogue_is_cwe_4_14(catalogue: CweCatalogue) -> None:
    assert (catalogue.version, catalogue.date) == ("4.14", "2024-02-29")
    assert catalogue.source == default_catalogue_path().resolve()
    assert catalogue.source.name == "cwec_v4.14.xml"
    assert len(catalogue.ids("weakness")) == 963
    assert len(catalogue.ids("category")) == 409
    assert len(catalogue.ids("view")) == 54
    assert catalogue.ids() == sorted(catalogue.ids())


def test_a_weakness_entry(catalogue: CweCatalogue) -> None:
    entry = catalogue.get(89)
    assert entry is not None
    assert (entry.id, entry.name, entry.kind) == (89, SQLI, "weakness")
    assert (entry.abstraction, entry.status, entry.mapping_usage) == ("Base", "Stable", "Allowed")
    assert entry.description.startswith("The product constructs all or part of an SQL command")
    assert entry.consequences[0].scopes == ("Confidentiality",)
    assert entry.consequences[0].impacts == ("Read Application Data",)
    assert entry.consequences[0].note is not None
    assert entry.parents == (943,)
    assert catalogue.name(89) == SQLI


def test_prose_keeps_paragraphs_and_list_items_on_their_own_lines(
    catalogue: CweCatalogue,
) -> None:
    entry = catalogue.get(79)
    assert entry is not None
    lines = entry.extended_description.split("\n")
    assert lines[:3] == [
        "Cross-site scripting (XSS) vulnerabilities occur when:",
        "- Untrusted data enters a web application, typically from a web request.",
        "- The web application dynamically generates a web page that contains this untrusted data.",
    ]
    assert all(line == " ".join(line.split()) for line in lines)


def test_names_carry_no_stray_whitespace(catalogue: CweCatalogue) -> None:
    """MITRE's XML ends a few names in a space (CWE-280, 600, 1290); a name is written into
    completions and must parse back unchanged, so it is normalised when read."""
    assert catalogue.name(280) == "Improper Handling of Insufficient Permissions or Privileges"
    for cwe_id in catalogue.ids():
        name = catalogue.name(cwe_id) or ""
        assert name == " ".join(name.split()), cwe_id


def test_categories_and_views(catalogue: CweCatalogue) -> None:
    crypto = catalogue.get(310)
    assert crypto is not None and crypto.kind == "category"
    assert crypto.description.startswith("Weaknesses in this category are related to")
    assert {328, 347, 916} <= set(crypto.members)
    assert crypto.parents == () and crypto.abstraction is None
    research = catalogue.get(1000)
    assert research is not None and research.kind == "view"
    assert research.name == "Research Concepts"
    assert 699 in catalogue.ids("view") and 89 not in catalogue.ids("view")


def test_unknown_ids(catalogue: CweCatalogue) -> None:
    assert catalogue.get(999_999) is None
    assert catalogue.name(999_999) is None
    assert catalogue.parents(999_999) == () and catalogue.ancestors(999_999) == ()
    assert 999_999 not in catalogue and 89 in catalogue
    with pytest.raises(KeyError):
        catalogue.deprecated(999_999)


def test_deprecated_and_obsolete_entries(catalogue: CweCatalogue) -> None:
    assert catalogue.deprecated(1187)  # "DEPRECATED: Use of Uninitialized Resource"
    assert catalogue.deprecated(16)  # the obsolete "Configuration" category
    assert not catalogue.deprecated(89)
    assert not catalogue.deprecated(310)


# -------------------------------------------------------------------------------- hierarchy


def test_parents_ancestors_children(catalogue: CweCatalogue) -> None:
    assert catalogue.ancestors(89) == (943, 74, 707)
    assert catalogue.ancestors(36) == (22, 706, 668, 664)
    assert catalogue.parents(284) == () and catalogue.ancestors(284) == ()  # a pillar
    assert 564 in catalogue.children(89)
    assert 89 in catalogue.children(943)
    assert catalogue.children(564) == ()
    # The primary parent comes first when an entry has several in view 1000.
    entry = catalogue.get(22)
    assert entry is not None and entry.parents == (706, 668)


def test_is_related_means_same_parent_or_child(catalogue: CweCatalogue) -> None:
    assert catalogue.is_related(89, 89)
    assert catalogue.is_related(89, 943) and catalogue.is_related(943, 89)
    assert catalogue.is_related(89, 564)
    assert not catalogue.is_related(89, 74)  # a grandparent is not a direct relative
    assert not catalogue.is_related(89, 79)


# -------------------------------------------------------------------------------- code


def test_cwe_89_dx_209_csharp_example(catalogue: CweCatalogue) -> None:
    entry = catalogue.get(89)
    assert entry is not None
    example = next(x for x in entry.demonstrative_examples if x.example_id == "DX-209")
    assert example.intro.startswith("The following code dynamically constructs and executes")
    bad = example.parts[0]
    assert isinstance(bad, CodeBlock)
    assert (bad.nature, bad.language) == ("Bad", "C#")
    assert bad.code == (
        "...\n"
        "string userName = ctx.getAuthenticatedUserName();\n"
        'string query = "SELECT * FROM items WHERE owner = \'" + userName + "\' AND '
        'itemname = \'" + ItemName.Text + "\'";\n'
        "sda = new SqlDataAdapter(query, conn);\n"
        "DataTable dt = new DataTable();\n"
        "sda.Fill(dt);\n"
        "..."
    )
    assert example.parts[1] == "The query that this code intends to execute follows:"
    informative = example.parts[2]
    assert isinstance(informative, CodeBlock) and informative.nature == "Informative"
    assert informative.code == (
        "SELECT * FROM items WHERE owner = <userName> AND itemname = <itemName>;"
    )


def test_python_example_keeps_its_nesting(catalogue: CweCatalogue) -> None:
    bad, good = _code_blocks(catalogue, 22, "Python")[:2]
    assert (bad.nature, good.nature) == ("Bad", "Good")
    assert bad.code == (
        "import os\n"
        "import sys\n"
        "def main():\n"
        "    filename = sys.argv[1]\n"
        "    path = os.path.join(os.getcwd(), filename)\n"
        "    try:\n"
        "        with open(path, 'r') as f:\n"
        "            file_data = f.read()\n"
        "    except FileNotFoundError as e:\n"
        '        print("Error - file not found")\n'
        "main()"
    )
    compile(bad.code, "cwe-22-example.py", "exec")  # indentation is valid Python


def test_java_example_with_braces_and_a_blank_line(catalogue: CweCatalogue) -> None:
    code = next(
        block.code
        for block in _code_blocks(catalogue, 78, "Java")
        if "coordinateTransformLatLonToUTM" in block.code
    )
    assert code == (
        "public String coordinateTransformLatLonToUTM(String coordinates)\n"
        "{\n"
        "    String utmCoords = null;\n"
        "    try {\n"
        "        String latlonCoords = coordinates;\n"
        "        Runtime rt = Runtime.getRuntime();\n"
        '        Process exec = rt.exec("cmd.exe /C latlon2utm.exe -" + latlonCoords);\n'
        "        // process results of coordinate transform\n"
        "\n"
        "        // ...\n"
        "    }\n"
        "    catch(Exception e) {...}\n"
        "    return utmCoords;\n"
        "}"
    )


def test_every_code_block_is_plausible_source(catalogue: CweCatalogue) -> None:
    blocks = [
        part
        for cwe_id in catalogue.ids()
        for example in catalogue.get(cwe_id).demonstrative_examples  # type: ignore[union-attr]
        for part in example.parts
        if isinstance(part, CodeBlock)
    ]
    assert len(blocks) == 1463
    for block in blocks:
        lines = block.code.split("\n")
        assert block.code == block.code.strip("\n"), block
        assert all(line == line.rstrip() for line in lines), block
        assert all((len(line) - len(line.lstrip(" "))) % 4 == 0 or "\t" in line for line in lines)
        assert "\0" not in block.code


X = 'xmlns:xhtml="http://www.w3.org/1999/xhtml"'


def _render(fragment: str) -> str:
    return render_code(ET.fromstring(f"<Example_Code {X}>{fragment}</Example_Code>"))


def test_render_code_rules() -> None:
    # <br/> ends a line, a margin div indents, the text after it returns to the outer level.
    assert (
        _render(
            "<xhtml:div>if (x) {<xhtml:div style='margin-left:1em;'>a();<xhtml:br/>b();"
            "</xhtml:div>}</xhtml:div>"
        )
        == "if (x) {\n    a();\n    b();\n}"
    )
    # Two em are two levels; <i> and <b> are plain text.
    assert (
        _render(
            "<xhtml:div>a<xhtml:div style='margin-left:2em;'><xhtml:i>b</xhtml:i> <xhtml:b>c"
            "</xhtml:b></xhtml:div></xhtml:div>"
        )
        == "a\n        b c"
    )
    # Whitespace that lays out the XML file is dropped; written spaces and tabs stay.
    assert (
        _render(
            "\n   <xhtml:div>\n      x  =  1;\t// note<xhtml:br/>\n      y = 2;\n   </xhtml:div>\n"
        )
        == "x  =  1;\t// note\ny = 2;"
    )
    # Two <br/> in a row leave a blank line; blank lines at the edges are dropped.
    assert _render("<xhtml:div><xhtml:br/>a<xhtml:br/><xhtml:br/>b<xhtml:br/></xhtml:div>") == (
        "a\n\nb"
    )
    # Table rows are lines, cells joined by " | ".
    assert (
        _render(
            "<xhtml:table><xhtml:tr><xhtml:th>Reg</xhtml:th><xhtml:th>Use</xhtml:th></xhtml:tr>"
            "<xhtml:tr><xhtml:td>K0</xhtml:td><xhtml:td>key</xhtml:td></xhtml:tr></xhtml:table>"
        )
        == "Reg | Use\nK0 | key"
    )


# -------------------------------------------------------------------------------- ids


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CWE-89", 89),
        ("cwe-89", 89),
        ("89", 89),
        (" 89 ", 89),
        ("CWE 89", 89),
        ("CWE_89", 89),
        ("CWE-089", 89),
        ("CWE-ID 89", 89),
        (f"CWE-89: {SQLI}", 89),
        ("CWE-89 Improper Neutralization", 89),
        ("CWE-89.", 89),
        (89, 89),
        ("89 apples", None),
        ("CWE-89.5", None),
        ("CWE-89abc", None),
        ("CWE-0", None),
        ("CWE", None),
        ("", None),
        (None, None),
        (0, None),
        ("SQL injection", None),
    ],
)
def test_parse_cwe_id(text: str | int | None, expected: int | None) -> None:
    assert parse_cwe_id(text) == expected
