"""Rich progress bars for :func:`agentnas.tools.progress.progress` calls: one row for the
search's step, one for the inside of a long step (epochs, draws), with elapsed time, so a
long phase is never silent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from agentnas.tools.progress import progress_sink


class _Count(ProgressColumn):
    """``3/8`` when the step is countable, nothing otherwise."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        return Text(f"{int(task.completed)}/{int(task.total)}", style="green")


@contextmanager
def live_progress(console: Console) -> Iterator[Progress]:
    """Show progress while the block runs (nothing is left on screen afterwards)."""
    bars = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        _Count(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def sink(level: str, text: str, done: int | None, total: int | None) -> None:
        if level not in tasks:
            tasks[level] = bars.add_task(text, total=total)
        if level == "search" and "detail" in tasks:  # a new step: its details start over
            bars.update(tasks["detail"], description="", completed=0, total=None)
        bars.update(tasks[level], description=text, completed=done or 0, total=total)

    with bars, progress_sink(sink):
        yield bars
