"""``agentnas bench executor``: what spreading work buys on this machine.

For each executor asked for (default ``local,processes:2,ray``) the same three
workloads run in this one command, each on a fresh cache: zero-cost proxy scoring of
NB201 cells, optical evaluation of photonic-mlp designs, and a bench of independent
search runs (seeds); plus the overhead per task of a batch of no-op tasks. Speed-ups are
ratios against ``local`` measured here, in the same command; executor start-up (process
spawn, ``ray.init``) is reported apart from the batches.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from agentnas.commands.progress_view import with_progress
from agentnas.tools.progress import progress

console = Console(width=140)


def _cells(n: int, seed: int) -> list[str]:
    """``n`` NB201 cells of distinct isomorphism classes (none shares a proxy score)."""
    from agentnas.tools.proxies.proxies import representative
    from agentnas.tools.spaces.nb201 import sample

    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        c = sample(rng)[0]
        if representative(c) not in seen:
            seen.add(representative(c))
            out.append(c)
    return out


def _designs(n: int, seed: int, hardware: str, dataset: str) -> list[str]:
    """``n`` distinct photonic-mlp designs the backend can build (infeasible ones, refused
    in microseconds, would flatter the timing)."""
    from agentnas.tools.errors import UserError
    from agentnas.tools.hardware.registry import get_backend
    from agentnas.tools.spaces.registry import get_space

    backend = get_backend(hardware, dataset=dataset, cache=False)
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        arch = get_space("photonic-mlp").sample(rng, 1)[0]
        try:
            backend.hardware_metrics(arch)
        except UserError:
            continue
        if arch not in out:
            out.append(arch)
    return out


def _workloads(args: dict[str, Any], scratch: Path) -> dict[str, Any]:
    """name -> callable(executor, cache_dir) running one workload; returns #tasks."""
    from agentnas.graph.run_task import run_task
    from agentnas.tools.evaluation import Evaluator
    from agentnas.tools.executor import timed_noop
    from agentnas.tools.proxies.cache import ProxyCache
    from agentnas.tools.proxies.parallel import score_cells

    cells = _cells(args["cells"], args["seed"])
    designs = _designs(args["designs"], args["seed"], args["hardware"], args["dataset"])

    def proxies(ex: Any, cache: Path) -> int:
        score_cells(cells, progress=False, cache=ProxyCache(cache / "proxies"), executor=ex)
        return len(cells)

    def optical(ex: Any, cache: Path) -> int:
        ev = Evaluator(
            "photonic-mlp",
            args["dataset"],
            args["hardware"],
            ["accuracy", "energy", "mzi_count"],
            "backend",
            {"cache": False, "draws": args["draws"], "epochs": args["epochs"]},
        )
        outs = ev.evaluate_many(designs, ex)
        bad = [o.error for o in outs if not o.ok and o.kind != "infeasible"]
        if bad:
            raise RuntimeError(f"optical evaluation failed: {bad[0]}")
        return len(designs)

    def runs(ex: Any, cache: Path) -> int:
        fields = {"budget": args["run_budget"], "rounds": 5, "hardware": "hwnasbench:fpga"}
        items = [(f"seed{s}", {**fields, "seed": s}) for s in range(args["runs"])]
        root = cache / "runs"
        root.mkdir(parents=True, exist_ok=True)
        outs = ex.map(run_task, items, str(root))
        if not all(o.ok for o in outs):
            raise RuntimeError(next(o.error for o in outs if not o.ok))
        return len(items)

    def noop(ex: Any, cache: Path) -> int:
        ex.map(timed_noop, list(range(args["noop"])))
        return args["noop"]

    return {"proxy scoring": proxies, "optical eval": optical, "bench of runs": runs, "no-op": noop}


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @bench.command("executor")
    @with_progress
    def executor_bench(
        executors: str = typer.Option("local,processes:2,ray", help="comma-separated specs"),
        cells: int = typer.Option(8, help="NB201 cells scored (distinct classes)"),
        designs: int = typer.Option(8, help="photonic-mlp designs evaluated"),
        runs: int = typer.Option(10, help="independent search runs (seeds) in the bench"),
        run_budget: int = typer.Option(60, help="evaluations per bench run"),
        noop: int = typer.Option(200, help="no-op tasks for the overhead per task"),
        dataset: str = typer.Option("digits", help="optical workload's dataset"),
        hardware: str = typer.Option("optical-mzi:realistic"),
        draws: int = typer.Option(8),
        epochs: int = typer.Option(3),
        seed: int = typer.Option(0),
        only: str = typer.Option("", help="comma-separated workloads to run (default all)"),
    ) -> None:
        """Wall time of each workload on each executor, speed-up over local, overhead."""
        from agentnas.tools.executor import check_executor, make_executor

        specs = [s.strip() for s in executors.split(",") if s.strip()]
        for s in specs:
            check_executor(s)
        args = dict(locals())
        times: dict[str, dict[str, float]] = {}
        counts: dict[str, int] = {}
        startup: dict[str, float] = {}
        with tempfile.TemporaryDirectory() as tmp:
            work = _workloads(args, Path(tmp))
            wanted = [w for w in work if not only or w in only.split(",")]
            for spec in specs:
                t0 = time.perf_counter()
                progress(f"bench executor: starting {spec}")
                with make_executor(spec) as ex:
                    ex.map(_warm, list(range(max(1, ex.workers))))  # start every worker
                    startup[spec] = time.perf_counter() - t0
                    for name in wanted:
                        cache = Path(tmp) / spec.replace(":", "_") / name.replace(" ", "_")
                        cache.mkdir(parents=True)
                        os.environ["AGENTNAS_CACHE_DIR"] = str(cache)
                        progress(f"bench executor: {name} on {spec}")
                        t1 = time.perf_counter()
                        counts[name] = work[name](ex, cache)
                        times.setdefault(name, {})[spec] = time.perf_counter() - t1
                        console.print(f"{spec:>14}  {name:<14} {times[name][spec]:8.2f} s")
        _print(specs, wanted, times, counts, startup)


def _warm(_ctx: Any, item: Any) -> Any:
    """Task that imports torch (what every real task needs) to start a worker fully."""
    import torch

    return int(torch.get_num_threads()) + 0 * item


def _print(
    specs: list[str],
    wanted: list[str],
    times: dict[str, dict[str, float]],
    counts: dict[str, int],
    startup: dict[str, float],
) -> None:
    table = Table(title=f"executors on this machine ({os.cpu_count()} CPUs), wall seconds")
    table.add_column("workload", justify="left")
    table.add_column("tasks", justify="right")
    for s in specs:
        table.add_column(s, justify="right")
        if s != "local" and "local" in specs:
            table.add_column(f"speed-up {s}", justify="right")
    for name in wanted:
        row = [name, str(counts[name])]
        for s in specs:
            t = times[name][s]
            row.append(f"{t:.2f}" if name != "no-op" else f"{1000 * t / counts[name]:.2f} ms/task")
            if s != "local" and "local" in specs:
                row.append(f"{times[name]['local'] / t:.2f}×" if name != "no-op" else "")
        table.add_row(*row)
    start_row = ["start-up", ""]
    for s in specs:
        start_row.append(f"{startup[s]:.2f}")
        if s != "local" and "local" in specs:
            start_row.append("")
    table.add_row(*start_row)
    console.print(table)
