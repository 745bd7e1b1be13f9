"""Self-consistency (majority vote over N samples) accuracy from a single-sample score.

Written model (every output is `derived`):
- per question, one sample is correct with probability p; questions differ, p ~ Beta(k*a, k*(1-a))
  with mean a = the single-sample accuracy and concentration k (CONCENTRATION, an estimate);
- a wrong sample picks one of the (options - 1) wrong answers uniformly (GPQA has 4 options);
- the answer with the most votes wins; ties are broken uniformly at random.

Closed form: the vote outcome (c correct, w_1..w_m wrong) has probability
multinomial(N; c, w) p^c ((1-p)/m)^(N-c), and E[p^c (1-p)^(N-c)] under the Beta is
B(alpha + c, beta + N - c) / B(alpha, beta). Summing over outcomes gives the accuracy exactly.
At N = 1 this is a. It is non-decreasing in N over the sample counts the catalogue offers for the
single-sample scores of its models (checked by the tests), not for every conceivable a.
"""

from __future__ import annotations

import math
from functools import cache
from itertools import product



def betaln(a: float, b: float) -> float:
    """ln B(a, b) (math.lgamma: avoids importing scipy.special, ~0.3 s, at load time)."""
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)

CONCENTRATION = 1.0   # estimate: alpha + beta; 1 = strongly bimodal per-question correctness, which keeps
                      # the gain modest (a few pp per doubling), as self-consistency reports on hard sets
OPTIONS = 4           # GPQA-Diamond multiple choice


@cache
def _outcomes(n: int, wrong_options: int) -> tuple[tuple[int, float, float], ...]:
    """(correct votes c, multinomial coefficient x m^-(n-c), win probability) per vote outcome."""
    out = []
    for ws in product(range(n + 1), repeat=wrong_options):
        w = sum(ws)
        if w > n:
            continue
        c = n - w
        top = max(ws) if ws else 0
        if c > top:
            win = 1.0
        elif c == top:
            win = 1.0 / (1 + sum(1 for x in ws if x == c))
        else:
            win = 0.0
        if win == 0.0:
            continue
        coef = math.factorial(n) / math.prod(math.factorial(x) for x in (c, *ws))
        out.append((c, coef / wrong_options ** w, win))
    return tuple(out)


def majority_accuracy(single: float, n: int, *, concentration: float = CONCENTRATION,
                      options: int = OPTIONS) -> float:
    """Accuracy (0..1) of a plurality vote over n samples, given single-sample accuracy (0..1)."""
    if not 0.0 < single < 1.0:
        raise ValueError(f"single-sample accuracy must be in (0, 1), got {single}")
    if n < 1:
        raise ValueError(f"samples must be >= 1, got {n}")
    alpha, beta = concentration * single, concentration * (1.0 - single)
    base = betaln(alpha, beta)
    total = 0.0
    for c, coef, win in _outcomes(n, options - 1):
        total += coef * win * math.exp(betaln(alpha + c, beta + n - c) - base)
    return total
