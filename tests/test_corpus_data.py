"""The scanner corpus in tests/data/corpus is complete, and the fixture gives it back unchanged.

The corpus and parser tests draw their cases from it (counts, ids, fuzz seeds, the fast SARIF
path), so a file missing here must fail the suite, never shrink it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .corpus_data import CORPUS_DATA, MANIFEST, WEBAUTHN, corpus_files, corpus_manifest

TRIVY = f"{WEBAUTHN}/docker-security-scan-results-trivy-action"
ZAP_FULL = f"{WEBAUTHN}/zap-full-scan-webauthn-server"
ZAP_BASELINE = f"{WEBAUTHN}/zap-baseline-scan-webauthn-test-credentials-service"
# Every file the tests name, under its real name (the gitleaks report sits in a folder that is
# itself called results.sarif, as the CI artifact was).
EXPECTED_FILES = [
    f"{WEBAUTHN}/checkov-results-workflow_dispatch-392/checkov-results.sarif",
    f"{TRIVY}/docker-security-scan-results.sarif",
    f"{TRIVY}/test-credentials-comprehensive.sarif",
    f"{TRIVY}/webauthn-comprehensive.sarif",
    f"{WEBAUTHN}/gitleaks-results.sarif/work/mpo-api-authn-server/mpo-api-authn-server/results.sarif",
    f"{WEBAUTHN}/osv-scanner-results-workflow_dispatch-392/osv-results.json",
    f"{WEBAUTHN}/semgrep-results-workflow_dispatch-392/semgrep-results.json",
    f"{WEBAUTHN}/semgrep-results-workflow_dispatch-392/semgrep.sarif",
    f"{ZAP_BASELINE}/report_html.html",
    f"{ZAP_BASELINE}/report_json.json",
    f"{ZAP_BASELINE}/report_md.md",
    f"{ZAP_FULL}/report_html.html",
    f"{ZAP_FULL}/report_json.json",
    f"{ZAP_FULL}/report_md.md",
]


def test_the_manifest_lists_every_file_the_tests_name():
    assert list(corpus_manifest()) == EXPECTED_FILES
    assert corpus_files(".sarif") == sorted(n for n in EXPECTED_FILES if n.endswith(".sarif"))


def test_every_listed_file_is_stored_once_and_nothing_else_is():
    stored = sorted(
        p.relative_to(CORPUS_DATA).as_posix() for p in CORPUS_DATA.rglob("*") if p.is_file()
    )
    assert MANIFEST.relative_to(CORPUS_DATA).as_posix() in stored
    real_names = sorted(n.removesuffix(".gz") for n in stored if n != "SHA256SUMS")
    assert real_names == sorted(EXPECTED_FILES)  # each once: plain or .gz, never both


def test_the_fixture_writes_out_every_file_with_its_real_content(scanner_corpus: Path):
    written = sorted(
        p.relative_to(scanner_corpus).as_posix() for p in scanner_corpus.rglob("*") if p.is_file()
    )
    assert written == sorted(EXPECTED_FILES)
    for name, digest in corpus_manifest().items():
        assert hashlib.sha256((scanner_corpus / name).read_bytes()).hexdigest() == digest, name
