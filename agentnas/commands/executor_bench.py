"""``agentnas bench executor``: what spreading work buys on this machine.

For each executor asked for (default ``local,processes:2,ray``) the same three
workloads run in this one command, each on a fresh cache: zero-cost proxy scoring of
NB201 cells, optical evaluation of photonic-mlp designs, and a bench of independent
search runs (seeds); plus the overhead per task of a batch of no-op tasks. Speed-ups are
ratios against ``local`` measured here, in the same command; executor start-up (process
spawn, ``ray.init``) and each worker's first task of a workload (its imports, data and
model loads: ``--warm-up``, on items apart from the timed ones) are reported apart from
the timed batches.
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


def _workloads(args: dict[str, Any], warm: int) -> dict[str, Any]:
    """name -> (callable(executor, cache_dir, items) running a batch, timed items, warm-up
    items). The ``warm`` warm-up items (one per worker at most) are drawn after the timed
    ones: the timed items do not depend on ``warm``, and no cache answers a timed task."""
    from agentnas.graph.run_task import run_task
    from agentnas.tools.evaluation import Evaluator
    from agentnas.tools.executor import timed_noop
    from agentnas.tools.proxies.cache import ProxyCache
    from agentnas.tools.proxies.parallel import score_cells

    cells = _cells(args["cells"] + warm, args["seed"])
    designs = _designs(args["designs"] + warm, args["seed"], args["hardware"], args["dataset"])
    fields = {"budget": args["run_budget"], "rounds": 5, "hardware": "hwnasbench:fpga"}
    runs = [(f"seed{s}", {**fields, "seed": s}) for s in range(args["runs"])]
    # warm-up runs: other seeds, the smallest budget that still runs every round
    warm_runs = [(f"warm{s}", {**fields, "budget": 10, "seed": 1000 + s}) for s in range(warm)]

    def proxies(ex: Any, cache: Path, items: list[str]) -> None:
        score_cells(items, progress=False, cache=ProxyCache(cache / "proxies"), executor=ex)

    def optical(ex: Any, cache: Path, items: list[str]) -> None:
        ev = Evaluator(
            "photonic-mlp",
            args["dataset"],
            args["hardware"],
            ["accuracy", "energy", "mzi_count"],
            "backend",
            {"cache": False, "draws": args["draws"], "epochs": args["epochs"]},
        )
        outs = ev.evaluate_many(items, ex)
        bad = [o.error for o in outs if not o.ok and o.kind != "infeasible"]
        if bad:
            raise RuntimeError(f"optical evaluation failed: {bad[0]}")

    def bench_runs(ex: Any, cache: Path, items: list[tuple[str, dict[str, Any]]]) -> None:
        root = cache / "runs"
        root.mkdir(parents=True, exist_ok=True)
        outs = ex.map(run_task, items, str(root))
        if not all(o.ok for o in outs):
            raise RuntimeError(next(o.error for o in outs if not o.ok))

    def noop(ex: Any, cache: Path, items: list[int]) -> None:
        ex.map(timed_noop, items)

    return {
        "proxy scoring": (proxies, cells[: args["cells"]], cells[args["cells"] :]),
        "optical eval": (optical, designs[: args["designs"]], designs[args["designs"] :]),
        "bench of runs": (bench_runs, runs, warm_runs),
        "no-op": (noop, list(range(args["noop"])), []),
    }


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
        warm_up: bool = typer.Option(
            True,
            help="before each timed batch, one untimed task per worker on other items (a "
            "worker's first task imports and loads its stack); reported as warm-up",
        ),
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
        warmup: dict[str, float] = {}
        # warm-up items for the largest pool asked for; each executor uses one per worker
        work = _workloads(args, warm=max(_workers(s) for s in specs) if warm_up else 0)
        wanted = [w for w in work if not only or w in only.split(",")]
        with tempfile.TemporaryDirectory() as tmp:
            for spec in specs:
                t0 = time.perf_counter()
                progress(f"bench executor: starting {spec}")
                with make_executor(spec) as ex:
                    ex.map(_warm, list(range(max(1, ex.workers))))  # start every worker
                    startup[spec] = time.perf_counter() - t0
                    warmup[spec] = 0.0
                    for name in wanted:
                        fn, items, warm_items = work[name]
                        cache = Path(tmp) / spec.replace(":", "_") / name.replace(" ", "_")
                        cache.mkdir(parents=True)
                        os.environ["AGENTNAS_CACHE_DIR"] = str(cache)
                        progress(f"bench executor: {name} on {spec}")
                        t1 = time.perf_counter()
                        if warm_items:  # a worker's first task imports and loads its stack
                            fn(ex, cache, warm_items[: ex.workers])
                        t2 = time.perf_counter()
                        fn(ex, cache, items)
                        counts[name] = len(items)
                        times.setdefault(name, {})[spec] = time.perf_counter() - t2
                        warmup[spec] += t2 - t1
                        console.print(f"{spec:>14}  {name:<14} {times[name][spec]:8.2f} s")
        _print(specs, wanted, times, counts, {"start-up": startup, "warm-up": warmup})


def _workers(spec: str) -> int:
    """Workers an executor spec will have here (before starting it)."""
    kind, _, arg = spec.partition(":")
    if kind == "local":
        return 1
    if kind == "processes" and arg:
        return int(arg)
    return max(1, os.cpu_count() or 1)  # a pool or a private Ray instance: every CPU


def _warm(_ctx: Any, item: Any) -> Any:
    """Task that imports torch (what every real task needs) to start a worker fully."""
    import torch

    return int(torch.get_num_threads()) + 0 * item


def _print(
    specs: list[str],
    wanted: list[str],
    times: dict[str, dict[str, float]],
    counts: dict[str, int],
    fixed: dict[str, dict[str, float]],
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
    for label, seconds in fixed.items():  # start-up; warm-up (all workloads)
        row = [label, ""]
        for s in specs:
            row.append(f"{seconds[s]:.2f}")
            if s != "local" and "local" in specs:
                row.append("")
        table.add_row(*row)
    console.print(table)
