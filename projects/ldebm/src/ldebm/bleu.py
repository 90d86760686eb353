"""Corpus BLEU-4 (Papineni et al. 2002), as ``multi-bleu.perl`` computes it (the official code
shells out to that script for the reconstruction BLEU): clipped n-gram counts and totals summed
over the whole corpus for n = 1…4, their geometric mean, times the brevity penalty
exp(min(0, 1 − r/c)) with r and c the summed reference and hypothesis lengths; one reference per
hypothesis, pre-tokenised input, no smoothing; reported on the 0–100 scale.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence


def ngrams(tokens: Sequence[str], n: int) -> Counter:
    """Counts of the n-grams of ``tokens``."""
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(
    hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]], max_n: int = 4
) -> float:
    """BLEU-``max_n`` of the hypotheses against one reference each, in [0, 100]; 0 when an
    n-gram order has no match (no smoothing, as multi-bleu.perl)."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    matches, totals = [0] * max_n, [0] * max_n
    hyp_len = ref_len = 0
    for hyp, ref in zip(hypotheses, references):
        hyp_len, ref_len = hyp_len + len(hyp), ref_len + len(ref)
        for n in range(1, max_n + 1):
            h, r = ngrams(hyp, n), ngrams(ref, n)
            matches[n - 1] += sum(min(c, r[g]) for g, c in h.items())
            totals[n - 1] += max(len(hyp) - n + 1, 0)
    if hyp_len == 0 or min(matches) == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n
    brevity = min(0.0, 1.0 - ref_len / hyp_len)
    return 100.0 * math.exp(log_precision + brevity)
