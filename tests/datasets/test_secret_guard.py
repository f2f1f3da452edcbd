"""SecretGuard: secrets learnt from raw source lines are redacted everywhere afterwards."""

from __future__ import annotations

from vulntune.datasets.secret_guard import SecretGuard
from vulntune.findings.record import Finding, FindingKind, Location, Origin, Severity

KEY = "AKIAZ7QX3MPLT5WRNB4K"  # shaped like an AWS key id; not a credential


def _secret() -> Finding:
    return Finding(
        id="s1", tool="gitleaks", rule_id="aws-access-token", severity=Severity.HIGH,
        message="Secret committed", kind=FindingKind.SECRET,
        origin=Origin(file="g.json", format="gitleaks-json", index=0, revision="r1"),
        location=Location(path="settings.py", start_line=2, start_column=7, end_line=2),
    )  # fmt: skip


def test_learnt_values_are_redacted_in_other_files_and_texts() -> None:
    guard = SecretGuard()
    guard.learn(_secret(), ["import os", f'KEY = "{KEY}"'], "r1")
    assert guard.known_values == {KEY}
    (line,) = guard.redact("other.py", [f"copy = '{KEY}'"], 1, None)
    assert KEY not in line and "«redacted:" in line
    assert KEY not in guard.redact_text(f"Move {KEY} out")
    assert not guard.is_clean(f"x {KEY}") and guard.is_clean("«redacted:aws-access-token:16-31»")
    assert guard.still_present(f"K={KEY}", "s1") and not guard.still_present(f"K={KEY}", "other")


def test_other_findings_teach_nothing() -> None:
    guard = SecretGuard()
    code = Finding(
        id="c1", tool="bandit", rule_id="B105", severity=Severity.LOW, message="m",
        kind=FindingKind.CODE, origin=Origin(file="b.json", format="bandit-json", index=0),
        location=Location(path="a.py", start_line=1),
    )  # fmt: skip
    guard.learn(code, ['PASSWORD = "hunter2hunter2"'], None)
    assert guard.known_values == frozenset()
