"""The closed vocabularies of an analysis completion and the CWE -> category table.

``ANALYSIS_CATEGORIES`` and ``ANALYSIS_SEVERITIES`` are the allowed values of the
``Category:`` and ``Severity:`` lines (``builtin/README.md``). ``CWE_CATEGORIES`` maps the
CWEs that scanners commonly report onto a category: the CWE Top 25 of 2023 and 2024, the CWEs
the OWASP Top 10 (2021) maps to (less the ones MITRE has deprecated or made obsolete), every
CWE of the built-in datasets and those seen in real scanner output. Other ids take the
category of their nearest catalogued ancestor (:func:`category_for_cwe`).

Two rules sit above the table and are applied by whoever knows the finding:

- a finding about a package version is always ``vulnerable-dependency``, whatever the
  advisory's CWE (``category_for_cwe(..., dependency=True)``);
- the table gives a CWE the category of the weakness in code. An insecure setting found in
  IaC, container, CI or web-server configuration is ``misconfiguration`` even when its CWE
  normally means something else (the built-in ``ho-zap-hsts-01`` files CWE-319 there, and
  ``ho-checkov-sg-ssh-01`` CWE-284).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

from vulntune.datasets.cwe_catalogue import CweCatalogue

Category = Literal[
    "injection",  # SQL, OS command, code/eval, expression-language, prototype pollution
    "xss",
    "auth",  # authentication, authorization, sessions, token verification
    "crypto",  # weak algorithms or modes, bad randomness, TLS use and certificate checks
    "secrets",  # credentials committed to code or configuration
    "deserialization",
    "path-traversal",
    "ssrf",
    "xxe",
    "open-redirect",
    "csrf",
    "memory-safety",  # buffer overflows, format strings, banned C functions
    "dos",  # resource exhaustion, ReDoS, missing timeouts
    "information-disclosure",
    "misconfiguration",  # IaC, containers, CI, HTTP headers and cookies, debug modes
    "vulnerable-dependency",  # a package version with a published advisory
]
# The "Severity:" line uses vulntune's normalised levels, most severe first.
AnalysisSeverity = Literal["critical", "high", "medium", "low", "info"]

ANALYSIS_CATEGORIES: tuple[Category, ...] = get_args(Category)
ANALYSIS_SEVERITIES: tuple[AnalysisSeverity, ...] = get_args(AnalysisSeverity)

# Grouped by category so that each choice is easy to review; every id appears once
# (tests/datasets/test_taxonomy.py checks that, and that each id is a live catalogue entry).
_BY_CATEGORY: dict[Category, tuple[int, ...]] = {
    "injection": (
        20, 74, 75, 77, 78, 88, 89, 90, 91, 93, 94, 95, 96, 97, 98, 99, 113, 115, 116, 117,
        138, 150, 155, 173, 183, 184, 235, 434,  # uploads of code that then runs
        444, 454, 470, 471, 472, 501, 564, 610, 642, 643, 646, 652, 707, 913, 915, 917, 943,
        1173, 1236, 1321, 1336,
    ),
    "xss": (79, 80, 81, 83, 84, 85, 86, 87, 644),
    "auth": (
        262, 263, 266, 280, 284, 285, 287, 288, 290, 294, 302, 304, 306, 307, 308, 345, 346,
        347, 384, 419, 425, 521, 565, 566, 602, 603, 613, 620, 639, 640, 650, 697, 749, 784,
        807, 837, 840, 841, 862, 863, 939, 940, 1216, 1220, 1390,
    ),
    "crypto": (
        5, 257, 261, 295, 296, 297, 299, 300, 310, 312, 313, 315, 316, 319, 322, 323, 324,
        325, 326, 327, 328, 329, 330, 331, 335, 336, 337, 338, 340, 341, 354, 523, 599, 757,
        759, 760, 780, 916, 1204, 1240,
    ),
    "secrets": (13, 255, 256, 259, 260, 321, 522, 540, 798),
    "deserialization": (502,),
    "path-traversal": (22, 23, 35, 59, 61, 62, 73, 377, 378, 379, 706),
    "ssrf": (441, 918),
    "xxe": (611, 776, 827),
    "open-redirect": (601,),
    "csrf": (352,),
    "memory-safety": (
        118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 129, 131, 134, 170, 190, 191, 193,
        242, 252, 362,  # data races corrupt memory; concurrency has no category of its own
        415, 416, 457, 476, 477, 590, 665, 667, 676, 680, 681, 682, 688, 704, 763, 786, 787,
        788, 805, 806, 824, 843, 908,
    ),
    "dos": (
        369, 400, 401, 404, 405, 406, 407, 409, 674, 770, 772, 774, 775, 799, 834, 835, 920,
        1050, 1088, 1333,
    ),
    "information-disclosure": (
        200, 201, 203, 204, 208, 209, 210, 211, 212, 213, 215, 219, 226, 359, 402, 497, 524,
        525, 526, 532, 537, 538, 539, 541, 548, 552, 598, 615, 651, 668, 922, 927, 1323,
    ),
    "misconfiguration": (
        2, 11, 15, 223, 250, 269, 272, 275, 276, 311, 353, 426, 427, 430, 451, 489, 494, 520,
        547, 553, 579, 605, 614, 653, 656, 657, 673, 693, 732, 756, 778, 829, 830, 926, 942, 1004,
        1021, 1032, 1174, 1188, 1275,
    ),
    "vulnerable-dependency": (1035, 1104, 1357, 1395),
}  # fmt: skip

CWE_CATEGORIES: Mapping[int, Category] = {
    cwe: category for category, ids in _BY_CATEGORY.items() for cwe in ids
}


def category_for_cwe(
    cwe_id: int, catalogue: CweCatalogue, *, dependency: bool = False
) -> Category | None:
    """The analysis category of a weakness.

    ``dependency=True`` (a finding about a package version) always gives
    ``vulnerable-dependency``. Otherwise the table entry of ``cwe_id``, else that of its
    nearest ancestor in the catalogue (view 1000, breadth first, primary parents first);
    None when neither ``cwe_id`` nor any ancestor has an entry (a pillar such as CWE-664, a
    category, a deprecated or unknown id)."""
    if dependency:
        return "vulnerable-dependency"
    if cwe_id in CWE_CATEGORIES:
        return CWE_CATEGORIES[cwe_id]
    for ancestor in catalogue.ancestors(cwe_id):
        if ancestor in CWE_CATEGORIES:
            return CWE_CATEGORIES[ancestor]
    return None
