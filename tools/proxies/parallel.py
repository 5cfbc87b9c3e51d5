"""Score many cells on an executor, with a progress bar for long batches.

Cells already in the cache are answered in this process; the rest are deduplicated by
isomorphism class and handed to an executor (:mod:`agentnas.tools.executor`) as one
batch: ``executor`` if given, else ``processes:workers`` when ``workers`` > 1, else the
default (``$AGENTNAS_EXECUTOR``, or a local pool). Workers write the shared on-disk
cache; results come back in input order and do not depend on where they ran (every cell
is scored with the same image batch and seed).

A local pool spawns its workers (forking a process that already ran torch threads can
deadlock), so a script calling :func:`score_cells` needs the usual
``if __name__ == "__main__":`` guard. A cell whose scoring still fails after the
executor's retries is scored once more in this process, so the error (if any) is real.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from agentnas.tools.progress import listening
from agentnas.tools.progress import progress as report
from agentnas.tools.proxies.cache import ProxyCache
from agentnas.tools.proxies.proxies import check_proxy_names, representative
from agentnas.tools.proxies.scoring import PROXY_BATCH_SIZE, cached_only, score_cell
from agentnas.tools.spaces.nb201 import normalize

PROGRESS_MIN_CELLS = 4  # below this a bar is noise
PARALLEL_MIN_CELLS = 4  # below this, starting processes (~3 s each) costs more than it saves


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


@dataclass(frozen=True)
class ScoreJob:
    """What a worker needs to score a cell: proxy names, image batch, seed, cache folder;
    for Ray, :meth:`with_data` adds the shipped CIFAR-10 images (object store, once)."""

    names: tuple[str, ...]
    batch_size: int
    seed: int
    cache_root: str
    images: Any = None

    def with_data(self) -> ScoreJob:
        from agentnas.tools.proxies.data import shipped_images

        return ScoreJob(self.names, self.batch_size, self.seed, self.cache_root, shipped_images())


def score_task(job: ScoreJob, cell: str) -> dict[str, float]:
    """Executor task: the proxies of one cell, written to the shared cache."""
    if job.images is not None:
        from agentnas.tools.proxies.data import preload_images

        preload_images(job.images)
    cache = ProxyCache(job.cache_root)
    return score_cell(cell, job.names, batch_size=job.batch_size, seed=job.seed, cache=cache)


def _executor(executor: Any, workers: int | None, n_pending: int) -> tuple[Any, bool]:
    """(executor, whether this call owns it and must close it)."""
    from agentnas.tools.executor import LocalExecutor, default_spec, make_executor

    if executor is not None and not isinstance(executor, str):
        return executor, False
    if n_pending < PARALLEL_MIN_CELLS:
        return LocalExecutor(), True
    if executor is None and workers is not None:
        executor = f"processes:{workers}" if workers > 1 else "local"
    return make_executor(executor or default_spec(expensive=True)), True


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
    executor: Any = None,
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

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=False,
        # under a CLI progress display the scores are reported there instead
        disable=not progress or len(pending) < PROGRESS_MIN_CELLS or listening(),
    )
    with bar:
        task = bar.add_task("scoring cells", total=len(pending))

        def done(i: int, outcome: Any) -> None:
            if outcome.ok:
                results[pending[i]] = outcome.value
                if on_result:
                    on_result(pending[i], outcome.value)
            bar.advance(task)
            report(
                f"zero-cost proxies: {len(results)} of {len(cells)} cells",
                len(results),
                len(cells),
                level="detail",
            )

        if pending:
            ex, owned = _executor(executor, workers, len(pending))
            job = ScoreJob(wanted, batch_size, seed, str(store.root))
            try:
                ex.map(score_task, pending, job, on_done=done)
            finally:
                if owned:
                    ex.close()
        for c in pending:  # failed on the executor: once more here, so a real error shows
            if c not in results:
                results[c] = score_cell(c, wanted, batch_size=batch_size, seed=seed, cache=store)
                if on_result:
                    on_result(c, results[c])
    # remaining cells share a class with a scored one: served from the cache now
    out = []
    for c in cells:
        if c not in results:
            results[c] = score_cell(c, wanted, batch_size=batch_size, seed=seed, cache=store)
        out.append(results[c])
    return out
