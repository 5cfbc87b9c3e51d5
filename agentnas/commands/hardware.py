"""``agentnas hardware list`` and ``agentnas hardware eval``: what each backend can score,
and its numbers for given cells (so a user can check a backend before searching on it)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from agentnas.tools.hardware.base import BackendInfo
from agentnas.tools.hardware.registry import get_backend, list_backends


def backends_table(infos: list[BackendInfo]) -> Table:
    """One row per backend: name, metrics, spaces, source, available (yes/no), why not."""
    table = Table(title="hardware backends", show_lines=False)
    table.add_column("name", no_wrap=True, min_width=24)
    table.add_column("metrics", ratio=1)
    table.add_column("spaces", no_wrap=True)
    table.add_column("source", ratio=2)
    table.add_column("available", no_wrap=True)
    table.add_column("why not")
    for info in infos:
        table.add_row(
            info.name,
            ", ".join(info.metrics) or "-",
            ", ".join(info.spaces),
            info.source,
            "yes" if info.available else "no",
            "" if info.available else info.why_unavailable,
        )
    return table


def resolve_cell(text: str, spaces: tuple[str, ...]) -> str:
    """NB201 cells in canonical spelling (a benchmark index, digits only, is accepted too);
    other spaces' architectures as given, for their backend to validate."""
    if "nb201" not in spaces:
        return text
    from agentnas.tools.spaces.nb201 import index_to_cell, normalize

    return index_to_cell(int(text)) if text.strip().isdigit() else normalize(text)


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add ``agentnas hardware list|eval``."""
    group = typer.Typer(
        help="Hardware backends: list them, evaluate cells on one.", no_args_is_help=True
    )
    app.add_typer(group, name="hardware")

    @group.command("list")
    def list_command() -> None:
        """Every backend the registry knows, its metrics, source and availability."""
        Console(width=max(Console().width, 160)).print(backends_table(list_backends()))

    @group.command("eval")
    def eval_command(
        cells: Annotated[
            list[str],
            typer.Argument(help="cell strings (NB201: '|op~0|+|op~0|op~1|+|…|' or an index)"),
        ],
        hardware: Annotated[
            str, typer.Option("--hardware", "-H", help="backend name, e.g. hwnasbench:fpga")
        ],
    ) -> None:
        """Print every metric of the backend for each cell (latency in ms, energy in mJ)."""
        backend = get_backend(hardware)
        archs = [resolve_cell(c, backend.spaces) for c in cells]
        results = backend.evaluate_many(archs)
        for arch, metrics in zip(archs, results, strict=True):
            values = "  ".join(f"{m}={v:.4f}" for m, v in metrics.items())
            typer.echo(f"{backend.name}  {arch}  {values}")
