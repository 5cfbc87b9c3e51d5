"""``agentnas bench steering``: is steering obeyed? Each scenario runs ``chat --script``
conversations (the script's one line is read at the first pause, after seeding) over
several seeds and measures the share of the cells proposed after it that satisfy what
the line asked for; the same seeds without the line are the baseline, in the same
command.

Scenarios: ``latency under 3 ms`` on hwnasbench:fpga, ``energy below 5 mJ`` on
hwnb360:pi5-onnx (a metric that is not an objective of the run), ``no avg pools near the
output`` on hwnasbench:fpga (edges 3<-0, 3<-1, 3<-2).
"""

from __future__ import annotations

import csv
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from agentnas.commands.progress_view import with_progress
from agentnas.tools.progress import progress

console = Console(width=140)

Check = Callable[[dict[str, str]], bool]


def _no_pool_at_output(row: dict[str, str]) -> bool:
    from agentnas.tools.spaces.nb201 import parse_cell

    ops = parse_cell(row["arch"])
    return "avg_pool_3x3" not in ops[3:]  # edges 3<-0, 3<-1, 3<-2


SCENARIOS: dict[str, tuple[str, str, Check]] = {
    "latency": (
        "hwnasbench:fpga", "keep latency under 3 ms", lambda r: float(r["latency_ms"]) < 3.0
    ),
    "energy": (
        "hwnb360:pi5-onnx", "energy below 5 mJ", lambda r: float(r["energy_mj"]) < 5.0
    ),
    "avoid": ("hwnasbench:fpga", "no avg pools near the output", _no_pool_at_output),
}  # fmt: skip


def scripted_run(cfg: Any, run_dir: Path, lines: list[str]) -> list[dict[str, str]]:
    """One ``chat --script`` conversation, in process, its output discarded; returns the
    rows of ``candidates.csv``."""
    from agentnas.commands import chat
    from agentnas.graph.runner import RunSession

    quiet, saved = Console(file=io.StringIO(), width=200), chat.console
    chat.console = quiet
    session = RunSession.start(cfg, run_dir)
    try:
        chat.ChatLoop(session, script=lines).run()
    finally:
        session.close()
        chat.console = saved
    with open(run_dir / "candidates.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def share_after(rows: list[dict[str, str]], check: Check) -> tuple[float, int]:
    """(share of the cells proposed after the first pause that pass ``check``, how many)."""
    later = [r for r in rows if int(r["round"]) >= 1]
    return (sum(map(check, later)) / len(later) if later else float("nan")), len(later)


def _mean(values: list[float]) -> str:
    sd = statistics.pstdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {sd:.3f}"


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @bench.command(
        "steering", epilog="Example: agentnas bench steering --seeds 10 --budget 60 --rounds 6"
    )
    @with_progress
    def steering(
        seeds: int = typer.Option(10, help="seeds per scenario"),
        budget: int = typer.Option(60, help="distinct evaluations per run"),
        rounds: int = typer.Option(6, help="design rounds per run"),
        scenarios: str = typer.Option("latency,energy,avoid", help="which scenarios"),
        baseline: bool = typer.Option(True, help="also run the same seeds without the line"),
    ) -> None:
        """Obedience: share of the cells proposed after a steering line that satisfy it."""
        from agentnas.graph.config import RunConfig
        from agentnas.tools.errors import UserError

        names = [s.strip() for s in scenarios.split(",") if s.strip()]
        unknown = [n for n in names if n not in SCENARIOS]
        if unknown:
            raise UserError(f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}")
        table = Table(title=f"steering obedience ({seeds} seeds, budget {budget}, {rounds} rounds)")
        for col in ("scenario", "hardware", "line", "share obeyed", "min", "cells after",
                    "without the line", "ratio", "s/run"):  # fmt: skip
            table.add_column(col, justify="right")
        for name in names:
            hardware, line, check = SCENARIOS[name]
            got, base, counts, secs = [], [], [], []
            with tempfile.TemporaryDirectory() as tmp:
                for s in range(seeds):
                    cfg = RunConfig(hardware=hardware, budget=budget, rounds=rounds, seed=s)
                    t0 = time.perf_counter()
                    progress(f"bench steering: {name}, seed {s + 1} of {seeds}")
                    share, n = share_after(scripted_run(cfg, Path(tmp) / f"s{s}", [line]), check)
                    secs.append(time.perf_counter() - t0)
                    got.append(share)
                    counts.append(n)
                    if baseline:
                        progress(
                            f"bench steering: {name}, seed {s + 1} of {seeds}, without the line"
                        )
                        rows = scripted_run(cfg, Path(tmp) / f"b{s}", [])
                        base.append(share_after(rows, check)[0])
                    console.print(f"{name} seed {s}: {share:.3f} of {n} cells", highlight=False)
            ratio = statistics.fmean(got) / statistics.fmean(base) if base else float("nan")
            table.add_row(
                name, hardware, line, _mean(got), f"{min(got):.3f}", str(sum(counts)),
                _mean(base) if base else "–", f"{ratio:.2f}" if base else "–",
                f"{statistics.fmean(secs):.1f}",
            )  # fmt: skip
        console.print(table)
