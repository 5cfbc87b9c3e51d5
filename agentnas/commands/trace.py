"""``agentnas trace RUN_DIR``: read a run's decisions (prompts, answers, tool calls,
evaluations, KB changes) one line each, filtered, or one event in full as JSON;
``--arch CELL`` shows one cell's lineage tree back to the seeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from agentnas.commands.chat_view import trace_line
from agentnas.graph.run_record import load_run
from agentnas.graph.trace import EVENTS, ROLES, read_trace
from agentnas.graph.why import answer
from agentnas.tools.errors import UserError

console = Console()


def _check_choice(name: str, value: str | None, known: tuple[str, ...], seen: set[str]) -> None:
    """An unknown --event/--role is refused with the valid ones (a known kind that this
    run never wrote is accepted: it just matches nothing)."""
    valid = sorted(set(known) | seen)
    if value is not None and value not in valid:
        raise UserError(f"unknown --{name} '{value}'; valid: {', '.join(valid)}")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command(epilog="Example: agentnas trace runs/20261204-180000 --role designer --last 20")
    def trace(
        run_dir: Path = typer.Argument(..., help="run folder (holds trace.jsonl)"),
        event: str = typer.Option(None, help="only this event kind, e.g. agent_attempt"),
        round_: int = typer.Option(None, "--round", help="only this round"),
        role: str = typer.Option(None, help="only attempts of this role (designer, ...)"),
        last: int = typer.Option(50, help="show the last N matching events (0 = all)"),
        full: int = typer.Option(None, help="print matching event number N in full (JSON)"),
        arch: str = typer.Option(
            None, help="show this cell's lineage tree (a cell string or fN, a front member)"
        ),
    ) -> None:
        """Show what every agent decided and why."""
        if last < 0:
            raise UserError(f"--last takes a number of events >= 0 (0 = all); got {last}")
        path = run_dir / "trace.jsonl"
        if not path.exists():
            raise UserError(f"{run_dir} has no trace.jsonl; give a run folder")
        if arch is not None:
            _lineage(run_dir, arch)
            return
        all_events = read_trace(path)
        _check_choice("event", event, EVENTS, {str(e.get("event")) for e in all_events})
        _check_choice("role", role, ROLES, {str(e["role"]) for e in all_events if e.get("role")})
        events = [
            (i, e)
            for i, e in enumerate(all_events)
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


def _lineage(run_dir: Path, arch: str) -> None:
    record = load_run(run_dir)
    ans = answer(record, arch)
    if ans.kind != "cell":
        raise UserError(f"--arch takes a cell string or fN (a front member); got '{arch}'")
    console.print(ans.text, highlight=False, markup=False, soft_wrap=True)


def _round(e: dict[str, Any]) -> int | None:
    r = e.get("round", (e.get("key") or {}).get("round"))
    return int(r) if r is not None else None
