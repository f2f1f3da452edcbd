"""Property tests: damaged scanner reports never crash the ingester.

Byte flips, insertions and deletions, truncations, JSON-level mutations (a node replaced by a
value of another type, a key dropped) and re-encodings of valid reports either parse or give
one FindingsInputError naming the file; ingest then collects it as a per-file error and the
findings it did produce can be redacted and written. Derandomized, so CI runs are stable;
set VULNTUNE_FUZZ_EXAMPLES to run more examples.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vulntune.findings.formats import FindingsInputError
from vulntune.findings.ingest import ingest_paths, write_jsonl
from vulntune.findings.parse import parse_file
from vulntune.findings.record import fingerprint

from ..corpus_data import corpus_files, read_corpus_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Seeds by name: the canary reports, the native fixtures and the corpus's SARIF and JSON files
# (read from the repository, decompressed).
_SEED_BYTES = {
    **{
        f"fixtures/{p.relative_to(FIXTURES).as_posix()}": p.read_bytes()
        for p in [
            *sorted((FIXTURES / "ingest" / "canary" / "reports").iterdir()),
            *sorted((FIXTURES / "native").glob("*.json")),
        ]
    },
    **{f"corpus/{name}": read_corpus_file(name) for name in corpus_files(".sarif", ".json")},
}
# Small files only, so that a few hundred examples run in seconds.
SEED_BYTES = {name: data for name, data in _SEED_BYTES.items() if len(data) <= 120_000}
SEEDS = sorted(SEED_BYTES)

# VULNTUNE_FUZZ_EXAMPLES=5000 explores further (locally); CI uses the small default.
FUZZ = settings(
    max_examples=int(os.environ.get("VULNTUNE_FUZZ_EXAMPLES", "150")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check_file(data: bytes) -> None:
    """Parse and ingest ``data`` as a file: only FindingsInputError may come out of the
    parser, and ingest must turn it into a per-file error."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.json"
        path.write_bytes(data)
        try:
            findings = list(parse_file(path, "report.json"))
        except FindingsInputError as exc:
            assert exc.file == "report.json" and str(exc).startswith("report.json: ")
            findings = None
        report = ingest_paths([path])
        if findings is None:
            assert [e.file for e in report.errors] == [str(path)] and not report.findings
        else:
            assert report.errors == [] and len(report.findings) <= len(findings)
        for finding in report.findings:
            json.loads(finding.to_json())


seed_files = st.sampled_from(SEEDS)


@FUZZ
@given(seed_files, st.data())
def test_byte_mutations_never_crash(seed: str, data: st.DataObject):
    raw = bytearray(SEED_BYTES[seed])
    for _ in range(data.draw(st.integers(1, 6), label="mutations")):
        position = data.draw(st.integers(0, max(0, len(raw) - 1)), label="position")
        action = data.draw(st.sampled_from(["flip", "insert", "delete"]), label="action")
        if action == "flip" and raw:
            raw[position] = data.draw(st.integers(0, 255), label="byte")
        elif action == "insert":
            raw[position:position] = data.draw(st.binary(min_size=1, max_size=8), label="bytes")
        else:
            del raw[position : position + data.draw(st.integers(1, 64), label="length")]
    check_file(bytes(raw))


@FUZZ
@given(seed_files, st.floats(0.0, 1.0))
def test_truncations_never_crash(seed: str, fraction: float):
    raw = SEED_BYTES[seed]
    check_file(raw[: int(len(raw) * fraction)])


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["", "\ud800", "../../etc/passwd", "/abs/path", "file:///x", "CWE-79"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)  # fmt: skip


def _containers(node: Any, path: tuple = ()) -> list[tuple]:
    """Paths of every dict and list in a decoded JSON document."""
    found = [path] if isinstance(node, (dict, list)) else []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        found += _containers(child, (*path, key))
    return found  # fmt: skip


def _at(node: Any, path: tuple) -> Any:
    for key in path:
        node = node[key]
    return node


@FUZZ
@given(seed_files, st.data())
def test_json_level_mutations_never_crash(seed: str, data: st.DataObject):
    doc = json.loads(SEED_BYTES[seed].decode("utf-8-sig"))
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        containers = _containers(doc)
        if not containers:
            break
        target = _at(doc, data.draw(st.sampled_from(containers), label="container"))
        if not target:
            continue
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        key = data.draw(st.sampled_from(keys), label="key")
        if data.draw(st.booleans(), label="drop"):
            del target[key]
        else:
            target[key] = data.draw(json_values, label="value")
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]), label="encoding")
    text = json.dumps(doc, ensure_ascii=data.draw(st.booleans(), label="ascii"))
    check_file(text.encode(encoding, errors="surrogatepass"))


def test_lone_surrogate_in_a_rule_id_is_kept_and_written_as_its_escape(tmp_path):
    sarif = {
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x"}},
                  "results": [{"ruleId": "\ud800", "message": {"text": "m"}}]}],
    }  # fmt: skip
    data = json.dumps(sarif).encode("ascii")
    check_file(data)
    path = tmp_path / "report.sarif"
    path.write_bytes(data)
    (finding,) = parse_file(path)
    assert finding.rule_id == "\ud800" and finding.id == fingerprint("x", "\ud800")
    assert write_jsonl(ingest_paths([path]).findings, tmp_path / "findings.jsonl") == 1
    line = (tmp_path / "findings.jsonl").read_text(encoding="utf-8")
    assert '"rule_id":"\\ud800"' in line and json.loads(line)["rule_id"] == "\ud800"
