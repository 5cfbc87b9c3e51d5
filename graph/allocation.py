"""How many children each partition's Designer proposes this round (pure).

The round's share of the remaining budget is spread over the partitions that still have
unevaluated cells (or over the user's ``focus``); the remainder rotates from round to round
so no partition is always favoured.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any


def allocate_children(
    partitions: list[dict[str, Any]],
    candidates: list[dict[str, Any]],
    round_: int,
    limits: dict[str, int],
    focus: list[int] | None = None,
    front: list[str] | None = None,
) -> dict[int, int]:
    """Partition id -> number of children for this round (partitions with 0 omitted)."""
    remaining = limits["budget"] - len(candidates)
    rounds_left = max(1, limits["rounds"] - round_ + 1)
    per_round = math.ceil(remaining / rounds_left)
    counts = Counter(c["partition"] for c in candidates)
    wanted = set(focus or [])
    parts = [
        p for p in partitions if counts[p["id"]] < p["size"] and (not wanted or p["id"] in wanted)
    ]
    if per_round <= 0 or not parts:
        return {}
    base, extra = divmod(per_round, len(parts))
    start = (round_ * 7) % len(parts)
    alloc = {}
    for j, p in enumerate(parts):
        bonus = 1 if (j - start) % len(parts) < extra else 0
        n = min(base + bonus, p["size"] - counts[p["id"]])
        if n > 0:
            alloc[int(p["id"])] = n
    return alloc
