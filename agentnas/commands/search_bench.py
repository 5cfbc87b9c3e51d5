"""``agentnas bench search``: the agent loop against baselines on the same budget, all
measured in this one command (HV ratio and IGD on HW-NAS-Bench accuracy-latency fronts)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console(width=140)  # wide enough for the table when piped


def _ms(values: list[float]) -> str:
    sd = statistics.pstdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.4f} ± {sd:.4f}"


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @bench.command("search")
    def search(
        devices: str = typer.Option("eyeriss,fpga,pixel3,raspi4", help="hwnasbench devices"),
        budget: int = typer.Option(100, help="distinct evaluations for every method"),
        seeds: int = typer.Option(3, help="seeds per method"),
        rounds: int = typer.Option(10, help="agent rounds"),
        llm: str = typer.Option("offline", help="agent backend (offline, openai:M, replay:F)"),
        dataset: str = typer.Option("cifar10"),
    ) -> None:
        """HV ratio of the agent loop at BUDGET vs random@BUDGET, NSGA-II@BUDGET and
        NSGA-II@5×BUDGET (the issue's target), same seeds, same command."""
        from agentnas.graph.config import RunConfig
        from agentnas.graph.runner import start_run
        from agentnas.tools.baselines import run_seeds

        table = Table(
            title=f"agent loop ({llm}) vs baselines, {dataset}, HV ratio (mean ± sd, {seeds} seeds)"
        )
        for col in (
            "device",
            f"agent@{budget}",
            f"random@{budget}",
            f"nsga2@{budget}",
            f"nsga2@{5 * budget}",
            "agent / nsga2@5x",
            "agent s/run",
        ):
            table.add_column(col, justify="right")
        for dev in devices.split(","):
            hw = f"hwnasbench:{dev.strip()}"
            agent_hv, secs = [], []
            with tempfile.TemporaryDirectory() as tmp:
                for s in range(seeds):
                    cfg = RunConfig(
                        hardware=hw, dataset=dataset, budget=budget, rounds=rounds, seed=s, llm=llm
                    )
                    t0 = time.perf_counter()
                    summary = start_run(cfg, Path(tmp) / f"run{s}")
                    secs.append(time.perf_counter() - t0)
                    agent_hv.append(summary["hv_ratio"])
            seed_list = list(range(seeds))
            rnd = run_seeds("random", budget, seed_list, dataset, "accuracy,latency", hw)
            ns = run_seeds("nsga2", budget, seed_list, dataset, "accuracy,latency", hw)
            ns5 = run_seeds("nsga2", 5 * budget, seed_list, dataset, "accuracy,latency", hw)
            table.add_row(
                dev,
                _ms(agent_hv),
                _ms(list(rnd.hv_ratios)),
                _ms(list(ns.hv_ratios)),
                _ms(list(ns5.hv_ratios)),
                f"{statistics.fmean(agent_hv) / ns5.hv_mean:.3f}",
                f"{statistics.fmean(secs):.1f}",
            )
            console.print(f"{dev}: done")
        console.print(table)
