"""Process trees read from /proc (Linux): which processes a process started, and whether
they are still there. Tests use it to find a worker to kill and to check that nothing
outlives an interrupted run. A process is named by (pid, start time) so a recycled pid
is not mistaken for the one seen before."""

from __future__ import annotations

import threading
import time
from pathlib import Path

PROC = Path("/proc")
HAS_PROC = (PROC / "self" / "stat").exists()


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time in clock ticks), or None when gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name in (...) may hold spaces
    return fields[0], int(fields[1]), int(fields[19])


def cmdline(pid: int) -> str:
    """The command line (a Ray worker's shows its title, e.g. ``ray::_ray_task``)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def descendants(root: int) -> dict[int, int]:
    """pid -> start time of every living process below ``root``."""
    parent: dict[int, int] = {}
    start: dict[int, int] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            got = _stat(int(entry.name))
            if got is not None and got[0] != "Z":
                parent[int(entry.name)] = got[1]
                start[int(entry.name)] = got[2]
    found: dict[int, int] = {}
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        for child, ppid in parent.items():
            if ppid == pid and child not in found:
                found[child] = start[child]
                frontier.append(child)
    return found


def alive(pid: int, started: int) -> bool:
    """The same process (pid and start time) still exists and is not a zombie."""
    got = _stat(pid)
    return got is not None and got[0] != "Z" and got[2] == started


class TreeWatch:
    """Records every process ever seen below ``root`` (polling) until stopped or until
    ``root`` is gone: processes re-parented after their parent died are still known."""

    def __init__(self, root: int, every_s: float = 0.05) -> None:
        self.root = root
        self.seen: dict[int, tuple[int, str]] = {}  # pid -> (start time, command line)
        self._stop = threading.Event()
        self._every = every_s
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            got = _stat(self.root)
            if got is None or got[0] == "Z":
                break
            for pid, started in descendants(self.root).items():
                if pid not in self.seen:
                    self.seen[pid] = (started, cmdline(pid))
            time.sleep(self._every)

    def find(self, needle: str) -> list[int]:
        """Living processes seen so far whose command line contains ``needle`` now (a Ray
        worker's title changes with the task it runs)."""
        return [p for p, (s, _) in list(self.seen.items()) if alive(p, s) and needle in cmdline(p)]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def survivors(self, wait_s: float = 10.0) -> list[str]:
        """Processes seen that are still alive after up to ``wait_s`` seconds."""
        deadline = time.time() + wait_s
        while True:
            left = [f"{p} {cmd[:80]}" for p, (s, cmd) in self.seen.items() if alive(p, s)]
            if not left or time.time() > deadline:
                return left
            time.sleep(0.2)
