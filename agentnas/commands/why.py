"""``agentnas why RUN_DIR TARGET``: answer a question about a run from its trace and
candidates (a cell's lineage, a partition's limits, a round's changes); changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from agentnas.graph.why import why as answer_why

console = Console()


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command(epilog="Example: agentnas why runs/20261204-180000 p5")
    def why(
        run_dir: Path = typer.Argument(..., help="run folder (holds trace.jsonl)"),
        target: str = typer.Argument(
            ...,
            help="a cell string, fN (N-th front member, from 1), pN (partition), rN (round)",
        ),
        json_out: bool = typer.Option(False, "--json", help="print the answer as JSON"),
    ) -> None:
        """Why a cell was chosen (its lineage), what limits a partition, what a round did.

        TARGET: a cell string, f1 (first front member), p5 (partition 5), r3 (round 3)."""
        ans = answer_why(run_dir, target)
        if json_out:
            print(json.dumps(ans.to_json(), default=str, ensure_ascii=False, indent=1))
            return
        # markup off: cell strings and rationales hold brackets
        console.print(ans.text, highlight=False, markup=False, soft_wrap=True)
