"""The block normal stream is the stdlib's normalvariate stream, number for number."""

from __future__ import annotations

import random

import pytest

from murakkab.sim.normals import NormalBlocks


@pytest.mark.parametrize("seed", [0, 7, 1_000_010])
def test_blocks_reproduce_random_normalvariate_in_order(seed):
    blocks = NormalBlocks(random.Random(seed), pairs=100)   # small blocks: many block boundaries
    zs: list[float] = []
    while len(zs) < 20_000:
        zs += blocks.next_block()
    ref = random.Random(seed)
    assert zs == [ref.normalvariate(0.0, 1.0) for _ in zs]


def test_the_source_generator_is_not_advanced():
    rng = random.Random(3)
    NormalBlocks(rng).next_block()
    assert rng.random() == random.Random(3).random()


def test_a_block_needs_pairs():
    with pytest.raises(ValueError, match="at least one pair"):
        NormalBlocks(random.Random(0), pairs=0)
