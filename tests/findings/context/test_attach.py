"""Code context: strict source-root containment, context windows, enclosing blocks, manifests
(through :func:`attach_context` and a real source tree)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vulntune.findings.context import ContextOptions, SourceTree, attach_context
from vulntune.findings.record import Finding, FindingKind, Location, Origin, Package, Severity

VIEWS_PY = '''import os


class LoginView(View):
    """Doc."""

    def post(self, request):
        user = request.POST["user"]
        if user:
            cursor.execute("SELECT * FROM users WHERE name = '%s'" % user)
        return ok()


def helper():
    return 1
'''

AUTH_JAVA = """package x;

public class Auth {
    private String key = "abc";

    @Override
    public Response login(Request req,
                          Context ctx) throws IOException {
        if (req.user() != null) {
            String q = "select * from t where x = '" + req.user() + "'";
            run(q);
        }
        return null;
    }
}
"""


@pytest.fixture()
def tree(tmp_path: Path) -> SourceTree:
    root = tmp_path / "src"
    (root / "app").mkdir(parents=True)
    (root / "app" / "views.py").write_text(VIEWS_PY)
    (root / "app" / "Auth.java").write_text(AUTH_JAVA)
    (root / "requirements.txt").write_text("# deps\nDjango==3.2.1\nrequests[security]>=2.0\n")
    (root / "web").mkdir()
    (root / "web" / "package.json").write_text(
        '{\n  "name": "demo",\n  "dependencies": {\n    "lodash": "^4.17.20"\n  },\n'
        '  "devDependencies": {\n    "minimist": "1.2.0"\n  }\n}\n'
    )
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n[tool.poetry.dependencies]\nPyYAML = "5.1"\n'
    )
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("TOP SECRET\n")
    (outside / "requirements.txt").write_text("lodash==1\nleftpad==1\n")
    (root / "app" / "link.py").symlink_to(outside / "secret.txt")
    (root / "app" / "outdir").symlink_to(outside)
    (root / "inner_link.py").symlink_to(root / "app" / "views.py")
    return SourceTree(root)


def code_finding(path: str | None, line: int | None = 1, column: int | None = None, **kw):
    return Finding(
        id="f",
        tool="semgrep",
        rule_id="r",
        severity=Severity.HIGH,
        message="m",
        kind=kw.pop("kind", FindingKind.CODE),
        origin=Origin("r.sarif", "sarif", 0),
        location=Location(path=path, start_line=line, start_column=column),
        **kw,
    )


def dep_finding(path: str | None, name: str, ecosystem: str | None = None, purl=None):
    f = code_finding(path, 1, kind=FindingKind.DEPENDENCY)
    f.package = Package(name=name, ecosystem=ecosystem, purl=purl)
    return f


def test_code_context_window_and_python_enclosing(tree):
    f, problem = attach_context(code_finding("app/views.py", 10), tree)
    assert problem is None
    ctx = f.context
    assert (ctx.path, ctx.start_line, ctx.enclosing) == (
        "app/views.py",
        5,
        "def post(self, request)",
    )
    assert ctx.lines == VIEWS_PY.split("\n")[4:15]
    assert "cursor.execute" in ctx.lines[5]


def test_context_size_is_configurable_and_clipped_at_file_edges(tree):
    small = SourceTree(tree.root, ContextOptions(lines_before=1, lines_after=0))
    f, _ = attach_context(code_finding("app/views.py", 1), small)
    assert f.context.start_line == 1 and f.context.lines == ["import os"]
    f, _ = attach_context(code_finding("app/views.py", 10), small)
    assert f.context.start_line == 9 and len(f.context.lines) == 2


def test_java_enclosing_method_with_wrapped_signature(tree):
    f, _ = attach_context(code_finding("app/Auth.java", 10), tree)
    assert (
        f.context.enclosing == "public Response login(Request req, Context ctx) throws IOException"
    )
    f, _ = attach_context(code_finding("app/Auth.java", 4), tree)
    assert f.context.enclosing == "public class Auth"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("../outside/secret.txt", "outside-root"),
        ("app/../../outside/secret.txt", "outside-root"),
        ("app/link.py", "outside-root"),  # symlink to a file outside
        ("app/outdir/secret.txt", "outside-root"),  # symlinked folder leading outside
        ("C:\\outside\\secret.txt", "outside-root"),
        ("app/nope.py", "missing"),
        ("app", "not-a-file"),
        (".", "not-a-file"),
    ],
)
def test_paths_escaping_the_root_are_refused_and_reported(tree, path, kind, monkeypatch):
    opened: list[str] = []
    real_read = Path.read_bytes
    monkeypatch.setattr(
        Path, "read_bytes", lambda self: opened.append(str(self)) or real_read(self)
    )
    f, problem = attach_context(code_finding(path, 1), tree)
    assert f.context is None
    assert problem is not None and problem.kind == kind and problem.path == path
    assert not any("outside" in p for p in opened)


def test_absolute_paths_outside_are_refused_inside_are_relativised(tree, tmp_path):
    outside = str(tmp_path / "outside" / "secret.txt")
    f, problem = attach_context(code_finding(outside, 1), tree)
    assert problem.kind == "outside-root" and "absolute path" in problem.detail
    assert f.location.path == outside and f.context is None
    inside = str(tree.root / "app" / "views.py")
    f, problem = attach_context(code_finding(inside, 15), tree)
    assert problem is None
    assert f.location.path == "app/views.py" and f.context.enclosing == "def helper()"
    f, _ = attach_context(code_finding("file://" + inside, 15), tree)
    assert f.location.path == "app/views.py"


def test_symlink_staying_inside_the_root_is_followed(tree):
    f, problem = attach_context(code_finding("inner_link.py", 15), tree)
    assert problem is None and f.context.enclosing == "def helper()"


def test_line_beyond_end_of_file_is_a_problem(tree):
    _, problem = attach_context(code_finding("app/views.py", 99), tree)
    assert problem.kind == "line-out-of-range"


def test_binary_large_and_special_files(tree):
    (tree.real_root / "blob.bin").write_bytes(b"\x00\x01\x02" * 10)
    (tree.real_root / "big.js").write_text("x\n" * 200)
    os.mkfifo(tree.real_root / "pipe.py")
    small = SourceTree(tree.root, ContextOptions(max_file_bytes=100))
    assert attach_context(code_finding("blob.bin"), tree)[1].kind == "binary"
    assert attach_context(code_finding("big.js"), small)[1].kind == "too-large"
    assert attach_context(code_finding("pipe.py"), tree)[1].kind == "not-a-file"


def test_long_lines_are_cut_around_the_column_without_token_fragments(tree):
    token = "Q" * 50
    line = "a = 1; " * 100 + f"key='{token}'; " + "b = 2; " * 100
    (tree.real_root / "min.js").write_text(line + "\n")
    column = line.index("key=") + 1
    f, _ = attach_context(code_finding("min.js", 1, column), tree)
    [cut] = f.context.lines
    assert len(cut) <= 402 and cut.startswith("…") and cut.endswith("…") and token in cut
    f, _ = attach_context(code_finding("min.js", 1), tree)
    assert "Q" not in f.context.lines[0] and len(f.context.lines[0]) <= 401


def test_utf16_and_bom_files_are_decoded(tree):
    (tree.real_root / "w.py").write_bytes("\ufeffdef f():\n    x = 'é'\n".encode("utf-16"))
    f, problem = attach_context(code_finding("w.py", 2), tree)
    assert problem is None and f.context.lines[1] == "    x = 'é'"


def test_dependency_finding_gets_the_declaring_manifest_line(tree):
    f, problem = attach_context(dep_finding("image:latest", "requests", "pip"), tree)
    assert problem is None
    assert (f.context.path, f.context.start_line, f.context.lines) == (
        "requirements.txt", 3, ["requests[security]>=2.0"]
    )  # fmt: skip
    f, _ = attach_context(dep_finding(None, "pyyaml", "PyPI"), tree)
    assert (f.context.path, f.context.start_line) == ("pyproject.toml", 5)
    assert f.context.enclosing == "[tool.poetry.dependencies]"
    f, _ = attach_context(dep_finding("x", "minimist", purl="pkg:npm/minimist@1.2.0"), tree)
    assert (f.context.path, f.context.start_line, f.context.enclosing) == (
        "web/package.json", 7, "devDependencies"
    )  # fmt: skip


def test_dependency_manifest_location_is_searched_first_and_never_outside(tree):
    f, _ = attach_context(dep_finding("web/package.json", "lodash", "npm"), tree)
    assert (f.context.path, f.context.start_line) == ("web/package.json", 4)
    # "leftpad" is only declared in the manifest behind the escaping symlink.
    f, problem = attach_context(dep_finding("app/outdir/requirements.txt", "leftpad", "pypi"), tree)
    assert f.context is None and problem.kind == "outside-root"
    f, problem = attach_context(dep_finding("debian", "coreutils", "debian"), tree)
    assert f.context is None and problem is None


def test_web_findings_and_pathless_findings_are_left_alone(tree):
    f = code_finding(None, None, kind=FindingKind.WEB)
    assert attach_context(f, tree) == (f, None)
    f = code_finding(None, None)
    assert attach_context(f, tree) == (f, None)
