"""Paths as scanners write them -> clean POSIX paths: CI prefixes, separators, URIs, bases."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vulntune.findings import paths
from vulntune.findings.paths import normalize_path, strip_ci_prefix, uri_to_path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/home/runner/work/shop/shop/app/main.py", "app/main.py"),
        ("/Users/runner/work/shop/shop/app/main.py", "app/main.py"),
        ("/home/ci/actions-runner/_work/shop/shop/app/main.py", "app/main.py"),
        ("D:/a/shop/shop/src/App.cs", "src/App.cs"),
        ("D:/a/1/s/src/App.cs", "src/App.cs"),
        ("/__w/shop/shop/app/main.py", "app/main.py"),
        ("/__w/1/s/app/main.py", "app/main.py"),
        ("/github/workspace/app/main.py", "app/main.py"),
        ("/home/vsts/work/1/s/app/main.py", "app/main.py"),
        ("/builds/acme/shop/app/main.py", "app/main.py"),
        ("/var/jenkins_home/workspace/shop-ci/app/main.py", "app/main.py"),
        ("/var/lib/jenkins/workspace/shop-ci/app/main.py", "app/main.py"),
        ("/home/jenkins/agent/workspace/shop-ci/app/main.py", "app/main.py"),
        ("C:/Jenkins/workspace/shop-ci/app/main.py", "app/main.py"),
        ("/home/circleci/project/app/main.py", "app/main.py"),
        ("/opt/atlassian/pipelines/agent/build/app/main.py", "app/main.py"),
        ("/opt/shop/app/main.py", "/opt/shop/app/main.py"),
        ("app/main.py", "app/main.py"),
    ],
)
def test_ci_checkout_prefixes_are_stripped(path, expected):
    assert strip_ci_prefix(path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("src\\app\\main.py", "src/app/main.py"),
        ("./src/./app//main.py", "src/app/main.py"),
        ("src/app/../lib/x.py", "src/lib/x.py"),
        ("../outside/x.py", "../outside/x.py"),
        ("c:\\Users\\dev\\x.py", "C:/Users/dev/x.py"),
        ("D:\\a\\shop\\shop\\src\\x.py", "src/x.py"),
        ("/github/workspace/src/x.py", "src/x.py"),
        ("/etc/passwd", "/etc/passwd"),
        ("src/100%25.py", "src/100%25.py"),  # a plain path is not percent-decoded
        ("  ", None),
        (None, None),
    ],
)
def test_normalize_path(path, expected):
    assert normalize_path(path) == expected


def test_uri_to_path_decodes_file_uris_and_resolves_bases():
    bases = {
        "%SRCROOT%": {"uri": "file:///home/runner/work/shop/shop/"},
        "SUB": {"uri": "services/api/", "uriBaseId": "%SRCROOT%"},
        "ROOTPATH": {"uri": "file:///"},
        "PLAIN": "file:///srv/code/",
        "LOOP": {"uri": "x/", "uriBaseId": "LOOP"},
    }
    assert uri_to_path("src/a%20b.py", "%SRCROOT%", bases) == "src/a b.py"
    assert uri_to_path("handler.py", "SUB", bases) == "services/api/handler.py"
    # A base at the file system root says nothing: Trivy image names stay as written.
    assert uri_to_path("library/alpine", "ROOTPATH", bases) == "library/alpine"
    assert uri_to_path("x.py", "PLAIN", bases) == "/srv/code/x.py"
    assert uri_to_path("x.py", "UNKNOWN", bases) == "x.py"
    assert uri_to_path("x.py", "LOOP", bases).endswith("x.py")
    assert uri_to_path("file:///C:/Users/dev/x.py") == "C:/Users/dev/x.py"
    assert uri_to_path("file://C:/Users/dev/x.py") == "C:/Users/dev/x.py"
    assert uri_to_path("file://localhost/github/workspace/x.py") == "x.py"
    assert uri_to_path("file://fileserver/share/x.py") == "//fileserver/share/x.py"
    assert uri_to_path("file:///home/runner/work/caf%C3%A9/caf%C3%A9/caf%C3%A9.py") == "café.py"
    assert uri_to_path("https://example.com/a%20b") == "https://example.com/a b"
    assert (
        uri_to_path("/absolute/base/ignored.py", "%SRCROOT%", bases) == "/absolute/base/ignored.py"
    )
    assert uri_to_path("") is None
    assert uri_to_path(None) is None


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(
    st.text(string.ascii_letters + string.digits + "_-./%\\: é", max_size=24),
    st.sampled_from([None, "SRC", "OTHER"]),
    st.sampled_from([None, {}, {"SRC": {"uri": "file:///work/"}}, {"SRC": "file:///"}]),
)
def test_the_clean_path_shortcut_answers_as_the_steps_do(uri, base_id, bases):
    assert paths.uri_to_path(uri, base_id, bases) == paths._uri_to_path(uri, base_id, bases)
