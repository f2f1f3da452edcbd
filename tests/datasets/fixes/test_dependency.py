"""Dependency upgrades: the declaring line of each manifest kind, one version changed."""

from __future__ import annotations

import pytest

from vulntune.datasets.fixes.dependency import edit_manifest
from vulntune.findings.context.manifests import find_line, package_ecosystem
from vulntune.findings.record import Package

CASES = [
    ("requirements-dev.txt", "flask==3.1.3\nPyYAML==5.3.1  # loader\n", "PyPI", "pyyaml",
     "5.3.1", "5.4", "PyYAML==5.4  # loader"),
    ("pyproject.toml", '[project]\ndependencies = [\n  "pyyaml==5.3.1",\n]\n', "PyPI", "PyYAML",
     "5.3.1", "5.4", '  "pyyaml==5.4",'),
    ("package.json", '{\n  "dependencies": {\n    "node-fetch": "^2.6.0"\n  }\n}\n', "npm",
     "node-fetch", "2.6.0", "2.6.7", '    "node-fetch": "^2.6.7"'),
    ("go.mod", "module x\n\nrequire (\n\tgolang.org/x/net v0.7.0\n)\n", "Go", "golang.org/x/net",
     "v0.7.0", "v0.17.0", "\tgolang.org/x/net v0.17.0"),
    ("Cargo.toml", '[dependencies]\nserde = "1.0"\nhyper = "0.14.10"\n', "crates.io", "hyper",
     "0.14.10", "0.14.26", 'hyper = "0.14.26"'),
    ("Gemfile", "source 'https://rubygems.org'\ngem 'rack', '2.2.3'\n", "RubyGems", "rack",
     "2.2.3", "2.2.6.4", "gem 'rack', '2.2.6.4'"),
    ("build.gradle", "dependencies {\n    implementation 'org.yaml:snakeyaml:1.33'\n}\n", "Maven",
     "org.yaml:snakeyaml", "1.33", "2.0", "    implementation 'org.yaml:snakeyaml:2.0'"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "text", "eco", "name", "installed", "chosen", "expected"), CASES)
def test_the_declaring_line_gets_the_new_version(
    path, text, eco, name, installed, chosen, expected
) -> None:
    package = Package(name=name, ecosystem=eco, installed_version=installed)
    family = package_ecosystem(package)
    line = find_line(path, text, package, family)
    assert line is not None
    raw = text.split("\n")
    new, edited = edit_manifest(raw, line, path, installed, chosen)
    assert new[edited - 1] == expected
    assert [n for n, (a, b) in enumerate(zip(raw, new, strict=True), 1) if a != b] == [edited]


def test_a_pom_changes_the_dependencys_version_line() -> None:
    text = (
        "<project>\n  <dependencies>\n    <dependency>\n      <groupId>org.yaml</groupId>\n"
        "      <artifactId>snakeyaml</artifactId>\n      <version>1.33</version>\n"
        "    </dependency>\n  </dependencies>\n</project>\n"
    )
    package = Package(name="org.yaml:snakeyaml", ecosystem="Maven", installed_version="1.33")
    line = find_line("pom.xml", text, package, "maven")
    new, edited = edit_manifest(text.split("\n"), line, "pom.xml", "1.33", "2.0")
    assert (edited, new[edited - 1]) == (6, "      <version>2.0</version>")


def test_a_version_from_a_property_cannot_be_changed_here() -> None:
    text = (
        "<dependency>\n  <artifactId>snakeyaml</artifactId>\n  <version>${yaml.version}</version>\n"
        "</dependency>\n"
    )
    assert edit_manifest(text.split("\n"), 2, "pom.xml", "1.33", "2.0") is None
