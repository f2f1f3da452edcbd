"""report.html: self-contained, escaped, and rendered by headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from vulntune.evaluation.evaluate import evaluate_run
from vulntune.evaluation.report import line_chart, render_report

from .conftest import short_generator

HOSTILE = "<script>alert('x')</script><img src=http://example.invalid/x.png>"


@pytest.fixture(scope="module")
def report(trained_run) -> Path:
    """The report of the trained run, after one final prediction was made hostile."""
    result = evaluate_run(trained_run, short_generator, say=lambda _m: None)
    predictions = trained_run.evaluation.predictions["final"]
    records = [json.loads(line) for line in predictions.read_text().splitlines()]
    records[0]["prediction"] = HOSTILE + "\n" + records[0]["prediction"]
    predictions.write_text("".join(json.dumps(r) + "\n" for r in records))
    trained_run.evaluation.report.write_text(render_report(trained_run, result.results))
    return trained_run.evaluation.report


def test_the_report_is_self_contained_and_escapes_predictions(report, trained_run):
    html = report.read_text()
    assert "<script" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert not re.search(r"<[^>]*\b(src|href)\s*=", html)  # no tag loads anything
    assert html.count("<svg") == 2  # both stages' loss curves
    assert trained_run.manifest.base_model.content_hash in html
    expected = ["Stage 1 loss", "Stage 2 loss", "keyword baseline", "majority baseline"]
    expected += ["Retention (final / Stage 1)", "unstructured: CWE exact", "reference"]
    for text in expected:
        assert text in html, text


def test_a_chart_without_points_says_so():
    assert "no records" in line_chart("empty", {})
    svg = line_chart("one", {"training": [(1.0, 2.0), (2.0, float("nan"))]})
    assert svg.count("<circle") == 1


def _png_pixels_vary(png: bytes) -> bool:
    """True when the PNG's pixel data holds many different byte values (not a blank page)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    at, data = 8, b""
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        if kind == b"IDAT":
            data += png[at + 8 : at + 8 + length]
        at += 12 + length
    return len(set(zlib.decompress(data))) > 20


def test_headless_chromium_renders_the_report(report, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip(
            "headless rendering needs Debian's `chromium` package (apt-get install chromium)"
        )
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}"]  # fmt: skip
    url = report.resolve().as_uri()
    shot = tmp_path / "report.png"
    subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1200,1600", url],
                   capture_output=True, timeout=120, check=True)  # fmt: skip
    assert _png_pixels_vary(shot.read_bytes())
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True,
                         timeout=120, check=True).stdout  # fmt: skip
    assert "Stage 1 loss" in dom and "keyword baseline" in dom and "Example predictions" in dom
    assert "<script>alert" not in dom
