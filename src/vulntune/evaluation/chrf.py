"""chrF: character n-gram F-score (Popović 2015, "chrF: character n-gram F-score for
automatic MT evaluation").

Whitespace is removed from both texts; for each order n = 1..6 the n-gram precision and
recall are computed from clipped counts; precision and recall are averaged over the orders
(arithmetically), and combined as F-beta with beta = 2 (recall weighs twice as much). An
order where neither text has n-grams (both shorter than n) is left out of the averages; an
order where only one has n-grams counts as precision and recall 0. Two empty texts score 1,
an empty text against a non-empty one 0. Scores are in [0, 1].
"""

from __future__ import annotations

from collections import Counter

CHRF_ORDER = 6
CHRF_BETA = 2.0


def _ngrams(text: str, n: int) -> Counter[str]:
    return Counter(text[i : i + n] for i in range(len(text) - n + 1))


def chrf(
    hypothesis: str, reference: str, order: int = CHRF_ORDER, beta: float = CHRF_BETA
) -> float:
    """The chrF score of ``hypothesis`` against ``reference`` (see the module docstring)."""
    hyp = "".join(hypothesis.split())
    ref = "".join(reference.split())
    if not hyp and not ref:
        return 1.0
    if not hyp or not ref:
        return 0.0
    precisions: list[float] = []
    recalls: list[float] = []
    for n in range(1, order + 1):
        h, r = _ngrams(hyp, n), _ngrams(ref, n)
        if not h and not r:
            continue
        matches = sum((h & r).values())
        precisions.append(matches / sum(h.values()) if h else 0.0)
        recalls.append(matches / sum(r.values()) if r else 0.0)
    precision = sum(precisions) / len(precisions)
    recall = sum(recalls) / len(recalls)
    if precision == 0.0 and recall == 0.0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)
