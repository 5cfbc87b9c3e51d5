"""One whole search as an executor task, so a bench spreads its runs (seeds, methods,
devices) over a process pool or a Ray cluster with :mod:`agentnas.tools.executor`.

Inside a worker the run evaluates in-process (nested executors are local), so a bench
of runs never oversubscribes the cores. Each run writes its own folder; the task returns
the run's summary (HV ratio, IGD, evaluations, …) and its wall time.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def run_task(root: str, item: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """Executor task: ``item`` = (folder name under ``root``, RunConfig fields). The run
    uses one torch thread whatever the executor, as ``agentnas bench search`` runs its
    jobs: the parallelism is the executor's, and runs one after another in this process
    (``local``) do not have their threads fight over shared cores."""
    import torch

    from agentnas.graph.config import RunConfig
    from agentnas.graph.runner import start_run

    name, fields = item
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    try:
        summary = start_run(RunConfig.build(**fields), Path(root) / name, executor="local")
    finally:
        torch.set_num_threads(threads)
    return {**summary, "wall_s": round(time.perf_counter() - t0, 3)}
