"""Rich progress bars for :func:`agentnas.tools.progress.progress` calls: one row for the
search's step, one for the inside of a long step (epochs, draws), with elapsed time, so a
long phase is never silent. ``run`` and ``chat`` (between its pauses) draw them, and every
bench command (:func:`with_progress`)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

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


_drawing: list[Progress] = []  # the display that draws now (at most one per process)


@contextmanager
def live_progress(console: Console | None = None) -> Iterator[Progress]:
    """Show progress while the block runs (nothing is left on screen afterwards). Inside
    another ``live_progress`` (a bench running chat conversations) the outer display
    keeps drawing and this one yields it: two live displays on one terminal garble it."""
    if _drawing:
        yield _drawing[-1]
        return
    bars = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        _Count(),
        TimeElapsedColumn(),
        console=console or Console(),
        transient=True,
    )
    with bars, progress_into(bars):
        yield bars


@contextmanager
def progress_into(bars: Progress) -> Iterator[Progress]:
    """Draw :func:`~agentnas.tools.progress.progress` calls as rows of ``bars`` (a display
    the caller already shows, e.g. a bench's job bar): one row for the search's step, one
    for the inside of a long step."""
    tasks: dict[str, TaskID] = {}
    lock = threading.Lock()  # parallel Designers report at once: one row per level

    def sink(level: str, text: str, done: int | None, total: int | None) -> None:
        with lock:
            if level not in tasks:
                tasks[level] = bars.add_task(text, total=total)
            if level == "search" and "detail" in tasks:  # a new step: details start over
                bars.update(tasks["detail"], description="", completed=0, total=None)
            bars.update(tasks[level], description=text, completed=done or 0, total=total)

    _drawing.append(bars)
    try:
        with progress_sink(sink):
            yield bars
    finally:
        _drawing.remove(bars)


P = ParamSpec("P")
R = TypeVar("R")


def with_progress(command: Callable[P, R]) -> Callable[P, R]:
    """A CLI command whose long phases show progress bars while it runs (the bench
    commands): ``@bench.command(...)`` above ``@with_progress``."""

    @functools.wraps(command)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        with live_progress():
            return command(*args, **kwargs)

    wrapped.shows_progress = True  # type: ignore[attr-defined]
    return wrapped
