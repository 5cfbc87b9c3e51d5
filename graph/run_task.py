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
    """Executor task: ``item`` = (folder name under ``root``, RunConfig fields)."""
    from agentnas.graph.config import RunConfig
    from agentnas.graph.runner import start_run

    name, fields = item
    t0 = time.perf_counter()
    summary = start_run(RunConfig.build(**fields), Path(root) / name, executor="local")
    return {**summary, "wall_s": round(time.perf_counter() - t0, 3)}
