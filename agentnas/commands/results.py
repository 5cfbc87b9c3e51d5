"""Using a run's result: ``agentnas report`` (report.md and plots), ``agentnas pick``
(the best cell under conditions), ``agentnas export`` (a cell as a PyTorch module or
JSON) and ``agentnas runs`` (the run folders, with settings and headline figures)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from agentnas.graph.pick import EXAMPLE, parse_conditions, pick
from agentnas.graph.run_index import DEFAULT_RUNS_DIR, run_folders, run_row
from agentnas.graph.run_record import load_run
from agentnas.graph.why import resolve_target
from agentnas.graph.why_format import metrics_text
from agentnas.tools.atomic_io import write_text_atomic
from agentnas.tools.errors import UserError
from agentnas.tools.export import FORMATS, export_text

console = Console()
RUN = "runs/20261204-180000"


def _cell(value: object) -> str:
    if value is None or value == "":
        return "–"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command(epilog=f"Example: agentnas report {RUN}")
    def report(run_dir: Path = typer.Argument(..., help="run folder")) -> None:
        """Write RUN_DIR/report.md and its plots (RUN_DIR/plots/*.png)."""
        from agentnas.graph.report import write_report

        with console.status("drawing the report (front, rounds, partitions)…"):
            path = write_report(run_dir)
        console.print(f"report: {path} (plots in {path.parent / 'plots'}/)")

    @app.command(name="pick", epilog=f"Example: agentnas pick {RUN} --where 'latency_ms < 3'")
    def pick_cmd(
        run_dir: Path = typer.Argument(..., help="run folder"),
        where: str = typer.Option(..., help=f"conditions, e.g. '{EXAMPLE}' (units: ms, s, mJ, %)"),
        json_out: bool = typer.Option(False, "--json", help="print the cell as JSON"),
    ) -> None:
        """Print the best evaluated cell that satisfies --where (highest accuracy, ties by
        the other objectives)."""
        record = load_run(run_dir)
        best = pick(record, parse_conditions(where, record))
        if json_out:
            print(json.dumps({**best, "front": record.front_label(best["arch"])}, default=str))
            return
        label = record.front_label(best["arch"])
        console.print(best["arch"], highlight=False, markup=False, soft_wrap=True)
        console.print(
            f"  {metrics_text(record, best['metrics'])}; round {best['round']}, partition "
            f"p{best['partition']}"
            + (f", front member {label}" if label else ", not on the front"),
            highlight=False,
            markup=False,
        )
        console.print(
            f"  export it: agentnas export {run_dir} '{best['arch']}' --format torch",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )

    @app.command(epilog=f"Example: agentnas export {RUN} f1 --format torch --out net.py")
    def export(
        run_dir: Path = typer.Argument(..., help="run folder"),
        cell: str = typer.Argument(..., help="a cell string evaluated in the run, or fN"),
        format_: str = typer.Option("torch", "--format", help=" | ".join(FORMATS)),
        out: Path = typer.Option(None, help="file to write (default: print it)"),
    ) -> None:
        """Write a cell as a PyTorch module that builds the network (NB201: with its
        index), or as JSON."""
        if format_ not in FORMATS:
            raise UserError(f"unknown --format '{format_}'; accepted: {', '.join(FORMATS)}")
        record = load_run(run_dir)
        kind, arch = resolve_target(record, cell)
        if kind != "cell":
            raise UserError(f"give a cell string or fN (a front member); got '{cell}'")
        c = record.by_arch[str(arch)]
        info = {
            "metrics": {k: round(float(v), 6) for k, v in c["metrics"].items()},
            "run": str(run_dir),
            "round": c["round"],
            "partition": c["partition"],
        }
        cfg = record.config
        text, _suffix = export_text(
            str(cfg.get("space", "nb201")), str(arch), format_, str(cfg.get("dataset") or ""), info
        )
        if out is None:
            print(text, end="")
            return
        write_text_atomic(out, text)
        console.print(f"wrote {out} ({format_}) for {arch}", highlight=False, markup=False)

    @app.command(epilog="Example: agentnas runs runs/")
    def runs(
        root: Path = typer.Argument(DEFAULT_RUNS_DIR, help="folder that holds run folders"),
    ) -> None:
        """List run folders with their settings and headline figures (oldest first)."""
        folders = run_folders(root)
        if not folders:
            raise UserError(f"no run folders in {root} (a run folder holds config.json)")
        out = Console()  # created here: the terminal's width now
        table = Table(title=f"runs in {root}", box=None, pad_edge=False, title_justify="left")
        cols = (
            "run",
            "space",
            "hardware",
            "llm",
            "seed",
            "evals",
            "rounds",
            "front",
            "HV ratio",
            "IGD",
            "state",
        )
        for col in cols:
            table.add_column(col, justify="left" if col in ("run", "hardware", "llm") else "right")
        for path in folders:
            r = run_row(path)
            name = str(path.relative_to(root)) if path != Path(root) else str(path)
            table.add_row(
                name,
                _cell(r["space"]),
                _cell(r["hardware"]),
                _cell(r["llm"]),
                _cell(r["seed"]),
                f"{_cell(r['evaluations'])}/{_cell(r['budget'])}",
                _cell(r["rounds"]),
                _cell(r["front"]),
                _cell(r["hv_ratio"]),
                _cell(r["igd"]),
                r["state"],
            )
        out.print(table)
