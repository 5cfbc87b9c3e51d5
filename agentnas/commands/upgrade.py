"""``agentnas upgrade DIR``: bring a run folder or a knowledge base written by an older
agentnas to today's format (:mod:`agentnas.tools.folder_format`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from agentnas.tools.folder_format import KIND_NAMES, upgrade


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("upgrade")
    def upgrade_command(
        folder: Annotated[Path, typer.Argument(help="a run folder or a knowledge-base folder")],
    ) -> None:
        """Upgrade DIR to the format version this agentnas reads (a no-op when it is)."""
        kind, old, new = upgrade(folder)
        what = KIND_NAMES[kind]
        if old == new:
            Console().print(f"{folder}: {what}, format version {new}; nothing to upgrade")
        else:
            Console().print(f"{folder}: {what} upgraded from format version {old} to {new}")
