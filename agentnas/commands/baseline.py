"""``agentnas baseline``: random search, regularized evolution and/or NSGA-II on any search
space, scored by HV ratio and IGD over several seeds (against the exact front where the
space has one, else against the union front of every run of the command); and
``agentnas bench baselines``: the reference table of all three on the HW-NAS-Bench devices."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from agentnas.commands.front import DatasetOpt, ObjectivesOpt
from agentnas.commands.progress_view import with_progress
from agentnas.tools.baselines import METHODS, BaselineSummary, compare, has_exact_front, run_seeds
from agentnas.tools.benchmark_tables import HWNASBENCH_DEVICES
from agentnas.tools.errors import UserError
from agentnas.tools.exact_front import exact_front
from agentnas.tools.hardware.registry import get_backend
from agentnas.tools.objectives import DEFAULT_OBJECTIVES, parse_objectives
from agentnas.tools.progress import progress
from agentnas.tools.spaces.registry import get_space, resolve_dataset

SeedsOpt = Annotated[int, typer.Option("--seeds", "-s", help="number of seeds (0..n-1)")]


def _summary_table(title: str, rows: list[tuple[str, BaselineSummary]]) -> Table:
    table = Table(title=title)
    for name, justify in [
        ("hardware", "left"),
        ("method", "left"),
        ("budget", "right"),
        ("seeds", "right"),
        ("HV ratio (mean ± std)", "right"),
        ("IGD (mean ± std)", "right"),
    ]:
        table.add_column(name, justify=justify, no_wrap=True)
    for hardware, s in rows:
        table.add_row(
            hardware,
            s.method,
            str(s.budget),
            str(len(s.seeds)),
            f"{s.hv_mean:.4f} ± {s.hv_std:.4f}",
            f"{s.igd_mean:.4f} ± {s.igd_std:.4f}",
        )
    return table


def _print_fronts(summaries: dict[str, BaselineSummary], objs: list) -> None:
    """Size of each run's front and its extreme values, in the objectives' own units."""
    table = Table(title="fronts found (per seed): size, best of each objective")
    for col in ("method", "seed", "front", "infeasible", *(o.name for o in objs)):
        table.add_column(col, justify="right")
    for s in summaries.values():
        for run, size in zip(s.runs, s.front_sizes, strict=True):
            ok = run.F[np.all(np.isfinite(run.F), axis=1)]
            best = [
                f"{ok[:, j].min() * o.sign:.4g}" if len(ok) else "–" for j, o in enumerate(objs)
            ]
            table.add_row(s.method, str(run.seed), str(size), str(run.n_infeasible), *best)
    Console(width=max(Console().width, 120)).print(table)


def _check_seeds(seeds: int) -> list[int]:
    if seeds < 1:
        raise UserError(f"--seeds must be at least 1; got {seeds}")
    return list(range(seeds))


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add ``agentnas baseline`` and ``agentnas bench baselines``."""

    @app.command("baseline")
    def baseline_command(
        method: Annotated[
            str, typer.Option("--method", "-m", help="random, re, nsga2 or all (default)")
        ] = "all",
        hardware: Annotated[
            str | None,
            typer.Option("--hardware", "-H", help="backend (default: the space's own)"),
        ] = None,
        budget: Annotated[
            int, typer.Option("--budget", "-b", help="distinct architectures evaluated")
        ] = 100,
        seeds: Annotated[
            int | None,
            typer.Option(
                "--seeds",
                "-s",
                help="number of seeds 0..n-1 (default 10; 1 on "
                "spaces whose backend trains every candidate)",
            ),
        ] = None,
        dataset: Annotated[
            str | None, typer.Option("--dataset", "-d", help="default: the space's first")
        ] = None,
        objectives: Annotated[
            str | None,
            typer.Option("--objectives", "-o", help="comma-separated; default: the space's"),
        ] = None,
        space: Annotated[
            str,
            typer.Option(help="search space: nb201, photonic-mlp or package.module:Class"),
        ] = "nb201",
    ) -> None:
        """HV ratio and IGD (mean ± std over seeds) of baselines on one space and backend."""
        methods = list(METHODS) if method == "all" else [method]
        if any(m not in METHODS for m in methods):
            raise UserError(
                f"unknown baseline method '{method}'; available: {', '.join(METHODS)}, all"
            )
        sp = get_space(space)
        data = resolve_dataset(sp, dataset)
        seed_list = _check_seeds(seeds if seeds is not None else (
            10 if sp.has_accuracy_table else 1))  # fmt: skip
        objs = parse_objectives(objectives or ",".join(sp.default_objectives))
        hw = hardware or sp.default_hardware
        backend = get_backend(hw) if has_exact_front(sp) else hw
        summaries = compare(methods, budget, seed_list, data, objs, backend, space=space)
        if has_exact_front(sp):
            front = exact_front(sp.name, data, objs, backend)
            what = f"exact front {len(front)} cells ({front.n_distinct} distinct)"
        else:
            what = "HV ratio and IGD against the union front of all runs below"
        title = f"{sp.name} / {data}, {', '.join(o.name for o in objs)} — {what}"
        Console(width=max(Console().width, 120)).print(
            _summary_table(title, [(hw, s) for s in summaries.values()])
        )
        if not has_exact_front(sp):
            _print_fronts(summaries, objs)

    @bench.command("baselines")
    @with_progress
    def bench_baselines(
        seeds: SeedsOpt = 10,
        dataset: DatasetOpt = "cifar10",
        objectives: ObjectivesOpt = DEFAULT_OBJECTIVES,
    ) -> None:
        """Random@100, RE@100, NSGA-II@100 and @500 on every HW-NAS-Bench device."""
        seed_list = _check_seeds(seeds)
        objs = parse_objectives(objectives)
        rows = []
        plan = [("random", 100), ("re", 100), ("nsga2", 100), ("nsga2", 500)]
        for i, device in enumerate(HWNASBENCH_DEVICES):
            backend = get_backend(f"hwnasbench:{device}")
            for j, (method, budget) in enumerate(plan):
                step, total = i * len(plan) + j, len(HWNASBENCH_DEVICES) * len(plan)
                progress(f"bench baselines: {method}@{budget} on {device}", step, total)
                rows.append(
                    (backend.name, run_seeds(method, budget, seed_list, dataset, objs, backend))
                )
        title = f"baselines on NB201 {dataset}, {', '.join(o.name for o in objs)}"
        Console(width=max(Console().width, 120)).print(_summary_table(title, rows))
