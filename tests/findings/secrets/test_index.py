"""What secret scanners report: which findings are secret findings, and their secret values."""

from __future__ import annotations

from vulntune.findings.record import FindingKind
from vulntune.findings.secrets.index import is_secret_finding, secret_values

from ..redaction_samples import finding


def test_is_secret_finding():
    assert is_secret_finding(finding(kind=FindingKind.SECRET))
    assert is_secret_finding(finding(tool="gitleaks"))
    assert is_secret_finding(finding(tags=["security", "secret"]))
    assert is_secret_finding(finding(rule_id="generic.secrets.security.detected-aws-key"))
    assert not is_secret_finding(finding(tags=["security"], rule_id="python.sqli"))


def test_secret_values_of_a_match():
    assert secret_values('api_key = "Zx81LmQ0"  # note') == ["Zx81LmQ0"]
    assert secret_values("AKIA****************") == ["AKIA****************"]
    assert secret_values("CorrectHorse\nk = 'Q9x!Lm2#Zp'") == ["CorrectHorse", "Q9x!Lm2#Zp"]
