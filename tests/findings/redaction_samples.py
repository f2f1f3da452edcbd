"""Secrets for the redaction tests, and a finding to put them in. The tokens are assembled at
run time so that secret scanners on this repository stay quiet."""

from __future__ import annotations

from vulntune.findings.record import Finding, FindingKind, Origin, Severity

GITHUB = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
AWS_KEY_ID = "AKIA" + "Z7QW3RTY5UIO9PAS"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
GOOGLE = "AIza" + "SyA1234567890abcdefghijklmnopqrstuv"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2\n"
    "-----END RSA PRIVATE KEY-----"
)


def finding(**overrides) -> Finding:
    base = dict(
        id="f1",
        tool="semgrep",
        rule_id="python.sql-injection",
        severity=Severity.HIGH,
        message="SQL built from user input",
        kind=FindingKind.CODE,
        origin=Origin(file="r.sarif", format="sarif", index=0),
    )
    base.update(overrides)
    return Finding(**base)
