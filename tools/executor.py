"""Where evaluations run: in this process, a local process pool, or a Ray cluster.

One interface for everything that evaluates a batch (the graph's candidates, the
predictor's proxy scoring, the optical backend, the bench's runs)::

    with make_executor("processes:2") as ex:
        outcomes = ex.map(fn, items, context)   # fn(context, item), one outcome per item

* ``local`` — in this process, one item after another (the default in tests).
* ``processes[:N]`` — a pool of N spawned worker processes on this machine (default: the
  CPU count), each with one torch thread.
* ``ray`` — starts a private local Ray instance (``ray.init``) sized to this machine;
  ``ray:ADDRESS`` joins a running cluster (``ray start --head`` prints the address).
  Ray is the optional extra ``agentnas[ray]``.

Guarantees, whatever the executor:

* Outcomes come back in input order, so a batch gives the same rows in the same order.
  Every task's randomness must come from its item and context (evaluations are seeded by
  their candidate), never from which worker ran it or when: the same seed gives a
  byte-identical ``front.csv`` on every executor.
* A task that raises :class:`UserError` (an invalid architecture, an infeasible design) is
  answered at once as ``ok=False, kind="invalid"``: retrying cannot change it. Any other
  exception, and a worker that dies under a task, is retried up to ``retries`` more times,
  then answered ``ok=False, kind="failed"``; the batch always completes.
* Ctrl-C: inside :meth:`Executor.ctrl_c_stops` (the run's graph is driven in it), a
  SIGINT also stops the batches that other threads are waiting on (a graph runs parallel
  Designers in threads): each raises KeyboardInterrupt within :data:`POLL_S` and starts
  nothing new, so the interrupt does not wait for their evaluations to finish. A SIGINT
  the process inherited as ignored (a job started in the background by a script) stays
  ignored.
* Nested use never oversubscribes: inside a worker, :func:`make_executor` always returns
  the local executor (a bench of runs spread over workers evaluates each run in-process).
* The context (the evaluator's settings plus its data: MNIST tensors, the CIFAR-10 proxy
  batch, NB201 tables) goes to Ray's object store once per executor, not once per task;
  a process pool sends the small context and each worker loads data from disk once.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from agentnas.tools.errors import UserError

WORKER_ENV = "AGENTNAS_EXECUTOR_WORKER"  # set inside workers: nested executors are local
DEFAULT_ENV = "AGENTNAS_EXECUTOR"  # the default executor when none is given
DEFAULT_RETRIES = 2
KINDS = ("local", "processes[:N]", "ray", "ray:ADDRESS")
RAY_INSTALL = "pip install 'agentnas[ray]'"
RAY_CONNECT_TIMEOUT_S = 20
POLL_S = 0.2  # how often a waiting batch looks for a Ctrl-C taken by the main thread

Task = Callable[[Any, Any], Any]  # fn(context, item) -> value (module-level, picklable)
OnDone = Callable[[int, "Outcome"], None]


@dataclass(frozen=True)
class Outcome:
    """What one task produced: ``value`` when ``ok``, else why not (``kind`` is
    ``"invalid"`` for a UserError, ``"failed"`` when retries ran out) and how often it ran."""

    ok: bool
    value: Any = None
    error: str = ""
    kind: str = ""
    attempts: int = 1
    seconds: float = 0.0  # the last attempt's run time on its worker


def in_worker() -> bool:
    """True inside an executor's worker process (nested executors stay local there)."""
    return os.environ.get(WORKER_ENV) == "1"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip().rstrip(":")


def _call(fn: Task, context: Any, item: Any) -> Outcome:
    """Run one task, turning a UserError into an ``invalid`` outcome (never retried)."""
    t0 = time.perf_counter()
    try:
        value = fn(context, item)
    except UserError as exc:
        return Outcome(False, error=str(exc), kind=_user_kind(exc), seconds=_since(t0))
    return Outcome(True, value, seconds=_since(t0))


