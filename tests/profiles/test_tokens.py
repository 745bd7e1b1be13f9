"""The one token model: log-normal fitted to p50/p90, and its per-call sampler."""

from __future__ import annotations

import random
from statistics import quantiles

import pytest

from murakkab.profiles.tokens import LogNormalTokens


def test_draws_reproduce_the_fitted_percentiles():
    d = LogNormalTokens.from_percentiles(200.0, 600.0)
    rng = random.Random(5)
    xs = sorted(d.draw(rng) for _ in range(40_000))
    deciles = quantiles(xs, n=10)
    assert deciles[4] == pytest.approx(200.0, rel=0.03)     # median = p50 by construction
    assert deciles[8] == pytest.approx(600.0, rel=0.04)     # 90th percentile = p90 by construction


def test_draw_is_whole_tokens_at_least_one_and_seeded():
    d = LogNormalTokens.from_percentiles(1.0, 50.0)
    xs = [d.draw(random.Random(1)) for _ in range(3)]
    assert xs[0] == xs[1] == xs[2]                          # same seed, same draw
    assert all(isinstance(x, int) and x >= 1 for x in (d.draw(random.Random(i)) for i in range(500)))
    flat = LogNormalTokens.from_percentiles(42.0, 42.0)
    rng = random.Random(0)
    assert [flat.draw(rng) for _ in range(3)] == [42, 42, 42]
    assert rng.random() == random.Random(0).random()         # sigma 0 consumes no random number
