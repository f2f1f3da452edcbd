"""The import graph runs one way: no module of vulntune imports a higher layer.

    errors, conversation < io < models < findings < datasets < runs < training < evaluation
    < inference, publish < pipeline, demo < cli, __main__

Every import counts: at module level, inside functions, and under ``if TYPE_CHECKING:`` (a
type-only import upward still ties a lower layer to a higher one). Layers that do not exist
yet (evaluation, publish) are in the table so that code added there is guarded from the start.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import vulntune

PACKAGE_ROOT = Path(vulntune.__file__).parent

# Lowest first. A module may import its own layer and any layer below it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("vulntune", "vulntune.errors", "vulntune.conversation"),
    ("vulntune.io",),
    ("vulntune.models",),
    ("vulntune.findings",),
    ("vulntune.datasets",),
    ("vulntune.runs",),
    ("vulntune.training",),
    ("vulntune.evaluation",),
    ("vulntune.inference", "vulntune.publish"),
    # The top orchestration layer: the whole pipeline (`vulntune run`) and its ready-made runs.
    ("vulntune.pipeline", "vulntune.demo"),
    ("vulntune.cli", "vulntune.__main__"),
)
_RANK = {prefix: rank for rank, prefixes in enumerate(LAYERS) for prefix in prefixes}


def _layer_name(module: str) -> str:
    """The most specific table entry that contains ``module`` (the root package only itself)."""
    if module == "vulntune":
        return module
    parts = module.split(".")
    for end in range(len(parts), 1, -1):
        if ".".join(parts[:end]) in _RANK:
            return ".".join(parts[:end])
    raise KeyError(module)


def layer_of(module: str) -> int:
    """The rank of ``module``'s layer; KeyError for a module the table does not place."""
    return _RANK[_layer_name(module)]


def _is_module(name: str) -> bool:
    path = PACKAGE_ROOT.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


@dataclass(frozen=True)
class Violation:
    importer: str
    imported: str
    line: int

    def __str__(self) -> str:
        return (
            f"{self.importer} (layer {_layer_name(self.importer)}) imports {self.imported} "
            f"(layer {_layer_name(self.imported)}, higher) at line {self.line}"
        )


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imported_modules(module: str, source: str, is_package: bool = False) -> list[tuple[str, int]]:
    """Every vulntune module that ``source`` imports, anywhere in it, with its line."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, is_package, node)
            for alias in node.names:
                # `from vulntune import training` imports the subpackage; `from vulntune import
                # __version__` and `from .manager import X` import from the module named.
                submodule = f"{target}.{alias.name}"
                found.append((submodule if _is_module(submodule) else target, node.lineno))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.args[0].value, node.lineno))
    return [(name, line) for name, line in found if name.split(".")[0] == "vulntune"]


def layering_violations(module: str, source: str, is_package: bool = False) -> list[Violation]:
    """The imports in ``source`` (the text of ``module``) that reach a higher layer."""
    own = layer_of(module)
    return [
        Violation(module, name, line)
        for name, line in imported_modules(module, source, is_package)
        if layer_of(name) > own
    ]


def _in_a_package(path: Path) -> bool:
    """True for a module of vulntune: every folder from it up to the root is a package.

    Python files stored as data (the demo project's sources) are not modules of vulntune.
    """
    folder = path.parent
    while folder != PACKAGE_ROOT:
        if not (folder / "__init__.py").is_file():
            return False
        folder = folder.parent
    return True


def _package_modules() -> list[tuple[str, Path]]:
    modules = []
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        if not _in_a_package(path):
            continue
        parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules.append((".".join(parts), path))
    return modules


def test_every_module_has_a_layer():
    unplaced = []
    for module, _ in _package_modules():
        try:
            layer_of(module)
        except KeyError:
            unplaced.append(module)
    assert not unplaced, f"add these modules to LAYERS in {__file__}: {unplaced}"


def test_no_module_imports_a_higher_layer():
    violations = []
    for module, path in _package_modules():
        source = path.read_text(encoding="utf-8")
        violations += layering_violations(module, source, path.name == "__init__.py")
    assert not violations, "\n".join(map(str, violations))


def test_the_tree_is_the_one_the_table_describes():
    modules = {module for module, _ in _package_modules()}
    assert {"vulntune.models.resolve", "vulntune.runs.manager", "vulntune.training.loop"} <= modules
    assert len(modules) > 40  # the walk found the package, not an empty directory


# -- the checker itself ----------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "from vulntune.training.loop import run_loop\n",
        "import vulntune.training.loop\n",
        "from vulntune import training\n",
        "def f():\n    from vulntune.training import loop\n",
        "if TYPE_CHECKING:\n    from vulntune.training.job import StageJob\n",
        "import importlib\nimportlib.import_module('vulntune.training.loop')\n",
        "from ..training import loop\n",
    ],
)
def test_a_planted_upward_import_is_caught_and_named(source: str):
    (violation,) = layering_violations("vulntune.runs.planted", source)
    assert violation.importer == "vulntune.runs.planted"
    assert violation.imported.startswith("vulntune.training")
    assert str(violation).startswith("vulntune.runs.planted (layer vulntune.runs) imports ")
    assert "(layer vulntune.training, higher)" in str(violation)


@pytest.mark.parametrize(
    "source",
    [
        "from vulntune.models.resolve import resolve_model\n",  # lower layer
        "from vulntune.runs.run import TrainingRun\n",  # own layer
        "from . import run\n",  # own package, relative
        "from vulntune.errors import VulntuneError\nimport json\nimport torch\n",
        "from vulntune import __version__\n",
    ],
)
def test_downward_and_sideways_imports_pass(source: str):
    assert layering_violations("vulntune.runs.planted", source) == []


def test_relative_imports_resolve_from_a_package_init():
    source = "from .manager import TrainingRunManager\nfrom .. import training\n"
    found = imported_modules("vulntune.runs", source, is_package=True)
    assert found == [("vulntune.runs.manager", 1), ("vulntune.training", 2)]
    (violation,) = layering_violations("vulntune.runs", source, is_package=True)
    assert violation.imported == "vulntune.training"


def test_siblings_of_one_layer_may_import_each_other():
    assert layering_violations("vulntune.publish.export", "import vulntune.inference.x\n") == []
    (violation,) = layering_violations("vulntune.inference.x", "import vulntune.cli.app\n")
    assert violation.imported == "vulntune.cli.app"


def test_python_files_stored_as_data_are_not_modules():
    assert _in_a_package(PACKAGE_ROOT / "runs" / "run.py")
    assert not _in_a_package(PACKAGE_ROOT / "datasets" / "builtin" / "sample.py")  # a data folder


def test_a_module_outside_the_table_is_reported():
    with pytest.raises(KeyError):
        layer_of("vulntune.somewhere_new")
    with pytest.raises(KeyError):
        layer_of("vulntune.somewhere_new.deeper")
    assert layer_of("vulntune") == layer_of("vulntune.errors") == 0
