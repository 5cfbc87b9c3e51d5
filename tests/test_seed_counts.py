"""How many random seeds the agent loop spends before designing (graph/seeding.py)."""

from __future__ import annotations

import math

import pytest

from agentnas.graph.seeding import SEED_SHARE, seed_counts


def _parts(sizes: list[int]) -> list[dict]:
    return [{"id": i, "size": s} for i, s in enumerate(sizes)]


def test_large_budgets_seed_every_partition_fully() -> None:
    assert seed_counts(_parts([100] * 6), 2, 100) == dict.fromkeys(range(6), 2)
    assert seed_counts(_parts([100] * 6), 2, 36) == dict.fromkeys(range(6), 2)


@pytest.mark.parametrize("budget", [12, 18, 24, 30])
def test_small_budgets_seed_at_most_a_third(budget: int) -> None:
    counts = seed_counts(_parts([50, 400, 30, 900, 10, 2]), 2, budget)
    assert sum(counts.values()) == min(12, math.ceil(SEED_SHARE * budget))
    if budget >= 18:  # enough for one seed in every partition
        assert min(counts.values()) >= 1
    if budget == 24:  # 8 seeds: one each, then the two largest partitions
        assert counts == {0: 1, 1: 2, 2: 1, 3: 2, 4: 1, 5: 1}


def test_fewer_seeds_than_partitions_spread_over_the_range() -> None:
    counts = seed_counts(_parts([10] * 6), 2, 12)  # 4 seeds
    assert counts == {0: 1, 1: 0, 2: 1, 3: 1, 4: 0, 5: 1}
    assert seed_counts(_parts([10] * 5), 2, 3) == {0: 0, 1: 0, 2: 1, 3: 0, 4: 0}


def test_never_more_than_a_partition_holds() -> None:
    counts = seed_counts(_parts([1, 1, 500]), 5, 300)
    assert counts == {0: 1, 1: 1, 2: 5}
