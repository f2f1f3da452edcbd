"""The errors of model acquisition, in a module of their own so that every part of `models`
(resolution, conversion, the built-in models, loading) can raise them without importing another.
"""

from __future__ import annotations

from vulntune.errors import VulntuneError


class ModelResolutionError(VulntuneError):
    """A `--base-model` spec could not be turned into a usable local model directory."""


class ModelLoadError(VulntuneError):
    """A model directory or adapter that cannot be loaded as the run requires."""
