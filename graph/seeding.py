"""Seeding: the complexity histograms the Partitioner reads, how many random seeds each
partition gets, and uniform draws inside a partition (PEL-NAS starts every niche from
random cells).

Seeds take at most ``SEED_SHARE`` of the budget (rounded up): K partitions ×
``seed_per_partition`` seeds would otherwise leave small budgets (24 evaluations, K = 6,
2 seeds each: half of it) to a surrogate fitted on a dozen random points and a
couple of design rounds. Budgets of at least 3·K·``seed_per_partition`` (36 at the
defaults) seed exactly as before. Under the cap, every partition gets one seed first
(evenly spaced partitions when there are fewer seeds than partitions), then the larger
partitions get the second ones. A seed the hardware refuses at once (its instant lookup
says infeasible, no training) is redrawn rather than spent (:func:`buildable_seeds`).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from agentnas.graph.context import RunContext
from agentnas.tools.errors import UserError
from agentnas.tools.spaces.base import EnumerableSpace

HISTOGRAM_SAMPLE = 2000
SEED_SHARE = 1 / 3  # most of the budget random seeds may take (module docstring)


# (view, space name) -> histograms of an enumerable space: the same for every run (a bench
# runs hundreds); the view (plain, or one feature set per isomorphism class) is part of it
_ENUMERATED: dict[tuple[str, str], dict[str, dict[str, int]]] = {}


def feature_histograms(rt: RunContext) -> tuple[dict[str, dict[str, int]], bool]:
    """Counts of each discrete complexity feature over the space (or a sample of it)."""
    space = rt.space
    enumerable = isinstance(space, EnumerableSpace)
    key = (type(space).__qualname__, str(space.name))
    if enumerable and key in _ENUMERATED:
        return {k: dict(v) for k, v in _ENUMERATED[key].items()}, False
    if enumerable:
        archs = list(space.enumerate())
    else:
        archs = space.sample(random.Random(rt.config.seed), HISTOGRAM_SAMPLE)
    counts: dict[str, Counter[Any]] = {}
    for a in archs:
        for name, value in space.features(a).items():
            counts.setdefault(name, Counter())[value] = counts.get(name, Counter())[value] + 1
    hist = {
        name: {_fmt(v): n for v, n in sorted(c.items())}
        for name, c in counts.items()
        if len(c) <= 64  # continuous features (params, FLOPs) are left out
    }
    if enumerable:
        _ENUMERATED[key] = {k: dict(v) for k, v in hist.items()}
    return hist, not enumerable


def _fmt(v: Any) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def seed_counts(parts: list[dict], per_partition: int, budget: int) -> dict[int, int]:
    """Partition id -> number of random seeds (see the module docstring); never more
    than a partition's size, in all at most ``ceil(SEED_SHARE · budget)``."""
    total = min(per_partition * len(parts), math.ceil(SEED_SHARE * budget), budget)
    room = {int(p["id"]): int(p["size"]) for p in parts}
    ids = [int(p["id"]) for p in parts]
    out = dict.fromkeys(ids, 0)
    if len(ids) > total > 0:  # one each for evenly spaced partitions
        step = (len(ids) - 1) / max(total - 1, 1)
        first = [ids[round(j * step)] for j in range(total)] if total > 1 else [ids[len(ids) // 2]]
    else:
        first = ids
    by_size = sorted(ids, key=lambda i: (-room[i], i))
    left = total
    for rank in range(per_partition):
        for i in first if rank == 0 else by_size:
            if left > 0 and out[i] < room[i]:
                out[i] += 1
                left -= 1
    return out


REDRAWS = 20  # rounds of replacement draws for seeds the hardware refuses


def buildable_check(rt: RunContext) -> Callable[[str], bool] | None:
    """``arch -> False`` when the backend's instant hardware lookup
    (:meth:`RunContext.hardware_lookup`, no training) refuses the design as infeasible
    (e.g. a photonic mesh past the laser power ceiling); None when the backend has no
    such lookup. Other errors are left for the evaluation to report."""
    lookup = rt.hardware_lookup()
    if lookup is None:
        return None

    def buildable(arch: str) -> bool:
        try:
            lookup(arch)
        except UserError as exc:
            if getattr(exc, "kind", None) == "infeasible":
                return False
        return True

    return buildable


def buildable_seeds(
    rt: RunContext, rng: random.Random, p: dict, parts: list[dict], n: int, taken: set[str]
) -> tuple[list[str], int]:
    """Up to ``n`` seeds of partition ``p`` (:func:`sample_partition`) that the hardware
    can build, and how many drawn ones it refused: a refused seed would spend a unit of
    the budget on nothing (a third of a 24-evaluation budget on a worst-case photonic
    preset), so it is replaced by a fresh draw. With no refusal the draws, and so the
    seeds, are exactly :func:`sample_partition`'s."""
    ok = buildable_check(rt)
    out = sample_partition(rt, rng, p, parts, n, taken)
    if ok is None:
        return out, 0
    refused = 0
    for _ in range(REDRAWS):
        keep = [a for a in out if ok(a)]
        refused += len(out) - len(keep)
        out = keep
        if len(out) >= n:
            break
        more = sample_partition(rt, rng, p, parts, n - len(out), taken)
        if not more:
            break
        out += more
    else:
        out = [a for a in out if ok(a)]
    return out[:n], refused


def sample_partition(
    rt: RunContext, rng: random.Random, p: dict, parts: list[dict], n: int, taken: set[str]
) -> list[str]:
    """Up to ``n`` distinct cells of partition ``p`` whose key is not in ``taken`` (the
    key is the cell itself, or its isomorphism class with ``dedupe_isomorphic``)."""
    space = rt.space
    key = space.canonical if rt.config.dedupe_isomorphic else (lambda a: a)
    if isinstance(space, EnumerableSpace):
        pool = [
            a
            for a in space.enumerate()
            if key(a) not in taken and rt.partition_of(a, parts) == p["id"]
        ]
        pool = rng.sample(pool, min(n, len(pool)))
    else:
        pool = []
        for _ in range(200 * n):
            (a,) = space.sample(rng, 1)
            if rt.partition_of(a, parts) == p["id"]:
                pool.append(a)
    out: list[str] = []
    for a in pool:
        if key(a) not in taken:
            out.append(a)
            taken.add(key(a))
            if len(out) == n:
                break
    return out
