"""What evaluation reads back from a prompt: the file its code comes from, the code, the
package line. The layout is ``datasets/builtin/README.md``'s (written by the renderer)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vulntune.datasets.render import read_prompt

# The end of a similar-finding line (datasets/similar.py): "... -> CWE-<id> <name>".
_SIMILAR = "Similar finding"
_SIMILAR_CWE = re.compile(r" -> CWE-(\d+)(?: |$)")
_LOCATION = re.compile(r"^(.*?)(?::(\d+))?$")
# "<ecosystem> <name> <installed> (fixed in <version>)"; installed and fixed may be missing.
_PACKAGE = re.compile(r"^(\S+) (\S+)(?: ([^\s(]+))?(?: \(fixed in ([^)\s]+)\))?$")


@dataclass(frozen=True)
class PromptFacts:
    """The parts of a prompt that metrics and baselines need; None when the prompt lacks one."""

    tool: str | None = None
    rule: str | None = None
    reported_severity: str | None = None
    message: str | None = None
    path: str | None = None
    line: int | None = None
    code: str | None = None  # the Code block, each line ending with a newline
    ecosystem: str | None = None
    package: str | None = None
    installed_version: str | None = None
    fixed_version: str | None = None
    similar_cwe: int | None = None  # the CWE of the first (nearest) similar training finding

    def files(self) -> dict[str, str]:
        """The code in the prompt as the one file a fix may patch (empty without code)."""
        if self.path is None or self.code is None:
            return {}
        return {self.path: self.code}


def prompt_facts(prompt: str) -> PromptFacts:
    """Read a prompt's ``Key: value`` lines and its ``Code:`` block. Never raises."""
    values, code = read_prompt(prompt)
    path = line_no = None
    if "Location" in values:
        loc = _LOCATION.match(values["Location"])
        if loc is not None:
            path = loc.group(1) or None
            line_no = int(loc.group(2)) if loc.group(2) else None
    ecosystem = package = installed = fixed = None
    if "Package" in values and (pkg := _PACKAGE.match(values["Package"])):
        ecosystem, package, installed, fixed = pkg.groups()
    return PromptFacts(
        tool=values.get("Tool"),
        rule=values.get("Rule"),
        reported_severity=values.get("Reported severity"),
        message=values.get("Message"),
        path=path,
        line=line_no,
        code=(code.rstrip("\n") + "\n") if code is not None and code.strip() else None,
        ecosystem=ecosystem,
        package=package,
        installed_version=installed,
        fixed_version=fixed,
        # The last "-> CWE-" of the line: a message cut at 100 characters comes before it.
        similar_cwe=int(ids[-1])
        if (ids := _SIMILAR_CWE.findall(values.get(_SIMILAR, "")))
        else None,
    )
