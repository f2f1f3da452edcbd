"""Code context from a source root (``ingest --source-root DIR``).

- :mod:`~vulntune.findings.context.tree`: the source tree, read-only and strict about paths;
- :mod:`~vulntune.findings.context.attach`: the lines around a finding, or its manifest line;
- :mod:`~vulntune.findings.context.enclosing`: the enclosing function or block, by heuristics;
- :mod:`~vulntune.findings.context.manifests`: which manifest declares a package, and where.
"""

from vulntune.findings.context.attach import ContextProblem, attach_context, code_context
from vulntune.findings.context.tree import ContextOptions, PathRefused, SourceTree

__all__ = [
    "ContextOptions",
    "ContextProblem",
    "PathRefused",
    "SourceTree",
    "attach_context",
    "code_context",
]
