"""How many children each partition's Designer proposes this round (pure).

The round's share of the remaining budget (``ceil(remaining / rounds_left)``) is spread
over the partitions that still have unevaluated cells (or over the user's ``focus``) in
two parts:

- **exploration**: ``EXPLORE_SHARE`` of the round's children go one per partition in a
  rotation that moves on every round, so every open partition keeps being searched
  (at least one child every ``ceil(n_partitions / n_explore)`` rounds);
- **exploitation**: the rest goes in proportion to each partition's members on the
  current global Pareto front (largest remainder, ties rotating with the round). A
  partition that holds none of the front only gets exploration children.

Why: with equal shares, partitions whose cells never reach the front (e.g. the 25 NB201
cells with 5-6 ``nor_conv_3x3`` on FPGA) take a sixth of the budget. Measured with the
offline policy (graph loop replica, 100 evaluations, 10 rounds, seeds 0..7, CIFAR-10
accuracy vs latency, HV ratio mean of Eyeriss and FPGA): even shares 0.951; explore
share 0.2 / 0.4 / 0.6: 0.947 / 0.951 / 0.957 — a small effect, inside the noise
(std 0.03 per device), so the middle value is kept. The allocation never exceeds a
partition's unevaluated cells; what a full partition cannot take goes to the others,
and what full ``focus`` partitions cannot take goes to the partitions outside the focus.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

EXPLORE_SHARE = 0.5  # fraction of each round's children spread evenly (see the module doc)


def allocate_children(
    partitions: list[dict[str, Any]],
    candidates: list[dict[str, Any]],
    round_: int,
    limits: dict[str, int],
    focus: list[int] | None = None,
    front: list[str] | None = None,
) -> dict[int, int]:
    """Partition id -> number of children for this round (partitions with 0 omitted).

    ``front`` lists the cells (``arch``) of the current global front; without it every
    open partition weighs the same. ``focus`` partitions get the round's children first;
    what they have no room for (a full focused partition) goes to the other open
    partitions, so a focus never ends a run with budget left."""
    remaining = limits["budget"] - len(candidates)
    rounds_left = max(1, limits["rounds"] - round_ + 1)
    per_round = math.ceil(remaining / rounds_left)
    counts = Counter(c["partition"] for c in candidates)
    room = {int(p["id"]): int(p["size"]) - counts[p["id"]] for p in partitions}
    open_ = [p for p in room if room[p] > 0]
    if per_round <= 0 or not open_:
        return {}
    on_front = set(front or [])
    weight = Counter(
        int(c["partition"])
        for c in candidates
        if c["arch"] in on_front and c.get("partition") is not None
    )
    wanted = set(focus or [])
    focused = [p for p in open_ if p in wanted]
    alloc = _spread(focused or open_, room, weight, per_round, round_)
    left = per_round - sum(alloc.values())
    others = [p for p in open_ if p not in wanted]
    if left > 0 and focused and others:
        alloc.update(_spread(others, room, weight, left, round_))
    return {p: k for p, k in alloc.items() if k > 0}


def _spread(
    parts: list[int], room: dict[int, int], weight: Counter[int], per_round: int, round_: int
) -> dict[int, int]:
    """``per_round`` children over ``parts`` (all with room): the exploration rotation,
    then the rest by weight (see the module doc); never more than a partition's room."""
    if not any(weight[p] for p in parts):  # no front yet (or not passed): even shares
        weight = Counter(dict.fromkeys(parts, 1))
    n = len(parts)
    alloc = dict.fromkeys(parts, 0)
    n_explore = min(per_round, n, max(1, round(EXPLORE_SHARE * per_round)))
    start = (round_ * n_explore) % n
    for j in range(n_explore):  # every part has room, so this never overflows
        alloc[parts[(start + j) % n]] += 1
    left = per_round - n_explore
    # exploitation by weight; a partition that runs out of room passes its share on
    while left > 0:
        open_ = [p for p in parts if alloc[p] < room[p] and weight[p] > 0]
        if not open_:
            open_ = [p for p in parts if alloc[p] < room[p]]
            if not open_:
                break
            weight = Counter(dict.fromkeys(open_, 1))
        total = sum(weight[p] for p in open_)
        quota = {p: left * weight[p] / total for p in open_}
        give = {p: min(int(quota[p]), room[p] - alloc[p]) for p in open_}
        if sum(give.values()) == 0:  # hand out the remainders, largest first
            rot = {p: (i - round_) % n for i, p in enumerate(parts)}
            order = sorted(open_, key=lambda p: (-(quota[p] - int(quota[p])), rot[p]))
            give = dict.fromkeys(open_, 0)
            for p in order[:left]:
                give[p] = 1
        for p, g in give.items():
            alloc[p] += g
            left -= g
    return alloc