def _since(t0: float) -> float:
    return round(time.perf_counter() - t0, 4)


def _user_kind(exc: UserError) -> str:
    """``infeasible`` for designs the hardware cannot build, else ``invalid``."""
    return str(getattr(exc, "kind", "") or "invalid")


class Executor(ABC):
    """A place that runs batches of tasks (see the module docstring)."""

    name: str = ""
    workers: int = 1

    def __init__(self, retries: int = DEFAULT_RETRIES) -> None:
        if retries < 0:
            raise UserError(f"retries must be >= 0, got {retries}")
        self.retries = retries
        self._stop = threading.Event()  # set by Ctrl-C: batches in any thread stop

    def interrupt(self) -> None:
        """Make every batch in progress, in any thread, raise KeyboardInterrupt at its next
        check (within :data:`POLL_S`), before it starts anything more. Only sets a flag, so
        a signal handler may call it; :meth:`abort` then ends the workers."""
        self._stop.set()

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise KeyboardInterrupt

    @contextmanager
    def ctrl_c_stops(self) -> Iterator[None]:
        """While the block runs in the main thread, Ctrl-C also calls :meth:`interrupt` on
        this executor, then raises KeyboardInterrupt as usual. Python runs signal handlers only in
        the main thread: without this, a graph that waits for parallel nodes (threads) on
        Ctrl-C would wait for their evaluations to finish. Nothing changes where SIGINT is
        not Python's default handler (ignored, or the program's own) or off the main
        thread. The stop holds until the next such block begins (threads still winding
        down see it), so a caller's executor serves its next run."""
        self._stop.clear()
        if (
            threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        ):
            yield
            return

        def on_sigint(signum: int, frame: Any) -> None:
            self.interrupt()
            signal.default_int_handler(signum, frame)  # raises KeyboardInterrupt

        previous = signal.signal(signal.SIGINT, on_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    @abstractmethod
    def map(
        self,
        fn: Task,
        items: Sequence[Any],
        context: Any = None,
        on_done: OnDone | None = None,
    ) -> list[Outcome]:
        """One :class:`Outcome` per item, in input order; ``on_done(index, outcome)`` is
        called as each finishes (completion order), e.g. for a progress bar."""

    def close(self) -> None:
        """Release workers (a local Ray instance is shut down). Idempotent."""
        return None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            self.abort()  # Ctrl-C or an error: do not wait for running tasks
        else:
            self.close()

    def abort(self) -> None:
        """Stop at once (Ctrl-C): running tasks are abandoned, workers ended."""
        self.close()

    def describe(self) -> str:
        return f"{self.name} ({self.workers} worker{'s' if self.workers != 1 else ''})"


class LocalExecutor(Executor):
    """In this process, in input order. Exceptions are retried like anywhere else."""

    name = "local"

    def map(
        self,
        fn: Task,
        items: Sequence[Any],
        context: Any = None,
        on_done: OnDone | None = None,
    ) -> list[Outcome]:
        out = []
        for i, item in enumerate(items):
            self._check_stop()  # a running item cannot be stopped; the next is not started
            outcome = self._run(fn, context, item)
            if on_done is not None:
                on_done(i, outcome)
            out.append(outcome)
        return out

    def _run(self, fn: Task, context: Any, item: Any) -> Outcome:
        error = ""
        for attempt in range(1, self.retries + 2):
            try:
                got = _call(fn, context, item)
            except Exception as exc:  # a task's bug or fault: retried, then recorded
                error = _one_line(exc)
                continue
            return Outcome(got.ok, got.value, got.error, got.kind, attempt, got.seconds)
        return Outcome(False, error=error, kind="failed", attempts=self.retries + 1)


# -- local process pool -------------------------------------------------------------------
@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread for the block. A process started inside inherits the
    mask, so a terminal's Ctrl-C (sent to the whole process group) cannot interrupt a
    worker while it imports; the parent handles Ctrl-C and ends its workers. (The same
    is done by multiprocessing's resource tracker.)"""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _init_worker(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ[WORKER_ENV] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # ignored from now on
    try:
        import torch

        torch.set_num_threads(1)  # one core per worker: the pool is the parallelism
    except ImportError:  # pragma: no cover - torch is a base dependency
        pass


def _pool_task(fn: Task, context: Any, item: Any) -> Outcome:
    try:
        return _call(fn, context, item)
    except Exception as exc:
        # the traceback text travels back (exceptions of any type may not unpickle)
        return Outcome(False, error=_one_line(exc), kind="raised")


def _worker_env() -> dict[str, str]:
    """Environment a worker needs to see what this process sees (cache folders)."""
    return {k: v for k, v in os.environ.items() if k.startswith("AGENTNAS_") and k != WORKER_ENV}


class ProcessExecutor(Executor):
    """A pool of spawned processes (fork after torch threads can deadlock), kept for the
    executor's life. A dead worker breaks the pool: it is rebuilt and the unfinished
    tasks are charged one attempt each and resubmitted."""

    name = "processes"

    def __init__(self, workers: int | None = None, retries: int = DEFAULT_RETRIES) -> None:
        super().__init__(retries)
        if workers is not None and workers < 1:
            raise UserError(f"processes:N needs N >= 1 worker processes, got {workers}")
        self.workers = workers or max(1, os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        # parallel Designers (threads) share the pool: one pool, started once
        self._pool_lock = threading.Lock()

    def _get_pool(self) -> ProcessPoolExecutor:
        with self._pool_lock:
            self._check_stop()  # never start workers after Ctrl-C
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=mp.get_context("spawn"),
                    initializer=_init_worker,
                    initargs=(_worker_env(),),
                )
            return self._pool

    def _drop_pool(self, broken: ProcessPoolExecutor) -> None:
        """Drop a broken pool (a worker died), unless another thread already replaced it."""
        with self._pool_lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for tests that kill one)."""
        procs = getattr(self._pool, "_processes", None) or {}
        return [p.pid for p in procs.values() if p.is_alive()]

    def map(
        self,
        fn: Task,
        items: Sequence[Any],
        context: Any = None,
        on_done: OnDone | None = None,
    ) -> list[Outcome]:
        results: list[Outcome | None] = [None] * len(items)
        attempts = [0] * len(items)
        errors = [""] * len(items)
        todo = list(range(len(items)))
        while todo:
            todo = self._round(fn, items, context, todo, results, attempts, errors, on_done)
        return [r for r in results if r is not None]

    def _round(
        self,
        fn: Task,
        items: Sequence[Any],
        context: Any,
        todo: list[int],
        results: list[Outcome | None],
        attempts: list[int],
        errors: list[str],
        on_done: OnDone | None,
    ) -> list[int]:
        """Submit ``todo`` once; returns the indices to run again."""
        pool = self._get_pool()
        futures: dict[Future, int] = {}
        with _sigint_blocked():  # submit starts the workers: they inherit the blocked mask
            for i in todo:
                attempts[i] += 1
                futures[pool.submit(_pool_task, fn, context, items[i])] = i
        again: list[int] = []
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
            self._check_stop()
            for fut in done:
                i = futures[fut]
                try:
                    got = fut.result()
                except BrokenProcessPool:
                    got = Outcome(False, error="worker process died", kind="raised")
                if got.kind == "raised" and attempts[i] <= self.retries:
                    errors[i] = got.error
                    again.append(i)
                    continue
                kind = "failed" if got.kind == "raised" else got.kind
                results[i] = Outcome(got.ok, got.value, got.error, kind, attempts[i], got.seconds)
                if on_done is not None:
                    on_done(i, results[i])
        if any(isinstance(f.exception(), BrokenProcessPool) for f in futures if not f.cancelled()):
            self._drop_pool(pool)  # rebuilt on the next round
        return sorted(again)

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:  # our own workers, by handle
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)


# -- Ray ----------------------------------------------------------------------------------
def _ray_task(fn: Task, context: Any, item: Any) -> Outcome:
    """Runs on a Ray worker: a UserError comes back as an outcome, anything else raises
    (and the executor submits it again)."""
    os.environ[WORKER_ENV] = "1"
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    return _call(fn, context, item)


@contextmanager
def _sigint_held() -> Iterator[list[int]]:
    """Hold SIGINT (Ctrl-C) for the block; yields the list of signals that arrived.
    Only the main thread can set handlers: elsewhere nothing is held. An ignored SIGINT
    (inherited by a job a script started in the background) stays ignored."""
    got: list[int] = []
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    ):
        yield got
        return
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: got.append(signum))
    try:
        yield got
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UserError(
            f"--executor ray needs Ray, which is not installed; install it with: {RAY_INSTALL}"
        ) from None
    return ray


class RayExecutor(Executor):
    """Tasks as Ray remote functions (one CPU each). ``address=None`` starts a private
    local instance, shut down by :meth:`close` (also on Ctrl-C); an address joins a
    running cluster and leaves it running. A task whose worker died or that raised is
    submitted again, up to ``retries`` times (Ray's own retries are off, so the attempts
    are counted here, as for the pool)."""

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        super().__init__(retries)
        ray = _import_ray()
        self.address = address
        self._ray = ray
        self._refs: dict[int, tuple[Any, Any]] = {}  # id(context) -> (context, ObjectRef)
        self._refs_lock = threading.Lock()  # parallel Designers put the context once
        self._owned = False
        if address is not None:
            self._connect(address)
        elif not ray.is_initialized():
            self._start_local(workers)
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        # retries are counted here, as for the pool, so every outcome says how often it ran
        self._remote = ray.remote(num_cpus=1, max_retries=0, retry_exceptions=False)(_ray_task)

    def _start_local(self, workers: int | None) -> None:
        """Start a private local instance. Ctrl-C is held until start-up is over: an
        interrupt in the middle of ``ray.init`` leaves half-started Ray processes (its
        agents) that nothing shuts down; after it, the instance is shut down and the
        interrupt raised."""
        ray = self._ray
        with _sigint_held() as interrupted:
            try:
                ray.init(
                    num_cpus=workers or max(1, os.cpu_count() or 1),
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                    runtime_env={"env_vars": _worker_env()},
                )
            except BaseException:
                ray.shutdown()  # whatever did start
                raise
        if interrupted:
            ray.shutdown()
            raise KeyboardInterrupt
        self._owned = True

    def _connect(self, address: str) -> None:
        """Join a running cluster, or refuse in one line (nothing is started)."""
        check_address(address)
        try:
            self._ray.init(
                address=address,
                log_to_driver=False,
                configure_logging=False,
                runtime_env={"env_vars": _worker_env()},
            )
        except Exception as exc:
            raise UserError(f"cannot join the Ray cluster at {address}: {_one_line(exc)}") from None

    def _context_ref(self, context: Any) -> Any:
        """The context in the object store, put once per executor (with its data)."""
        key = id(context)
        with self._refs_lock:
            if key not in self._refs:
                shipped = context.with_data() if hasattr(context, "with_data") else context
                self._refs[key] = (context, self._ray.put(shipped))
            return self._refs[key][1]

    def map(
        self,
        fn: Task,
        items: Sequence[Any],
        context: Any = None,
        on_done: OnDone | None = None,
    ) -> list[Outcome]:
        ray = self._ray
        self._check_stop()
        ref = self._context_ref(context)
        index = {self._remote.remote(fn, ref, item): i for i, item in enumerate(items)}
        attempts = [1] * len(items)
        results: list[Outcome | None] = [None] * len(items)
        pending = list(index)
        while pending:
            done, pending = ray.wait(pending, num_returns=1, timeout=POLL_S)
            self._check_stop()  # Ctrl-C: the tasks are ended by abort()
            for r in done:
                i = index.pop(r)
                try:
                    got = ray.get(r)
                except Exception as exc:  # a dead worker or a raising task
                    if attempts[i] <= self.retries:
                        attempts[i] += 1
                        again = self._remote.remote(fn, ref, items[i])
                        index[again] = i
                        pending.append(again)
                        continue
                    got = Outcome(False, error=_ray_error(exc), kind="failed")
                results[i] = Outcome(
                    got.ok, got.value, got.error, got.kind, attempts[i], got.seconds
                )
                if on_done is not None:
                    on_done(i, results[i])
        return [r for r in results if r is not None]

    def close(self) -> None:
        self._refs.clear()
        if self._ray.is_initialized():
            self._ray.shutdown()  # a joined cluster keeps running; our own instance stops
        self._owned = False


def check_address(address: str) -> None:
    """Refuse, in one line, a Ray address that is not host:port or where nothing listens
    (a TCP connect, so a wrong address is refused before a run writes anything)."""
    import socket

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"ray:ADDRESS needs host:port (e.g. ray:127.0.0.1:6379); got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as exc:
        raise UserError(
            f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}); start "
            f"one with 'ray start --head' or give its address"
        ) from None


def _ray_error(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return _one_line(cause)
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}"


# -- choosing one -------------------------------------------------------------------------
def parse_executor(spec: str) -> tuple[str, str]:
    """``"processes:4"`` -> ``("processes", "4")``; refuses unknown kinds in one line."""
    kind, _, arg = spec.strip().partition(":")
    if kind not in ("local", "processes", "ray") or (kind == "local" and arg):
        raise UserError(f"unknown executor '{spec}'; use one of: {', '.join(KINDS)}")
    if kind == "processes" and arg and (not arg.isdigit() or int(arg) < 1):
        raise UserError(f"processes:N needs a whole number N >= 1; got '{spec}'")
    if kind == "ray" and spec.strip().endswith(":"):
        raise UserError(f"ray:ADDRESS needs an address after the colon; got '{spec}'")
    return kind, arg


def check_executor(spec: str | None) -> None:
    """Validate a spec without starting anything (for refusing bad settings early);
    ``ray`` also checks that Ray is importable, ``ray:ADDRESS`` that the address answers."""
    if spec is None:
        return
    kind, arg = parse_executor(spec)
    if kind == "ray":
        _import_ray()
        if arg:
            check_address(arg)


def default_spec(expensive: bool = False) -> str:
    """``$AGENTNAS_EXECUTOR`` when set; else a local pool when evaluations are expensive
    (training, zero-cost proxies), in-process when they are table lookups."""
    return os.environ.get(DEFAULT_ENV) or ("processes" if expensive else "local")


def make_executor(spec: str | None = None, retries: int = DEFAULT_RETRIES) -> Executor:
    """The executor a spec names (None: ``$AGENTNAS_EXECUTOR`` or ``local``). Inside a
    worker the answer is always local, so nested use adds no processes."""
    kind, arg = parse_executor(spec or default_spec())
    if in_worker() or kind == "local":
        return LocalExecutor(retries)
    if kind == "processes":
        return ProcessExecutor(int(arg) if arg else None, retries)
    return RayExecutor(arg or None, retries=retries)


def run_tasks(
    spec: str | Executor | None, fn: Task, items: Sequence[Any], context: Any = None
) -> list[Outcome]:
    """One batch on a named executor (started and closed here) or a live one (kept)."""
    if isinstance(spec, Executor):
        return spec.map(fn, items, context)
    with make_executor(spec) as ex:
        return ex.map(fn, items, context)


def timed_noop(_context: Any, item: Any) -> Any:
    """A task that does nothing (measures an executor's overhead per task)."""
    return item
