"""Reading scanner files: encodings from content, the incremental JSON walk, clear errors,
and the memory bound of a large SARIF file."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vulntune.findings.formats import FindingsInputError
from vulntune.findings.reader import JsonStream, detect_encoding, open_json_stream

DOC = {
    "version": "2.1.0",
    "runs": [
        {
            "results": [{"n": 1234567, "t": "Grüße ☃ 💎 \\u00e9", "f": -1.5e3}, {"n": 0}],
            "tool": {"driver": {"name": "Ünïcode", "v": [True, False, None]}},
        }
    ],
}


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xef\xbb\xbf{", ("utf-8", 3)),
        (b"\xff\xfe{\x00", ("utf-16-le", 2)),
        (b"\xfe\xff\x00{", ("utf-16-be", 2)),
        (b"\xff\xfe\x00\x00{\x00\x00\x00", ("utf-32-le", 4)),
        (b"\x00\x00\xfe\xff\x00\x00\x00{", ("utf-32-be", 4)),
        (b"{\x00\x00\x00", ("utf-32-le", 0)),
        (b"\x00\x00\x00{", ("utf-32-be", 0)),
        (b"{\x00", ("utf-16-le", 0)),
        (b"\x00{", ("utf-16-be", 0)),
        (b'{"a', ("utf-8", 0)),
        (b"<", ("utf-8", 0)),
    ],
)
def test_encoding_is_detected_from_the_first_bytes(head, expected):
    assert detect_encoding(head) == expected


def _walk(stream: JsonStream) -> dict:
    """Rebuild DOC through the incremental API (objects and arrays walked, leaves read)."""
    top: dict = {}
    for key in stream.iter_object():
        if key == "runs":
            runs = []
            for _ in stream.iter_array():
                run = {}
                for run_key in stream.iter_object():
                    if run_key == "results":
                        run[run_key] = [stream.read_value() for _ in stream.iter_array()]
                    else:
                        run[run_key] = stream.read_value()
                runs.append(run)
            top[key] = runs
        else:
            top[key] = stream.read_value()
    stream.expect_end()
    return top


@pytest.mark.parametrize("codec", ["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 16])
def test_the_walk_gives_what_json_loads_gives_for_any_window_size(codec, chunk):
    # Tiny windows split multi-byte characters, escapes and numbers across reads.
    data = json.dumps(DOC, ensure_ascii=False, indent=1).encode(codec)
    stream = JsonStream(io.BytesIO(data), "doc.json", codec, 0, chunk_chars=chunk)
    assert _walk(stream) == DOC


def test_tell_and_seek_come_back_to_the_same_value_after_non_ascii_text():
    data = json.dumps({"a": "ééé💎", "b": [1, {"c": "✓"}], "d": 42}, ensure_ascii=False)
    for chunk in (2, 5, 1 << 16):
        stream = JsonStream(io.BytesIO(data.encode("utf-8")), "x", "utf-8", 0, chunk_chars=chunk)
        keys = stream.iter_object()
        assert next(keys) == "a"
        stream.skip_value()
        assert next(keys) == "b"
        offset = stream.tell()
        assert data.encode("utf-8")[offset : offset + 1] == b"["
        stream.skip_value()
        assert next(keys) == "d"
        assert stream.read_value() == 42
        stream.seek(offset)
        assert stream.read_value() == [1, {"c": "✓"}]


def _error(tmp_path: Path, data: bytes, chunk: int = 1 << 20) -> str:
    path = tmp_path / "report.sarif"
    path.write_bytes(data)
    with pytest.raises(FindingsInputError) as info:
        fileobj, stream = open_json_stream(path, "report.sarif", chunk_chars=chunk)
        with fileobj:
            _walk(stream)
    assert info.value.file == "report.sarif"
    return info.value.problem


def test_errors_name_the_problem_and_where_it_is(tmp_path):
    assert _error(tmp_path, b"") == "empty file"
    assert _error(tmp_path, b" \n\t ") == "empty file (only whitespace)"
    assert _error(tmp_path, b'{"version": "2.1.0", "runs": [{"results": [{"a": 1}') == (
        "invalid JSON at byte 51: expected ',' or ']', found end of file"
    )
    assert _error(tmp_path, b'{"version": "2.1.0", "runs": [{"results": [{"a": "unterminated') == (
        "JSON ends early at byte 49 (truncated file?): Unterminated string starting at"
    )
    assert _error(
        tmp_path, b'{"version": "2.1.0", "runs": [{"results": [{"a": 1,, "b": 2}]}]}'
    ) == ("invalid JSON at byte 51: Expecting property name enclosed in double quotes")
    assert _error(tmp_path, b'{"version": "2.1.0", "runs": []} trailing') == (
        "unexpected data after the JSON document at byte 33"
    )
    assert _error(tmp_path, b'{"version": "\xff\xfe broken"}', chunk=4).startswith(
        "not valid UTF-8 text near byte 13"
    )
    deep = b'{"version": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert _error(tmp_path, deep).startswith("JSON nested too deeply")


def test_a_large_sarif_is_streamed_within_three_times_its_size(tmp_path, sarif_generator):
    # Above the whole-file threshold, so the windowed path is what is measured; the tool and
    # URI bases come after the results, so the file is walked twice.
    path = tmp_path / "large.sarif"
    count = sarif_generator(path, min_bytes=12_000_000, tool_last=True)
    script = textwrap.dedent(
        f"""
        import tracemalloc
        from pathlib import Path
        from vulntune.findings.parse import parse_file
        tracemalloc.start()
        ids = set()
        n = 0
        for finding in parse_file(Path({str(path)!r})):
            n += 1
            ids.add(finding.id)
            last = finding
        print(n, len(ids), tracemalloc.get_traced_memory()[1], last.location.path)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300
    ).stdout.split()
    size = path.stat().st_size
    assert int(out[0]) == count
    assert int(out[1]) == count  # the generator's shared starts got distinct ids by their end
    assert int(out[2]) < 3 * size, f"peak {int(out[2]) / size:.2f}x the file size"
    assert out[3].startswith("src/module_")  # URI base resolved and CI prefix stripped
