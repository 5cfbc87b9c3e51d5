"""How many random seeds the agent loop spends before designing (graph/seeding.py)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from agentnas.graph.seeding import SEED_SHARE, buildable_seeds, seed_counts


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


def _fake_run(refuse: Callable[[str], bool] | None):
    """The parts of a RunContext the seed sampler reads: the photonic space in one
    partition, and the backend's instant lookup refusing what ``refuse`` says."""
    from agentnas.tools.photonic.energy import InfeasibleDesign
    from agentnas.tools.spaces.photonic_mlp import PhotonicMLPSpace

    def lookup(arch: str) -> dict[str, float]:
        if refuse is not None and refuse(arch):
            raise InfeasibleDesign("needs more laser power than a waveguide carries")
        return {"energy_mj": 1.0}

    return SimpleNamespace(
        space=PhotonicMLPSpace(),
        config=SimpleNamespace(dedupe_isomorphic=False),
        hardware_lookup=lambda: None if refuse is None else lookup,
        partition_of=lambda arch, parts: 0,
    )


def test_seeds_the_hardware_refuses_are_redrawn_not_spent() -> None:
    parts = [{"id": 0, "size": 12096}]
    reck = lambda a: "mesh=reck" in a  # noqa: E731 - refuse every Reck mesh
    plain, refused0 = buildable_seeds(_fake_run(None), random.Random(3), parts[0], parts, 8, set())
    assert refused0 == 0 and len(plain) == 8
    assert any(reck(a) for a in plain)  # unchecked draws do hold refused designs
    taken: set[str] = set()
    got, refused = buildable_seeds(_fake_run(reck), random.Random(3), parts[0], parts, 8, taken)
    assert len(got) == 8 and not any(reck(a) for a in got)
    first = [a for a in plain if not reck(a)]
    assert refused >= 8 - len(first) > 0  # replacements may be refused in turn
    assert got[: len(first)] == first  # the same draws first
    assert set(got) <= taken  # refused designs are taken too: never drawn again
    # nothing refused: exactly the plain sampler's seeds
    same, none = buildable_seeds(
        _fake_run(lambda a: False), random.Random(3), parts[0], parts, 8, set()
    )
    assert (same, none) == (plain, 0)
