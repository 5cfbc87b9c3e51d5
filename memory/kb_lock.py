"""One knowledge-base folder, several processes: every operation under one file lock.

Chroma's local database is safe for one process only: each process keeps its own
in-memory vector index, so a run that adds a heuristic leaves the other runs' indexes
stale, and their next query fails ("Error finding id") or misses rows. Two runs sharing
``--kb`` therefore take turns: every read or write holds an exclusive ``flock`` on
``DIR/.agentnas-kb.lock``, and a writer bumps the generation number in
``DIR/.agentnas-kb.generation`` before it lets go. A process that finds the generation
changed since its last turn reopens its client first, so it sees exactly what the others
wrote. A single run pays one ``stat``-sized read per operation; KB operations are a few
per round, so the serialisation costs nothing a search would notice.

Without ``fcntl`` (Windows) there is no lock: one run per KB folder, as before.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".agentnas-kb.lock"
GENERATION_NAME = ".agentnas-kb.generation"
APPLIED_NAME = ".agentnas-kb.applied"  # one line per run step whose changes are stored
HIDDEN = (LOCK_NAME, GENERATION_NAME, APPLIED_NAME)
"""Files of ours in a KB folder that are not Chroma's (a read-only copy skips them)."""

F = TypeVar("F", bound=Callable[..., Any])


class FolderLock:
    """Reentrant (per thread) exclusive lock on a KB folder, with the writers' generation."""

    def __init__(self, folder: Path, reopen: Callable[[], None]) -> None:
        self.folder = folder
        self._reopen = reopen
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._wrote = False
        self._fh: Any = None
        self.seen = self._generation()

    def _generation(self) -> int:
        try:
            return int((self.folder / GENERATION_NAME).read_text().strip() or 0)
        except (OSError, ValueError):
            return 0

    @contextmanager
    def held(self, write: bool) -> Iterator[None]:
        with self._thread_lock:
            if self._depth == 0:
                self._acquire()
            self._depth += 1
            self._wrote = self._wrote or write
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._release()

    def _acquire(self) -> None:
        if fcntl is not None:
            self._fh = (self.folder / LOCK_NAME).open("a")
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX)
        now = self._generation()
        if now != self.seen:  # another process wrote: our index is stale
            self._reopen()
            self.seen = now

    def _release(self) -> None:
        try:
            if self._wrote:
                self.seen = self._generation() + 1
                path = self.folder / GENERATION_NAME
                tmp = path.with_name(path.name + ".tmp")
                tmp.write_text(f"{self.seen}\n")
                tmp.replace(path)
        finally:
            self._wrote = False
            if self._fh is not None:
                self._fh.close()  # releases the flock
                self._fh = None


def shared(write: bool) -> Callable[[F], F]:
    """Method decorator: run under the instance's :class:`FolderLock` (``self._folder_lock``;
    ``None`` for a private read-only copy, which needs none)."""

    def wrap(method: F) -> F:
        @functools.wraps(method)
        def inner(self: Any, *args: Any, **kwargs: Any) -> Any:
            lock = getattr(self, "_folder_lock", None)
            if lock is None:
                return method(self, *args, **kwargs)
            with lock.held(write):
                return method(self, *args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap
