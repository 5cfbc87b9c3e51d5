"""``agentnas run``: an autonomous search, with a live table per round."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from agentnas.commands.progress_view import live_progress
from agentnas.commands.run_options import (
    ExecutorOpt,
    ResumeOpt,
    refuse_with_resume,
    run_config,
    with_run_options,
)
from agentnas.commands.run_text import done_line, fmt_value, new_run_dir, start_line
from agentnas.graph.budgets import cap_line, expected_line
from agentnas.tools.csv_units import column
from agentnas.tools.errors import UserError

console = Console()


COLUMNS_HELP = (
    "columns: evals = cells evaluated so far; front = cells no other evaluated cell beats "
    "on every objective; HV ratio = hypervolume of that front / of the exact front (1 = "
    "all of it); IGD = mean distance from the exact front to the found one (0 = all of "
    "it); – = not known for this space"
)


def pick_example(run_dir: Path, objectives: list[str], space: str) -> str:
    """A ``pick --where`` condition for this run: its first cost objective under the
    front's median, named and scaled as ``front.csv`` shows it (``energy_nj < 20`` on
    photonic-mlp), so it keeps some front members and not all; a fixed accuracy bound
    when the front has no such column."""
    for metric in (m for m in ("latency_ms", "energy_mj") if m in objectives):
        name = column(metric, space)[0]
        values = sorted(float(r[name]) for r in _front_rows(run_dir) if r.get(name))
        if values and values[len(values) // 2] > 0:
            return f"{name} < {_round_up(values[len(values) // 2]):g}"
    return "accuracy > 90"


def _front_rows(run_dir: Path) -> list[dict[str, str]]:
    try:
        with (run_dir / "front.csv").open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    except (OSError, csv.Error):
        return []


def _round_up(value: float) -> float:
    """``value`` rounded up to 2 significant digits (19.23 -> 20, 0.0342 -> 0.035)."""
    step = 10.0 ** (math.floor(math.log10(value)) - 1)
    return float(f"{math.ceil(round(value / step, 9)) * step:.2g}")


def results_help(run_dir: Path, objectives: list[str], space: str = "") -> str:
    """Where the results are and what to do with them (printed once at the end)."""
    where = pick_example(run_dir, objectives, space)
    return (
        f"results: {run_dir}/front.csv (the front), candidates.csv (every evaluation), "
        f"rounds.csv (per round), summary.json, trace.jsonl\n"
        f"next: agentnas report {run_dir} · agentnas why {run_dir} f1 · "
        f"agentnas pick {run_dir} --where '{where}'"
    )


def print_steer(round_: int, actions: list[Any]) -> None:
    """One line per steering action that reached an autonomous run (``agentnas steer``)."""
    from agentnas.agents.steering import SteerContext, describe

    for line in describe(actions, SteerContext(round=round_)):
        console.print(f"steer at round {round_}: {line}", highlight=False, markup=False)


class RoundTable:
    """Prints one row per finished round (evaluations, front, HV ratio, IGD, LLM calls);
    optical runs add the front's best robust accuracy, lowest energy, mean degradation
    and fewest MZIs."""

    OPTICAL = (
        ("robust acc %", "robust_accuracy_pct", ".2f"),
        ("energy nJ", "energy_nj", ".4g"),
        ("degr. pp", "degradation_pp", "+.2f"),
        ("MZIs", "mzi_count", ".0f"),
    )

    def __init__(self, title: str) -> None:
        self.title = title
        self.header_done = False

    def __call__(self, stats: dict[str, Any]) -> None:
        table = Table(
            title=self.title if not self.header_done else None,
            show_header=not self.header_done,
            box=None,
            pad_edge=False,
        )
        optical = [c for c in self.OPTICAL if c[1] in stats]
        for name, width in (
            ("round", 5),
            ("evals", 6),
            ("front", 6),
            ("HV ratio", 9),
            ("IGD", 8),
            ("LLM calls", 9),
            ("fallbacks", 9),
            *[(label, 12) for label, _, _ in optical],
        ):
            table.add_column(name, justify="right", width=width)
        table.add_row(
            str(stats["round"]),
            str(stats["evaluations"]),
            str(stats["front_size"]),
            fmt_value(stats["hv_ratio"], ".4f"),
            fmt_value(stats["igd"], ".4f"),
            str(stats["llm_calls"]),
            str(stats["fallbacks"]),
            *[fmt_value(stats[key], spec) for _, key, spec in optical],
        )
        console.print(table)
        if stats.get("constraint"):  # the constrained front next to the unconstrained one
            console.print(
                f"      under {stats['constraint']}: front {stats.get('front_constrained_size')}"
                f", HV ratio {fmt_value(stats.get('hv_ratio_constrained'), '.4f')}, IGD "
                f"{fmt_value(stats.get('igd_constrained'), '.4f')} ({stats.get('feasible')} cells "
                f"satisfy it)",
                highlight=False,
            )
        if stats.get("dry_partitions"):
            console.print(
                f"      {stats['dry_partitions']}: no cell left that keeps the constraints and "
                f"rules; their share goes to the other partitions",
                highlight=False,
            )
        self.header_done = True


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command()
    @with_run_options
    def run(
        settings: dict[str, Any], resume: ResumeOpt = None, executor: ExecutorOpt = None
    ) -> None:
        """Run the multi-agent search and write RUN_DIR/ (trace, checkpoints, fronts)."""
        from agentnas.api import search
        from agentnas.tools.executor import check_executor

        check_executor(executor)  # an unknown executor is refused before anything else
        if resume is not None:
            caps = refuse_with_resume(settings)
            console.print(f"resuming [bold]{resume}[/]")
            run_dir = resume
            line = resume_estimate(resume, caps)
        else:
            cfg = run_config(settings)
            run_dir = new_run_dir(settings["out"])
            console.print(start_line("agentnas run", cfg, run_dir))
            line = expected_line(cfg) if cfg.llm != "offline" else None
        if line:  # the calls and tokens an LLM run expects, before it starts
            console.print(line, highlight=False, markup=False)
        console.print(COLUMNS_HELP, highlight=False)
        try:
            with live_progress(console):
                if resume is not None:
                    result = search(
                        resume=resume,
                        on_round=RoundTable(f"agentnas run {resume}"),
                        executor=executor,
                        on_steer=print_steer,
                        **caps,
                    )
                else:
                    result = search(
                        config=cfg,
                        out=run_dir,
                        on_round=RoundTable("agentnas run"),
                        executor=executor,
                        on_steer=print_steer,
                    )
                summary = result.summary
        except KeyboardInterrupt:
            if (run_dir / "config.json").exists():
                console.print(
                    f"interrupted; continue with: agentnas run --resume {run_dir}", soft_wrap=True
                )
            else:
                console.print("interrupted before the run started; nothing to resume")
            raise
        if not summary:
            raise UserError(f"run in {run_dir} did not finish")
        console.print(done_line(summary, run_dir))
        console.print(
            results_help(run_dir, summary.get("objectives") or [], str(summary.get("space", ""))),
            highlight=False,
        )
        for line in to_measure_lines(summary):  # cell strings unwrapped, to copy whole
            console.print(line, highlight=False, markup=False, soft_wrap=line.startswith(" "))
        from agentnas.graph.llm_usage import usage_line

        for extra in (usage_line(summary), cap_line(summary), cost_line(summary)):
            if extra:
                console.print(extra, highlight=False, markup=False)


def to_measure_lines(summary: dict[str, Any]) -> list[str]:
    """The run's last lines on a partial table: what was predicted, what the HV ratio is
    measured against, and the front cells to measure next (also in summary.json)."""
    info = summary.get("predicted_hardware")
    if not info:
        return []
    metrics = ", ".join(info["metrics"])
    cells = info["front_to_measure"]
    lines = [
        f"{metrics}: {info.get('measured_cells', '?')} cells measured, the rest predicted "
        f"({info['evaluations_predicted']} of this run's evaluations); reference: "
        f"{info['reference']}",
        f"front cells with predicted {metrics}, to measure ({len(cells)}; "
        "summary.json: predicted_hardware.front_to_measure):",
    ]
    return lines + [f"  {arch}" for arch in cells] if cells else lines[:1]


def resume_estimate(run_dir: Path, caps: dict[str, Any]) -> str | None:
    """The expected use of the rest of an LLM run (with the caps as raised), or None for
    an offline run or a folder that is no run (the resume itself then says why)."""
    from agentnas.graph.budgets import raise_caps, remaining_line
    from agentnas.graph.runner import read_config

    try:
        cfg = raise_caps(read_config(run_dir), caps)
    except UserError:
        return None
    return remaining_line(run_dir, cfg) if cfg.llm != "offline" else None


def cost_line(summary: dict[str, Any]) -> str | None:
    """An LLM run's tokens per role (and its cost, with a price table) in one line."""
    if not summary.get("is_llm"):
        return None
    roles = ", ".join(
        f"{r} {u['tokens_in'] + u['tokens_out']:,}"
        for r, u in (summary.get("llm_usage_by_role") or {}).items()
    )
    line = f"tokens: {summary.get('tokens_in', 0):,} in, {summary.get('tokens_out', 0):,} out"
    line += f" ({roles})" if roles else ""
    if summary.get("cost_usd") is not None:
        line += f", ${summary['cost_usd']:.4f} at the price table"
    return line
