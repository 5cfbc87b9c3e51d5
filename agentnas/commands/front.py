"""``agentnas front``: the exact Pareto front of NAS-Bench-201 for a dataset, objectives and
hardware backend (every one of the 15,625 cells scored), as a table or CSV."""

from __future__ import annotations

import csv
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from agentnas.tools.atomic_io import round_sig
from agentnas.tools.errors import UserError
from agentnas.tools.exact_front import ExactFront, exact_front
from agentnas.tools.hardware.registry import get_backend
from agentnas.tools.objectives import DEFAULT_OBJECTIVES, parse_objectives

FORMATS = ("table", "csv")

DatasetOpt = Annotated[
    str, typer.Option("--dataset", "-d", help="cifar10, cifar100 or ImageNet16-120")
]
HardwareOpt = Annotated[
    str | None,
    typer.Option("--hardware", "-H", help="backend, e.g. hwnasbench:fpga (for latency/energy)"),
]
ObjectivesOpt = Annotated[
    str,
    typer.Option(
        "--objectives",
        "-o",
        help="2 or 3 of accuracy, latency, energy, params, flops, mzi_count (comma-separated)",
    ),
]


def front_csv_rows(front: ExactFront) -> list[list[str]]:
    """Header, then one row per member: arch_idx, arch_str, objective values (natural
    units: accuracy %, latency ms, energy mJ, params/FLOPs in millions), 4 significant
    digits like every CSV agentnas writes."""
    rows = [["arch_idx", "arch_str", *(o.metric for o in front.objectives)]]
    for i, cell, values in zip(front.indices, front.cells, front.natural(), strict=True):
        rows.append([str(int(i)), cell, *(str(round_sig(float(v))) for v in values)])
    return rows


def front_table(front: ExactFront) -> Table:
    title = (
        f"exact front: {front.dataset}, {front.backend or 'no backend'} — {len(front)} cells, "
        f"{front.n_distinct} distinct points (of 15,625)"
    )
    table = Table(title=title)
    table.add_column("arch_idx", justify="right")
    table.add_column("arch_str", no_wrap=True)
    for o in front.objectives:
        table.add_column(f"{o.metric} ({o.direction})", justify="right")
    for i, cell, values in zip(front.indices, front.cells, front.natural(), strict=True):
        table.add_row(str(int(i)), cell, *(f"{v:.4f}" for v in values))
    return table


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add ``agentnas front``."""

    @app.command("front")
    def front_command(
        dataset: DatasetOpt = "cifar10",
        hardware: HardwareOpt = None,
        objectives: ObjectivesOpt = DEFAULT_OBJECTIVES,
        fmt: Annotated[str, typer.Option("--format", "-f", help="table or csv")] = "table",
    ) -> None:
        """Print the exact front (members sorted by the first objective, best first)."""
        if fmt not in FORMATS:
            raise UserError(f"unknown format '{fmt}'; available: {', '.join(FORMATS)}")
        objs = parse_objectives(objectives)
        backend = get_backend(hardware) if hardware else None
        front = exact_front("nb201", dataset, objs, backend)
        if fmt == "csv":
            csv.writer(sys.stdout, lineterminator="\n").writerows(front_csv_rows(front))
        else:
            Console(width=max(Console().width, 140)).print(front_table(front))
