"""Redaction replaces literal values, never code (issue 7, item 2): expressions, keywords,
variable names, interpolations, UI texts, versions and references stay; real literals go.

Every case of the first two tests was changed by the redaction before this test existed; the
lines are the issue's cases and the false positives found by
``benchmarks/redaction_false_positives.py`` on real repositories (pygoat, djangoproject.com,
node-express-realworld-example-app, juice-shop, terraform-aws-eks, WebGoat; see RESULTS.md),
except two interpolation cases (`{api_key}`, an f-string), which held before: guards."""

from __future__ import annotations

import pytest

from vulntune.findings.record import FindingKind, Location
from vulntune.findings.redact import SecretIndex, redact_finding
from vulntune.findings.secrets.patterns import marker, redact_text

from ..redaction_samples import finding


@pytest.mark.parametrize(
    "line",
    [
        # A keyword compared with, followed by the statement's colon.
        "if token == None:",
        "password=TRUE.",
        # SQL built by concatenation: the injection the finding is about must stay visible.
        'sql = "SELECT * FROM login WHERE user=\'"+name+"\' AND password=\'"+password+"\'"',
        "q = 'WHERE password=\"' . $password . '\"'",
        # A user-facing message under a key that ends in a secret word.
        '{"no_secret": "Only admin.localhost:8000 can access, Your X-Host is " + XHost}',
        # UI texts and their translations.
        '"TITLE_CHANGE_PASSWORD": "Change Password",',
        '"FORGOT_PASSWORD": "Forgot your password?",',
        '"LABEL_NEW_PASSWORD": "Yeni Şifrə",',
        '"LABEL_PASSWORD": "비밀 번호",',
        '"LABEL_PASSWORD": "Passwort",',
        '"LABEL_TWO_FACTOR_AUTH_TOKEN": "2FA Token",',
        # Interpolations and templates.
        'api_key: "{api_key}"',
        'headers = {"token": f"Bearer {token}"}',
        'password: "pre-${DB_PASSWORD}"',
        # A dependency version, a dotted reference, a type, variables.
        '"jsonwebtoken": "^9.0.2",',
        'PUSH_CREDENTIALS = "aggregator.utils.push_credentials"',
        "declare password: CreationOptional<string>",
        "process.env.ALCHEMY_API_KEY = originalApiKey",
        # Public random-looking values: SRI hashes, Stripe object ids, a base64 certificate.
        'integrity="sha384-9gVQ4dYFwwWSjIDZnLEWnxCjeSWFphJiwGPXr1jddIhOegiu1FwO5qRGvFXOdJZ4"',
        '"id": "evt_103MXP2kbIgHtIBFeIFqPxp7",',
        '"url": "/v1/invoices/in_103MXP2kbIgHtIBFmaa4U4Xq/lines",',
        'ca = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM1ekNDQWMrZ0F3SUJBZ0lCQURBTkJna3Fo"',
        # From WebGoat: code between two literals, HTML attributes, JavaScript idioms, data.
        'debug.append("Token: ").append(escape(token)).append("\\n");',
        'name="Check Dave\'s Password:" value="Check Password" type="SUBMIT"/>',
        '} else if (typeof rule.token == "function" && !rule.onMatch) {',
        "var rowTokens = this.$rowTokens;",
        "fetch(url, {credentials: 'same-origin'})",
        "\"<a class='btn' data-wysihtml5-command='bold' title='CTRL+B'>\"",
        'background: url("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAMAAAAoLQ9T")',
        "add constraint FK7o6abukma83ku3xrge9sy0qnr foreign key (assignment_id)",
        '"rO0ABXNyADFvcmcuZHVtbXkuaW5zZWN1cmUuZnJhbWV3b3JrLlZ1bG5lcmFibGVUYXNrSG9sZGVy"',
    ],
)
def test_code_and_text_are_not_redacted(line):
    assert redact_text(line) == line


PRIVATE_PEM_B64 = "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVBdk9k"


@pytest.mark.parametrize(
    ("template", "secret"),
    [
        ("SECRET_KEY = '{}'", "lr66%-a!$km5ed@n5ug!tya5bv!0(yqwa1tn!q%0%3m2nh%oml"),
        ('User.objects.create_user(username="u1", password="{}")', "hunter2!"),
        ("credentials = {{'username': 'a', 'password': '{}'}}", "p4ssw0rd"),
        ('password = "{}"', "correct horse battery staple"),
        ("elif username == 'admin' and password == '{}':", "admin_pass"),
        ("DB_PASSWORD={}", "hunter"),
        ("  db_password: {}", "s3cr3tValue9"),
        ('  "client_secret": "{}",', "abcd1234efgh"),
        ("password = {}", "Sup3rS3cret!"),
        ('PGPASSWORD="{}" createuser -U postgres', "postgres"),
        ('secret: "{}",', "s3Cur3"),
        ("[database]\npassword = {}", "Tr0ub4dor-3"),
    ],
)
def test_literal_secrets_are_still_redacted(template, secret):
    expected = template.format(marker("secret-assignment", len(secret)))
    assert redact_text(template.format(secret)) == expected


def test_a_base64_private_key_is_redacted_even_when_not_random_enough():
    line = f'ca = "{PRIVATE_PEM_B64}"'
    assert redact_text(line) == f'ca = "{marker("high-entropy", len(PRIVATE_PEM_B64))}"'


def test_a_masked_scanner_match_is_not_searched_for_in_other_findings():
    """Checkov reports a secret masked as ``"CK**********"``: two visible characters are no
    needle; before, every ``CK...`` of other findings was redacted."""
    index = SecretIndex()
    secret = finding(
        tool="checkov",
        rule_id="CKV_SECRET_6",
        kind=FindingKind.SECRET,
        snippet='  token = "CK**********"',
        location=Location(path="main.tf", start_line=3, end_line=3),
    )
    index.add(secret)
    other = finding(
        tool="checkov",
        rule_id="CKV2_AWS_6",
        snippet='resource "aws_s3_bucket" "b" {\n  #checkov:skip=CKV2_AWS_6:public site',
        location=Location(path="s3.tf", start_line=1, end_line=2),
    )
    assert redact_finding(other, index) == other
    own = redact_finding(secret, index)
    assert "CK**" not in str(own.to_dict())


def test_a_masked_match_with_a_distinctive_visible_part_is_still_searched_for():
    index = SecretIndex()
    index.add(
        finding(
            tool="trivy",
            rule_id="aws-access-key-id",
            kind=FindingKind.SECRET,
            snippet="AWS_ACCESS_KEY_ID=AKIA" + "*" * 16,
            location=Location(path=".env", start_line=1, end_line=1),
        )
    )
    real = "AKIA" + "Q2W3E4R5T6Y7U8I9"
    other = finding(message=f"key {real} is also in deploy.sh")
    assert real not in redact_finding(other, index).message
