"""Ingest throughput as users run it: `vulntune ingest -o` vs sarif-tools' `sarif summary`.

Generates a realistic large SARIF file (several runs: a Semgrep-like SAST run with snippets,
a CodeQL-like run with code flows and related locations, a Trivy-like dependency run with long
rule help; a deterministic seed) in a temporary folder that is deleted afterwards, then
measures, each in a fresh subprocess, the median wall and CPU (user + system) time over N runs
(the commands taking turns, so that the load of a shared machine hits them alike) and the
peak RSS of:

- ``vulntune ingest FILE... -o findings.jsonl``: the user's command, a fresh ``python -m
  vulntune`` process (imports, parse, redact, de-duplicate, the summary table, the findings
  file written), and with ``--baseline-src DIR`` the same command of another vulntune tree
  (``git archive main src | tar -x -C DIR``) side by side;
- vulntune's ``ingest_paths`` alone in a process (parse + redact + de-duplicate, no file);
- ``sarif summary FILE`` from sarif-tools (install the ``bench`` extra)

on the large file and on the SARIF files of the corpus (one process for all of them, as a
user would run each tool). Prints a table; ``--results benchmarks/RESULTS.md`` also writes
the markdown section into that file, between this benchmark's markers only.

    .venv/bin/python benchmarks/ingest_throughput.py --runs 3 --results benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The scanner corpus the tests use: real CI output, large files gzip-compressed.
CORPUS_DATA = REPO / "tests" / "data" / "corpus"
START, END = "<!-- ingest_throughput:start -->", "<!-- ingest_throughput:end -->"
OURS, THEIRS = "vulntune ingest -o (the user's command)", "sarif summary (sarif-tools)"
INGEST_ONLY = "vulntune ingest_paths only (parse+redact+dedupe, no file)"
BASELINE = "vulntune ingest -o, baseline tree"

# --------------------------------------------------------------------------------------------
# A large, realistic SARIF file
# --------------------------------------------------------------------------------------------

_WORDS = (
    "user input request query parameter value buffer session token cookie header path file "
    "stream socket response template render escape sanitize validate encode decode parse load "
    "config secret password key cipher hash random nonce salt iterate index offset length size"
).split()
_LANGS = [("py", "def {f}({a}):"), ("java", "public void {f}(String {a}) {{"),
          ("js", "function {f}({a}) {{"), ("go", "func {f}({a} string) {{")]  # fmt: skip


_KEY_CHARS = "abcdefghijkmnpqrstuvwxyzABCDEFGH0123456789"


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n)).capitalize() + "."


def _code_line(rng: random.Random) -> str:
    a, b, c = (rng.choice(_WORDS) for _ in range(3))
    forms = [f"{a}_{b} = {c}({a}, {b})", f"if {a} is not None and {b}:", f"return {a}.{b}({c})",
             f'log.info("{a} %s", {b}_{c})', f"{a}[{b}] = {c}.get('{a}', None)"]  # fmt: skip
    line = "    " * rng.randint(1, 3) + rng.choice(forms)
    if rng.random() < 0.01:  # a few snippets hold credentials, as real code does
        line += f'  # api_key = "{"".join(rng.choices(_KEY_CHARS, k=32))}"'
    return line


def _snippet(rng: random.Random, lines: int) -> str:
    return "\n".join(_code_line(rng) for _ in range(lines))


def _cwe_link(cwe: int) -> str:
    return f"[CWE-{cwe}](https://cwe.mitre.org/data/definitions/{cwe}.html)"


def _rule(rng: random.Random, tool: str, index: int, help_words: int) -> dict:
    cwe = rng.randint(20, 1300)
    help_md = "\n\n".join(_sentence(rng, 20) for _ in range(help_words // 20))
    # Tools word a result from its rule's template and the code involved (Semgrep's message,
    # CodeQL's "... depends on a [user-provided value](1)"); a few variants per rule.
    message = _sentence(rng, rng.randint(15, 40))
    return {
        "messageStrings": {"default": {"text": message}},
        "id": f"{tool}.security.rule-{index:04d}",
        "name": f"Rule{index:04d}",
        "shortDescription": {"text": _sentence(rng, 8)},
        "fullDescription": {"text": _sentence(rng, 30)},
        "help": {"text": help_md, "markdown": f"## Details\n\n{help_md}\n\n{_cwe_link(cwe)}"},
        "helpUri": f"https://example.test/rules/{tool}/{index}",
        "defaultConfiguration": {"level": rng.choice(["error", "warning", "note"])},
        "properties": {"tags": ["security", f"CWE-{cwe}", "OWASP-A03"], "precision": "high",
                       "security-severity": f"{rng.uniform(1, 10):.1f}"},
    }  # fmt: skip


def _message(rng: random.Random, rule: dict) -> str:
    variable = f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}"  # 44 x 44 = 1936 variables
    return f"{rule['messageStrings']['default']['text']} (`{variable}`)"


def _location(rng: random.Random, snippet_lines: int, message: bool = False) -> dict:
    ext, _ = rng.choice(_LANGS)
    start = rng.randint(1, 2000)
    loc: dict = {
        "physicalLocation": {
            "artifactLocation": {"uri": f"src/{rng.choice(_WORDS)}/{rng.choice(_WORDS)}_{rng.randint(1, 400)}.{ext}", "uriBaseId": "%SRCROOT%"},  # noqa: E501
            "region": {"startLine": start, "startColumn": rng.randint(1, 40), "endLine": start + snippet_lines, "endColumn": rng.randint(1, 80)},  # noqa: E501
        }
    }  # fmt: skip
    if snippet_lines:
        loc["physicalLocation"]["region"]["snippet"] = {"text": _snippet(rng, snippet_lines)}
    if message:  # code-flow steps name the expression: a small vocabulary
        loc["message"] = {"text": f"{rng.choice(_WORDS)}({rng.choice(_WORDS)})"}
    return loc


def _result(rng: random.Random, rules: list[dict], index: int, flows: bool) -> dict:
    rule_index = rng.randrange(len(rules))
    result: dict = {
        "ruleId": rules[rule_index]["id"],
        "ruleIndex": rule_index,
        "level": rng.choice(["error", "warning", "note"]),
        "message": {"text": _message(rng, rules[rule_index])},
        "locations": [_location(rng, rng.randint(2, 8))],
        "partialFingerprints": {"primaryLocationLineHash": f"{rng.getrandbits(64):016x}:1"},
        "properties": {"index": index},
    }
    if flows:
        steps = [{"location": _location(rng, 1, message=True)} for _ in range(rng.randint(3, 9))]
        result["codeFlows"] = [{"threadFlows": [{"locations": steps}]}]
        result["relatedLocations"] = [_location(rng, 0, message=True) | {"id": 1}]
    return result


_HEADER = '{"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", '


def write_large_sarif(path: Path, target_mb: float, seed: int = 1234) -> int:
    """Write a SARIF file of at least ``target_mb`` MB; returns the number of results."""
    rng = random.Random(seed)
    specs = [("semgrep", "Semgrep OSS", 400, 300, False), ("codeql", "CodeQL", 250, 500, True),
             ("trivy", "Trivy", 600, 900, False)]  # fmt: skip
    results = 0
    with open(path, "w", encoding="utf-8") as out:
        written = out.write(_HEADER + '"runs": [')
        for run_index, (tool, full_name, n_rules, help_words, flows) in enumerate(specs):
            rules = [_rule(rng, tool, i, help_words) for i in range(n_rules)]
            driver = {"name": full_name, "version": "1.0.0", "rules": rules}
            written += out.write(("," if run_index else "") + '{"tool": {"driver": ')
            written += out.write(json.dumps(driver) + '}, "results": [')
            run_results = 0
            # Each run fills its share of the target size, and has 100 results at least.
            while run_results < 100 or written < (run_index + 1) * target_mb * 1e6 / len(specs):
                text = json.dumps(_result(rng, rules, results, flows))
                written += out.write(("," if run_results else "") + text)
                run_results, results = run_results + 1, results + 1
            written += out.write("]}")
        out.write("]}")
    return results


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------

_VULNTUNE_CHILD = """
import sys, time, json
from pathlib import Path
from vulntune.findings.ingest import ingest_paths, write_jsonl
t = time.perf_counter()
report = ingest_paths([Path(p) for p in sys.argv[2:]])
if sys.argv[1] != "-":
    write_jsonl(report.findings, Path(sys.argv[1]))
