"""``agentnas trace RUN_DIR``: read a run's decisions (prompts, answers, tool calls,
evaluations, KB changes) one line each, filtered, or one event in full as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from agentnas.commands.chat_view import trace_line
from agentnas.graph.trace import read_trace
from agentnas.tools.errors import UserError

console = Console()


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command()
    def trace(
        run_dir: Path = typer.Argument(..., help="run folder (holds trace.jsonl)"),
        event: str = typer.Option(None, help="only this event kind, e.g. agent_attempt"),
        round_: int = typer.Option(None, "--round", help="only this round"),
        role: str = typer.Option(None, help="only attempts of this role (designer, ...)"),
        last: int = typer.Option(50, help="show the last N matching events (0 = all)"),
        full: int = typer.Option(None, help="print matching event number N in full (JSON)"),
    ) -> None:
        """Show what every agent decided and why."""
        if last < 0:
            raise UserError(f"--last takes a number of events >= 0 (0 = all); got {last}")
        path = run_dir / "trace.jsonl"
        if not path.exists():
            raise UserError(f"{run_dir} has no trace.jsonl; give a run folder")
        events = [
            (i, e)
            for i, e in enumerate(read_trace(path))
            if (event is None or e.get("event") == event)
            and (role is None or e.get("role") == role)
            and (round_ is None or _round(e) == round_)
        ]
        if full is not None:
            match = [e for i, e in events if i == full]
            if not match:
                raise UserError(f"no matching event number {full} in {path}")
            console.print_json(json.dumps(match[0], default=str))
            return
        shown = events[-last:] if last else events
        for i, e in shown:
            # markup off: prompts and answers hold brackets ("[0, 1]", "[/...]")
            console.print(f"{i:>5} {trace_line(e)}", highlight=False, markup=False, soft_wrap=True)
        console.print(
            f"{len(shown)} of {len(events)} matching events; `--full N` prints one in full"
        )


def _round(e: dict) -> int | None:
    r = e.get("round", (e.get("key") or {}).get("round"))
    return int(r) if r is not None else None
