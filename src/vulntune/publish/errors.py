"""Errors of export and publish."""

from __future__ import annotations

from vulntune.errors import VulntuneError


class ExportError(VulntuneError):
    """A run cannot be exported (not trained, target in the way, conversion failed)."""


class PublishError(VulntuneError):
    """A run cannot be pushed (offline, no token, the hub refused)."""