assert not report.errors, report.errors
print(json.dumps({"findings": len(report.findings), "seconds": time.perf_counter() - t}))
"""


@dataclass
class Measure:
    name: str
    input: str
    mb: float
    wall_s: float  # median
    walls: list[float]
    peak_rss_mb: float  # max over the runs
    cpu_s: float  # median user + system time: what a shared machine's other jobs do not change
    inner_s: float | None = None  # vulntune's own time, imports and startup excluded
    findings: int | None = None
    output_mb: float | None = None  # the findings file written

    @property
    def mb_per_s(self) -> float:
        return self.mb / self.wall_s


def _run_child_rusage(cmd: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, peak RSS (MB), CPU seconds (user + system) and stdout of one fresh child
    process (os.wait4)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            failure = f"{' '.join(cmd[:4])} failed ({proc.returncode}): {err.read()[-2000:]}"
            raise RuntimeError(failure)
        return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, out.read()


def measure(
    label: str, files: list[Path], commands: dict[str, list[str]], runs: int
) -> list[Measure]:
    """Run every command ``runs`` times, taking turns (run 1 of each, then run 2 of each, ...),
    so that a change in the machine's load hits all of them alike."""
    samples: dict[str, list[tuple[float, float, float, str]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            samples[name].append(_run_child_rusage(cmd))
    mb = sum(f.stat().st_size for f in files) / 1e6
    measures = []
    for name, runs_of in samples.items():
        walls = [wall for wall, _, _, _ in runs_of]
        inner = [json.loads(out)["seconds"] for _, _, _, out in runs_of if out.startswith("{")]
        found = [json.loads(out)["findings"] for _, _, _, out in runs_of if out.startswith("{")]
        measures.append(Measure(name, label, mb, statistics.median(walls), walls,
                                max(peak for _, peak, _, _ in runs_of),
                                statistics.median(cpu for _, _, cpu, _ in runs_of),
                                statistics.median(inner) if inner else None,
                                found[-1] if found else None))  # fmt: skip
    return measures


def run_suite(
    label: str, files: list[Path], runs: int, workdir: Path, baseline: Path | None = None
) -> list[Measure]:
    python = sys.executable
    sarif = shutil.which("sarif", path=str(Path(python).parent)) or shutil.which("sarif")
    if sarif is None:
        raise SystemExit("sarif-tools is not installed: pip install 'sarif-tools>=3' (bench extra)")
    _compile_bytecode(python, baseline)
    paths = [str(f) for f in files]
    out = str(workdir / "findings.jsonl")
    commands = {
        OURS: [python, "-m", "vulntune", "ingest", *paths, "-o", out],
        INGEST_ONLY: [python, "-c", _VULNTUNE_CHILD, "-", *paths],
        THEIRS: [sarif, "summary", "--output", str(workdir / "summary.txt"), *paths],
    }
    if baseline is not None:  # another tree's command, imports from there (env set below)
        commands[BASELINE] = ["env", f"PYTHONPATH={baseline}", *commands[OURS]]
        commands[BASELINE][-1] = str(workdir / "baseline.jsonl")
    measures = measure(label, files, commands, runs)
    sizes = {OURS: Path(out).stat().st_size / 1e6}
    if baseline is not None:
        sizes[BASELINE] = (workdir / "baseline.jsonl").stat().st_size / 1e6
    for m in measures:
        m.output_mb = sizes.get(m.name)
    return measures


def _compile_bytecode(python: str, baseline: Path | None) -> None:
    """Byte-compile the measured vulntune trees first, as installing a package does: where
    PYTHONDONTWRITEBYTECODE is set (this machine sets it) a source tree would otherwise be
    compiled again in every run, a cost users of an installed vulntune never pay (the
    installed sarif-tools has its bytecode)."""
    find = "import pathlib, vulntune; print(pathlib.Path(vulntune.__file__).parent)"
    ours = subprocess.run([python, "-c", find], check=True, capture_output=True, text=True)
    packages = [Path(ours.stdout.strip())]
    if baseline is not None:
        packages.append(baseline / "vulntune")
    for package in packages:
        subprocess.run([python, "-m", "compileall", "-q", str(package)], check=True)


def markdown(measures: list[Measure], large: Path, results: int, runs: dict[str, int]) -> str:
    lines = [
        START,
        "## Ingest throughput as users run it (`benchmarks/ingest_throughput.py`)",
        "",
        f"Machine: {_cpu_model()}, {os.cpu_count()} CPUs, AVX2 only, fp32 (no native bf16); "
        f"load average {os.getloadavg()[0]:.1f} at the end (other jobs shared the cores, so "
        "compare the tools side by side, not with other sessions). The AVX512-BF16 CPU kind "
        "was not available to measure in this session. "
        f"Python {platform.python_version()}. Large file: generated SARIF, "
        f"{large.stat().st_size / 1e6:.1f} MB, {results} results in 3 runs "
        "(Semgrep-like with snippets, CodeQL-like with code flows, Trivy-like with long help; "
        "messages from per-rule templates with a variable name, every snippet unique). "
        "Wall and CPU (user + system) times are medians of fresh processes (startup "
        "included), the commands taking turns run by run; peak RSS is the max. The vulntune "
        "trees are byte-compiled first, as an installed package is.",
        "",
        "| input | command | median wall (s) | median CPU (s) | MB/s | peak RSS (MB) "
        "| output (MB) | in-process (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for m in measures:
        inner = f"{m.inner_s:.2f}" if m.inner_s is not None else "-"
        output = f"{m.output_mb:.1f}" if m.output_mb is not None else "-"
        lines.append(
            f"| {m.input} ({m.mb:.1f} MB, {runs[m.input]} runs) | {m.name} | {m.wall_s:.2f} "
            f"| {m.cpu_s:.2f} | {m.mb_per_s:.1f} | {m.peak_rss_mb:.0f} | {output} | {inner} |"
        )
    lines.append("")
    for label in dict.fromkeys(m.input for m in measures):
        group = {m.name: m for m in measures if m.input == label}
        ours, theirs = group[OURS], group[THEIRS]
        line = (f"- {label}: `vulntune ingest -o` is {theirs.wall_s / ours.wall_s:.2f}x faster "
                f"than `sarif summary` (wall; {theirs.cpu_s / ours.cpu_s:.2f}x in CPU time); "
                f"peak RSS {ours.peak_rss_mb:.0f} MB vs {theirs.peak_rss_mb:.0f} MB")  # fmt: skip
        if BASELINE in group:
            base = group[BASELINE]
            line += (f"; the baseline tree's command: {theirs.wall_s / base.wall_s:.2f}x "
                     f"(wall; {theirs.cpu_s / base.cpu_s:.2f}x CPU), writing "
                     f"{base.output_mb:.1f} MB instead of {ours.output_mb:.1f} MB")  # fmt: skip
        lines.append(line + ".")
    large_ours = next(m for m in measures if m.input == "large SARIF" and m.name == OURS)
    large_theirs = next(m for m in measures if m.input == "large SARIF" and m.name == THEIRS)
    ratio = large_theirs.wall_s / large_ours.wall_s
    memory = large_ours.peak_rss_mb / (large.stat().st_size / 2**20)
    lines += [
        "",
        f"Targets on the large file, the user's command with its file written: >= 3x faster "
        f"than `sarif summary`: {ratio:.2f}x ({'met' if ratio >= 3 else 'NOT met'}); peak "
        f"RSS <= 3x the input: {memory:.1f}x ({'met' if memory <= 3 else 'NOT met'}). "
        "`sarif summary` decodes the file with `json.load` and counts results; vulntune "
        "builds a normalised, redacted Finding per result (path resolution, stable ids, "
        "severity rules, a secret scan of every message, snippet and code-flow step) and "
        "writes them.",
    ]
    lines += ["", f"Command: `{' '.join(['.venv/bin/python', *sys.argv])}`", END]
    return "\n".join(lines) + "\n"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def write_corpus_sarif(folder: Path) -> list[Path]:
    """The corpus's SARIF files written out decompressed, under their real names, below
    ``folder``; sorted. Fails when the repository holds none."""
    written = []
    for stored in CORPUS_DATA.rglob("*"):
        name = stored.relative_to(CORPUS_DATA).as_posix().removesuffix(".gz")
        if not stored.is_file() or not name.endswith(".sarif"):
            continue
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        opener = gzip.open if stored.suffix == ".gz" else open
        with opener(stored, "rb") as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out)
        written.append(target)
    if not written:
        raise SystemExit(f"no SARIF files under {CORPUS_DATA}")
    return sorted(written)


def write_results(section: str, path: Path) -> None:
    """Replace this benchmark's section of ``path`` (between its markers), or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section.rstrip("\n") + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=55.0, help="size of the generated SARIF")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (large file)")
    parser.add_argument("--corpus-runs", type=int, default=5, help="runs per corpus measurement")
    parser.add_argument("--results", type=Path, help="write the markdown section into this file")
    parser.add_argument(
        "--baseline-src", type=Path, help="another tree's src/ to run side by side (e.g. main)"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="vulntune-bench-"))
    try:
        large = workdir / "large.sarif"
        results = write_large_sarif(large, args.size_mb)
        print(f"generated {large.stat().st_size / 1e6:.1f} MB, {results} results", file=sys.stderr)
        measures = run_suite("large SARIF", [large], args.runs, workdir, args.baseline_src)
        corpus = write_corpus_sarif(workdir / "corpus")
        runs = {"large SARIF": args.runs}
        label = f"corpus SARIF x{len(corpus)}"
        measures += run_suite(label, corpus, args.corpus_runs, workdir, args.baseline_src)
        runs[f"corpus SARIF x{len(corpus)}"] = args.corpus_runs
        section = markdown(measures, large, results, runs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(section)
    if args.results:
        write_results(section, args.results)


if __name__ == "__main__":
    main()
