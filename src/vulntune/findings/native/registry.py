"""The native formats in the order the ingester tries them.

:data:`FORMATS` is the order in which the ingester offers a decoded document: the first
format whose ``matches(doc)`` is true parses it. Every content test looks for keys that only
its tool writes, so no two formats claim the same real report; the order is a second line of
defence, with the tests that look at the most specific structure first and the formats that
claim a bare list last (gitleaks claims ``[]``, the clean-scan output of a secret scan).
"""

from __future__ import annotations

from vulntune.findings.formats import FindingsFormat
from vulntune.findings.native import (
    bandit,
    checkov,
    gitleaks,
    npm_audit,
    osv,
    pip_audit,
    semgrep,
    trivy,
    zap,
)

FORMATS: list[FindingsFormat] = [
    trivy.FORMAT,  # SchemaVersion / ClusterName / legacy list of {"Target", ...}
    semgrep.FORMAT,  # results[].check_id, or results + errors + paths
    bandit.FORMAT,  # results[].test_id, or results + generated_at + metrics
    osv.FORMAT,  # results[].source + packages, or results + experimental_config
    checkov.FORMAT,  # check_type + results, a list of those, or Checkov's bare summary
    zap.FORMAT,  # site + @programName/@version, or alerts with pluginId + risk + url
    npm_audit.FORMAT,  # advisories / auditReportVersion / {"error": {...}}
    pip_audit.FORMAT,  # dependencies[].vulns, or the pre-2.0 bare list
    gitleaks.FORMAT,  # a list of leaks, or []
]

__all__ = ["FORMATS"]
