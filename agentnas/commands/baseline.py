"""``agentnas baseline``: random search, regularized evolution or NSGA-II on NAS-Bench-201,
scored by HV ratio and IGD against the exact front over several seeds; and
``agentnas bench baselines``: the reference table of all three on the HW-NAS-Bench devices."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from agentnas.commands.front import DatasetOpt, ObjectivesOpt
from agentnas.tools.baselines import METHODS, BaselineSummary, run_seeds
from agentnas.tools.benchmark_tables import HWNASBENCH_DEVICES
from agentnas.tools.errors import UserError
from agentnas.tools.exact_front import exact_front
from agentnas.tools.hardware.registry import get_backend
from agentnas.tools.objectives import DEFAULT_OBJECTIVES, parse_objectives

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


def _check_seeds(seeds: int) -> list[int]:
    if seeds < 1:
        raise UserError(f"--seeds must be at least 1; got {seeds}")
    return list(range(seeds))


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add ``agentnas baseline`` and ``agentnas bench baselines``."""

    @app.command("baseline")
    def baseline_command(
        method: Annotated[str, typer.Option("--method", "-m", help="random, re or nsga2")],
        hardware: Annotated[
            str, typer.Option("--hardware", "-H", help="backend, e.g. hwnasbench:fpga")
        ],
        budget: Annotated[
            int, typer.Option("--budget", "-b", help="distinct architectures evaluated")
        ] = 100,
        seeds: SeedsOpt = 10,
        dataset: DatasetOpt = "cifar10",
        objectives: ObjectivesOpt = DEFAULT_OBJECTIVES,
    ) -> None:
        """HV ratio and IGD (mean ± std over seeds) of one baseline, against the exact front."""
        if method not in METHODS:
            raise UserError(f"unknown baseline method '{method}'; available: {', '.join(METHODS)}")
        seed_list = _check_seeds(seeds)
        objs = parse_objectives(objectives)
        backend = get_backend(hardware)
        summary = run_seeds(method, budget, seed_list, dataset, objs, backend)
        front = exact_front("nb201", dataset, objs, backend)
        title = (
            f"{dataset}, {', '.join(o.name for o in objs)} — exact front {len(front)} cells "
            f"({front.n_distinct} distinct)"
        )
        Console(width=max(Console().width, 120)).print(
            _summary_table(title, [(backend.name, summary)])
        )

    @bench.command("baselines")
    def bench_baselines(
        seeds: SeedsOpt = 10,
        dataset: DatasetOpt = "cifar10",
        objectives: ObjectivesOpt = DEFAULT_OBJECTIVES,
    ) -> None:
        """Random@100, RE@100, NSGA-II@100 and @500 on every HW-NAS-Bench device."""
        seed_list = _check_seeds(seeds)
        objs = parse_objectives(objectives)
        rows = []
        for device in HWNASBENCH_DEVICES:
            backend = get_backend(f"hwnasbench:{device}")
            for method, budget in [("random", 100), ("re", 100), ("nsga2", 100), ("nsga2", 500)]:
                rows.append(
                    (backend.name, run_seeds(method, budget, seed_list, dataset, objs, backend))
                )
        title = f"baselines on NB201 {dataset}, {', '.join(o.name for o in objs)}"
        Console(width=max(Console().width, 120)).print(_summary_table(title, rows))
