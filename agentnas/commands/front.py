"""`agentnas` commands for front (filled in by its feature)."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this group's commands to the CLI (and its benchmarks to ``bench``)."""
