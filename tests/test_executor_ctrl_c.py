"""Ctrl-C and executors shared by threads (a graph runs parallel Designers in threads):
a SIGINT taken by the main thread stops the batches other threads wait on, at once; an
ignored SIGINT stays ignored; parallel first batches share one process pool."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from agentnas.tools import executor as executor_mod
from agentnas.tools.executor import (
    POLL_S,
    LocalExecutor,
    ProcessExecutor,
    _sigint_blocked,
    _sigint_held,
)

SLEEP_S = 30.0  # a task far longer than any stop the tests accept


def nap(_ctx, seconds):
    time.sleep(seconds)
    return seconds


@contextmanager
def sigint_handler(handler) -> Iterator[None]:
    """SIGINT set to ``handler`` for the block, whatever this process inherited (a test
    run started in the background by a script inherits it ignored)."""
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _map_in_thread(ex, items) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def run() -> None:
        t0 = time.monotonic()
        try:
            box["value"] = ex.map(nap, items)
        except BaseException as exc:
            box["error"] = exc
        box["seconds"] = time.monotonic() - t0

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def _ctrl_c_inside(ex) -> float:
    """Ctrl-C (SIGINT to this process) inside ``ex.ctrl_c_stops()``; returns when it hit."""
    with pytest.raises(KeyboardInterrupt), ex.ctrl_c_stops():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(SLEEP_S)  # not reached: the handler raises here
    return time.monotonic()


def test_ctrl_c_stops_a_pool_batch_that_another_thread_waits_on():
    with sigint_handler(signal.default_int_handler):
        ex = ProcessExecutor(1, retries=0)
        try:
            assert ex.map(nap, [0.0])[0].ok  # the pool is up: the next task starts at once
            thread, box = _map_in_thread(ex, [SLEEP_S])
            time.sleep(0.5)  # the thread waits on its task
            hit = _ctrl_c_inside(ex)
            thread.join(10)
            assert not thread.is_alive()
            assert isinstance(box.get("error"), KeyboardInterrupt), box
            assert time.monotonic() - hit < 10 * POLL_S + 2  # not the task's 30 s
        finally:
            ex.abort()
        with pytest.raises(KeyboardInterrupt):  # stopped until a new block begins
            ex.map(nap, [0.0])
        with ex.ctrl_c_stops():  # the next run on a caller's executor
            assert [o.value for o in ex.map(nap, [0.0, 0.0])] == [0.0, 0.0]
        ex.close()


def test_after_ctrl_c_no_new_batch_or_pool_starts_until_the_block_ends():
    with sigint_handler(signal.default_int_handler):
        ex = ProcessExecutor(1)
        ex.interrupt()  # what the Ctrl-C handler does first
        with pytest.raises(KeyboardInterrupt):
            ex.map(nap, [0.0])
        assert ex._pool is None  # no worker was started
        local = LocalExecutor()
        local.interrupt()
        with pytest.raises(KeyboardInterrupt):
            local.map(nap, [0.0])


def test_an_ignored_sigint_stays_ignored():
    with sigint_handler(signal.SIG_IGN):
        ex = LocalExecutor()
        with ex.ctrl_c_stops():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
        with _sigint_held() as got:  # Ray's start-up does not take an ignored Ctrl-C either
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
        assert got == []
        assert [o.value for o in ex.map(nap, [0.0])] == [0.0]


def test_a_ctrl_c_in_the_start_up_windows_is_not_lost():
    """The pool blocks SIGINT while it starts workers, Ray's start holds it: a Ctrl-C in
    either window still reaches the run (raised by the end of the block, or recorded)."""
    with sigint_handler(signal.default_int_handler):
        with pytest.raises(KeyboardInterrupt), _sigint_blocked():
            os.kill(os.getpid(), signal.SIGINT)  # pending, or taken by another thread
            time.sleep(0.2)
        with _sigint_held() as got:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)
        assert got == [signal.SIGINT]  # RayExecutor raises KeyboardInterrupt for it
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_parallel_first_batches_share_one_pool(monkeypatch):
    made = []

    def slow_pool(workers, **_kwargs):
        time.sleep(0.3)  # widens the window in which two threads would both start a pool
        made.append(ThreadPoolExecutor(workers))  # threads stand in for worker processes
        return made[-1]

    monkeypatch.setattr(executor_mod, "ProcessPoolExecutor", slow_pool)
    ex = ProcessExecutor(2)
    try:
        threads = [_map_in_thread(ex, [0.0, 0.0]) for _ in range(2)]
        for thread, _box in threads:
            thread.join(60)
        assert [len(box.get("value") or []) for _t, box in threads] == [2, 2]
        assert len(made) == 1
    finally:
        ex.close()


def test_ctrl_c_in_a_chat_session_stops_and_ends_its_workers(tmp_path, monkeypatch):
    from agentnas.graph.config import RunConfig
    from agentnas.graph.runner import RunSession

    session = RunSession.start(RunConfig(budget=30, rounds=3, seed=1), tmp_path / "run")
    ex = session.rt.executor
    calls: list = []
    monkeypatch.setattr(ex, "abort", lambda: calls.append("abort"))
    monkeypatch.setattr(ex, "close", lambda: calls.append("close"))

    def invoke(*_args, **_kwargs):  # the graph is running when Ctrl-C comes
        calls.append(signal.getsignal(signal.SIGINT) is not signal.default_int_handler)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(SLEEP_S)  # not reached

    monkeypatch.setattr(session.graph, "invoke", invoke)
    with sigint_handler(signal.default_int_handler), pytest.raises(KeyboardInterrupt):
        session.advance()
    session.close()
    # the executor's handler was in place, Ctrl-C stopped its batches and ended its
    # workers at once (abort, not a close that waits for running tasks)
    assert calls == [True, "abort"]
    assert ex._stop.is_set()
