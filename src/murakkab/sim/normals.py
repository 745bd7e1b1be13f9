"""Standard normal deviates in blocks: the stream `random.Random.normalvariate` would draw, at numpy speed.

The simulator draws one log-normal token count per model call (`LogNormalTokens.draw`: exp of
`rng.normalvariate(ln median, sigma)`). `normalvariate` is Kinderman-Monahan ratio-of-uniforms:
take pairs of `random()` values until one pair is accepted, return that pair's z scaled. Python's
`random.Random` and numpy's legacy `RandomState` are the same Mersenne Twister with the same 53-bit
doubles, so after copying the state the pairs, and the accepted z's in order, are the ones the
stdlib would produce; a block of pairs is generated and tested at once. Only `np.log` may differ
from `math.log` in the last bit, so the accept test is redone with `math.log` wherever it is that close.
"""

from __future__ import annotations

import math
import random

import numpy as np

_NV_MAGICCONST = 4 * math.exp(-0.5) / math.sqrt(2.0)   # random.NV_MAGICCONST


class NormalBlocks:
    """`next_block()` returns the next standard normal deviates z of `rng`'s stream, in order:
    `mu + z * sigma` equals what successive `rng.normalvariate(mu, sigma)` calls return. The
    generator's state is copied once; `rng` itself is not advanced."""

    __slots__ = ("_rs", "_pairs")

    def __init__(self, rng: random.Random, pairs: int = 2048):
        if pairs < 1:
            raise ValueError("a block needs at least one pair of uniforms")
        version, state, _ = rng.getstate()
        self._rs = np.random.RandomState()
        self._rs.set_state(("MT19937", np.array(state[:624], dtype=np.uint32), state[624]))
        self._pairs = pairs

    def next_block(self) -> list[float]:
        u = self._rs.random_sample(2 * self._pairs)
        u1, u2 = u[0::2], 1.0 - u[1::2]
        z = _NV_MAGICCONST * (u1 - 0.5) / u2
        lhs = z * z / 4.0
        rhs = -np.log(u2)
        accept = lhs <= rhs
        for i in np.flatnonzero(np.abs(lhs - rhs) <= 1e-9 * (1.0 + rhs)):
            accept[i] = lhs[i] <= -math.log(u2[i])   # the stdlib's own log decides near-ties
        return z[accept].tolist()
