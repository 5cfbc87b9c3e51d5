"""Progress of long phases, reported from anywhere, shown by whoever listens.

Code that may run for more than a few seconds (evaluating cells, training a photonic
candidate, Monte-Carlo draws, calibrating a predictor, loading the embedding model) calls
:func:`progress`; the CLI installs a sink with :func:`progress_sink` and draws rich
progress bars. With no sink (tests, library use) a call costs one list lookup. ``level``
separates the search's own steps (``"search"``) from the inside of one step
(``"detail"``: epochs, draws), so both show at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Sink = Callable[[str, str, "int | None", "int | None"], None]
"""``sink(level, text, done, total)``; ``done``/``total`` None when not countable."""

_sinks: list[Sink] = []
_lock = threading.Lock()


def progress(
    text: str, done: int | None = None, total: int | None = None, level: str = "search"
) -> None:
    """Tell every listener what is happening now (``done`` of ``total`` when known)."""
    if not _sinks:
        return
    with _lock:
        sinks = list(_sinks)
    for sink in sinks:
        sink(level, text, done, total)


def listening() -> bool:
    """Whether a sink shows progress (code with its own bar then uses :func:`progress`)."""
    return bool(_sinks)


@contextmanager
def progress_sink(sink: Sink) -> Iterator[None]:
    """Listen to :func:`progress` calls (from any thread) while the block runs."""
    with _lock:
        _sinks.append(sink)
    try:
        yield
    finally:
        with _lock:
            _sinks.remove(sink)
