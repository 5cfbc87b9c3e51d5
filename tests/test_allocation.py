"""Budget allocation over partitions: exact budget, room, focus, exploration floor and
weighting by the global front."""

from __future__ import annotations

from collections import Counter

import pytest

from agentnas.graph.allocation import EXPLORE_SHARE, allocate_children

# the NB201 plan for K=6 (sizes of the nor_conv_3x3 count groups)
PARTS = [
    {"id": i, "feature": "n_nor_conv_3x3", "low": lo, "high": hi, "size": n}
    for i, (lo, hi, n) in enumerate(
        [(0, 0, 4096), (1, 1, 6144), (2, 2, 3840), (3, 3, 1280), (4, 4, 240), (5, 6, 25)]
    )
]
LIMITS = {"budget": 100, "rounds": 10}


def cands(per_part: dict[int, int]) -> list[dict]:
    return [
        {"arch": f"p{p}-{i}", "partition": p, "metrics": {}}
        for p, n in per_part.items()
        for i in range(n)
    ]


@pytest.mark.parametrize("round_", range(1, 11))
def test_round_spends_its_share_of_the_budget_exactly(round_):
    have = cands({p: 2 + round_ for p in range(6)})
    front = [c["arch"] for c in have if c["partition"] in (1, 2)][:5]
    alloc = allocate_children(PARTS, have, round_, LIMITS, front=front)
    remaining = LIMITS["budget"] - len(have)
    rounds_left = LIMITS["rounds"] - round_ + 1
    assert sum(alloc.values()) == -(-remaining // rounds_left)
    assert all(n > 0 for n in alloc.values())


def test_front_partitions_get_the_exploitation_share():
    have = cands(dict.fromkeys(range(6), 2))
    front = ["p1-0", "p1-1", "p2-0"]  # partition 1 holds two front members, 2 one
    alloc = allocate_children(PARTS, have, 1, LIMITS, front=front)
    per_round = -(-(100 - 12) // 10)
    n_explore = round(EXPLORE_SHARE * per_round)
    assert sum(alloc.values()) == per_round
    exploit = Counter(alloc)
    for p in range(6):  # take away one exploration child where the rotation put one
        if (p - 1 * n_explore) % 6 < n_explore:
            exploit[p] -= 1
    assert exploit[1] > exploit[2] > 0
    assert all(exploit[p] == 0 for p in (0, 3, 4, 5))


def test_every_open_partition_is_explored_within_a_few_rounds():
    have = cands(dict.fromkeys(range(6), 2))
    front = ["p1-0"]  # only partition 1 is on the front
    seen: set[int] = set()
    for r in range(1, 4):
        seen |= set(allocate_children(PARTS, have, r, LIMITS, front=front))
    assert seen == set(range(6))


def test_without_a_front_the_shares_are_even():
    alloc = allocate_children(PARTS, cands(dict.fromkeys(range(6), 2)), 1, LIMITS)
    assert max(alloc.values()) - min(alloc.values()) <= 1 and len(alloc) == 6


def test_a_full_partition_passes_its_share_on():
    parts = [dict(p) for p in PARTS]
    parts[5]["size"] = 3  # two evaluated, room for one more
    have = cands(dict.fromkeys(range(6), 2))
    front = ["p5-0", "p5-1"]  # the small partition holds the whole front
    alloc = allocate_children(parts, have, 1, LIMITS, front=front)
    assert alloc.get(5, 0) <= 1
    assert sum(alloc.values()) == -(-(100 - 12) // 10)


def test_exhausted_partitions_and_focus():
    parts = [dict(p) for p in PARTS]
    parts[0]["size"] = 2
    have = cands(dict.fromkeys(range(6), 2))
    assert 0 not in allocate_children(parts, have, 1, LIMITS, front=["p0-0"])
    alloc = allocate_children(PARTS, have, 1, LIMITS, focus=[3, 4], front=["p1-0"])
    assert set(alloc) <= {3, 4} and sum(alloc.values()) == 9


def test_nothing_left_to_spend():
    have = cands(dict.fromkeys(range(6), 20))[:100]
    assert allocate_children(PARTS, have, 5, LIMITS, front=["p0-0"]) == {}


def test_focus_on_full_partitions_passes_the_budget_on():
    """A focus on partitions that have no room left must not end the run with budget
    left: what the focus cannot take goes to the other open partitions."""
    parts = [dict(p) for p in PARTS]
    parts[5]["size"] = 2  # fully evaluated
    parts[4]["size"] = 3  # room for one more
    have = cands(dict.fromkeys(range(6), 2))
    per_round = -(-(100 - 12) // 10)
    alloc = allocate_children(parts, have, 1, LIMITS, focus=[5], front=["p1-0"])
    assert 5 not in alloc and sum(alloc.values()) == per_round
    alloc = allocate_children(parts, have, 1, LIMITS, focus=[4, 5], front=["p1-0"])
    assert alloc[4] == 1 and 5 not in alloc and sum(alloc.values()) == per_round
