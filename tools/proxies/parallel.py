"""Score many cells across processes, with a progress bar for long batches.

Cells already in the cache are answered in this process; the rest are deduplicated by
isomorphism class and spread over ``workers`` processes (default min(2, CPUs)), each with
one torch thread so the processes do not fight over cores. Workers write the shared
on-disk cache; results come back in input order.

Workers are started with ``spawn`` (forking a process that already ran torch threads can
deadlock), so a script calling :func:`score_cells` needs the usual
``if __name__ == "__main__":`` guard; if the pool breaks anyway, the remaining cells
are scored in this process.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from agentnas.tools.proxies.cache import ProxyCache
from agentnas.tools.proxies.proxies import check_proxy_names, representative, set_threads
from agentnas.tools.proxies.scoring import PROXY_BATCH_SIZE, cached_only, score_cell
from agentnas.tools.spaces.nb201 import normalize

PROGRESS_MIN_CELLS = 4  # below this a bar is noise
PARALLEL_MIN_CELLS = 4  # below this, starting processes (~3 s each) costs more than it saves


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _init_worker(cache_root: str) -> None:
    os.environ["AGENTNAS_CACHE_DIR_PROXIES"] = cache_root
    set_threads(1)


def _work(cell: str, names: tuple[str, ...], batch_size: int, seed: int) -> dict[str, float]:
    root = os.environ.get("AGENTNAS_CACHE_DIR_PROXIES")
    cache = ProxyCache(root) if root else None
    return score_cell(cell, names, batch_size=batch_size, seed=seed, cache=cache)


def score_cells(
    cells: Sequence[str],
    names: Iterable[str] | None = None,
    *,
    batch_size: int = PROXY_BATCH_SIZE,
    seed: int = 0,
    workers: int | None = None,
    progress: bool = True,
    cache: ProxyCache | None = None,
    on_result: Callable[[str, dict[str, float]], None] | None = None,
) -> list[dict[str, float]]:
    """Proxies (dict per cell, input order) for every cell, computing only what is missing."""
    wanted = check_proxy_names(names)
    store = cache if cache is not None else ProxyCache()
    cells = [normalize(c) for c in cells]
    results: dict[str, dict[str, float]] = {}
    todo: dict[str, str] = {}  # representative -> one cell to score
    for c in cells:
        if c in results:
            continue
        hit = cached_only(c, wanted, batch_size=batch_size, seed=seed, cache=store)
        if hit is not None:
            results[c] = hit
        else:
            todo.setdefault(representative(c), c)
    pending = list(todo.values())
    n_workers = max(1, min(workers or default_workers(), len(pending) or 1))

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=False,
        disable=not progress or len(pending) < PROGRESS_MIN_CELLS,
    )
    with bar:
        task = bar.add_task("scoring cells", total=len(pending))
        if n_workers > 1 and len(pending) >= PARALLEL_MIN_CELLS:
            ctx = mp.get_context("spawn")  # fork after torch threads can deadlock
            try:
                with ProcessPoolExecutor(
                    n_workers,
                    mp_context=ctx,
                    initializer=_init_worker,
                    initargs=(str(store.root),),
                ) as pool:
                    futures = {pool.submit(_work, c, wanted, batch_size, seed): c for c in pending}
                    for fut in as_completed(futures):
                        c = futures[fut]
                        results[c] = fut.result()
                        if on_result:
                            on_result(c, results[c])
                        bar.advance(task)
            except BrokenProcessPool:
                pass  # finish below in this process (cached results are kept)
        for c in pending:
            if c not in results:
                results[c] = score_cell(c, wanted, batch_size=batch_size, seed=seed, cache=store)
                if on_result:
                    on_result(c, results[c])
                bar.advance(task)
    # remaining cells share a class with a scored one: served from the cache now
    out = []
    for c in cells:
        if c not in results:
            results[c] = score_cell(c, wanted, batch_size=batch_size, seed=seed, cache=store)
        out.append(results[c])
    return out
