"""Seeding: the complexity histograms the Partitioner reads, and uniform draws inside a
partition (PEL-NAS starts every niche from random cells)."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from agentnas.graph.context import RunContext
from agentnas.tools.spaces.base import EnumerableSpace

HISTOGRAM_SAMPLE = 2000


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
