"""Cached proxy scoring of one cell (what every caller uses).

``params``/``flops`` are analytic and never cached; every other proxy is looked up in
the :class:`~agentnas.tools.proxies.cache.ProxyCache` under its scored cell (see
:func:`~agentnas.tools.proxies.proxies.key_cell`) and computed only when missing.
"""

from __future__ import annotations

from collections.abc import Iterable

from agentnas.tools.proxies.cache import ProxyCache
from agentnas.tools.proxies.data import DEFAULT_BATCH_SIZE, ProxyBatch, proxy_batch
from agentnas.tools.proxies.proxies import (
    ANALYTIC,
    check_proxy_names,
    compute_proxies,
    key_cell,
    proxy_threads,
)
from agentnas.tools.spaces.nb201 import normalize

# 32 real images: the data-dependent proxies keep their ranking while a cell costs about
# half of what 64 images cost on a 2-core machine
PROXY_BATCH_SIZE = min(32, DEFAULT_BATCH_SIZE)


def _start(
    cell: str, names: Iterable[str] | None, batch_size: int, seed: int, cache: ProxyCache | None
) -> tuple[tuple[str, ...], str, ProxyBatch, ProxyCache, dict[str, float]]:
    """What both lookups start from: the checked proxy names, the normalised cell, the
    image batch, the cache, and the analytic proxies (never cached) already computed."""
    wanted = check_proxy_names(names)
    cell = normalize(cell)
    batch = proxy_batch(batch_size, seed)
    store = cache if cache is not None else ProxyCache()
    out: dict[str, float] = {}
    analytic = [p for p in wanted if p in ANALYTIC]
    if analytic:
        out.update(compute_proxies(cell, analytic, batch, seed))
    return wanted, cell, batch, store, out


def score_cell(
    cell: str,
    names: Iterable[str] | None = None,
    *,
    batch_size: int = PROXY_BATCH_SIZE,
    seed: int = 0,
    cache: ProxyCache | None = None,
) -> dict[str, float]:
    """All requested proxies of ``cell`` (13 by default), from cache where possible."""
    wanted, cell, batch, store, out = _start(cell, names, batch_size, seed, cache)
    by_key: dict[str, list[str]] = {}
    for p in wanted:
        if p not in ANALYTIC:
            by_key.setdefault(key_cell(cell, p), []).append(p)
    for kc, props in by_key.items():
        cached = store.get(kc, batch.digest, seed)
        missing = [p for p in props if p not in cached]
        if missing:
            with proxy_threads():
                fresh = compute_proxies(kc, missing, batch, seed)
            store.put(kc, batch.digest, seed, fresh)
            cached.update(fresh)
        out.update({p: cached[p] for p in props})
    return {p: out[p] for p in wanted}


def cached_only(
    cell: str,
    names: Iterable[str] | None = None,
    *,
    batch_size: int = PROXY_BATCH_SIZE,
    seed: int = 0,
    cache: ProxyCache | None = None,
) -> dict[str, float] | None:
    """The proxies of ``cell`` if all are available without computing, else None."""
    wanted, cell, batch, store, out = _start(cell, names, batch_size, seed, cache)
    for p in wanted:
        if p in ANALYTIC:
            continue
        got = store.get(key_cell(cell, p), batch.digest, seed)
        if p not in got:
            return None
        out[p] = got[p]
    return {p: out[p] for p in wanted}
