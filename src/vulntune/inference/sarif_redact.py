"""Secrets out of the original SARIF written back by `analyze`.

`analyze` keeps every original run and result, but the scanners' own texts hold the secrets
that ingest redacted from the findings: a gitleaks snippet *is* the secret, Trivy repeats the
match in its message and rule text, a command line in ``invocations`` may carry a token. So
before a run is written:

- every string in the run has the secret values that the ingest's secret findings reported
  replaced by markers (:class:`~vulntune.findings.redact.SecretIndex`); keys and the structure
  are untouched, so fingerprints, rule ids and locations stay as they were;
- a secret finding's result has its snippets replaced whole by a marker, and its own weaker
  values and asterisk-masked values replaced in its texts, as ingest does for the finding;
- free texts (``text`` and ``markdown`` of results, ``invocations``, repository URIs) also
  go through the generic detectors (known token formats, ``user:password@`` URLs, values of
  secret-named keys, random-looking tokens).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vulntune.findings.redact import SecretIndex, marker, redact_text

_FREE_TEXT_KEYS = frozenset({"text", "markdown"})


def redact_result(
    result: dict[str, Any], own: SecretIndex | None = None, rule_id: str | None = None
) -> None:
    """Redact one result in place: free texts by the generic detectors, and for a secret
    finding (``own``: its own values, weak ones included) its snippets whole and its own
    values wherever they are."""
    if own is not None:
        _replace_snippets(result, rule_id or "secret")
        _map_strings(result, lambda value: own.known(value, masked=True).text)
    _map_free_text(result, redact_text)


def redact_run(run: dict[str, Any], secrets: SecretIndex) -> None:
    """Redact a whole run in place: the reported secret values in every string, and the
    generic detectors on invocations and repository URIs."""
    if secrets:
        _map_strings(run, lambda value: secrets.known(value).text)
    for key in ("invocations", "versionControlProvenance"):
        if key in run:
            run[key] = _map_strings(run[key], redact_text)


def _replace_snippets(value: Any, rule: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "snippet" and isinstance(item, dict) and isinstance(item.get("text"), str):
                text = item["text"]
                if text.strip():
                    item["text"] = marker(rule, len(text))
            else:
                _replace_snippets(item, rule)
    elif isinstance(value, list):
        for item in value:
            _replace_snippets(item, rule)


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """``value`` with ``change`` applied to every string in it (dicts and lists in place)."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = _map_strings(item, change)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            value[position] = _map_strings(item, change)
    return value


def _map_free_text(value: Any, change: Callable[[str], str]) -> None:
    """Apply ``change`` to the ``text``/``markdown`` strings anywhere in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _FREE_TEXT_KEYS and isinstance(item, str):
                value[key] = change(item)
            else:
                _map_free_text(item, change)
    elif isinstance(value, list):
        for item in value:
            _map_free_text(item, change)
