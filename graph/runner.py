"""Start or resume a run: build the live objects, open the checkpoint, drive the graph.

A run folder holds ``config.json``, ``checkpoints.sqlite``, ``trace.jsonl``, ``kb/``
(unless ``--kb`` points elsewhere), ``candidates.csv``, ``front.csv`` and
``summary.json``. ``resume_run`` rebuilds everything from ``config.json`` and continues
from the last checkpoint; LangGraph keeps the writes of Designers that finished inside an
interrupted superstep, so only unfinished work is redone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agentnas.graph.build import CHECKPOINT_FILE, THREAD, build_graph, open_checkpointer
from agentnas.graph.config import RunConfig, describe_error
from agentnas.graph.context import RunContext
from agentnas.graph.reuse import load_reused, write_reused
from agentnas.graph.trace import TraceWriter, journal_usage, journal_wall_s
from agentnas.tools.atomic_io import write_json_atomic, write_text_atomic
from agentnas.tools.errors import CapReached, EndpointError, UserError
from agentnas.tools.evaluation import Evaluator
from agentnas.tools.folder_format import check_format, write_format
from agentnas.tools.spaces.registry import default_objectives
from agentnas.tools.sqlite_files import check_sqlite

CONFIG_FILE = "config.json"
# every superstep's checkpoint is on disk before the next step starts (LangGraph's default
# writes them in the background, so a kill -9 could lose the last finished step)
DURABILITY = "sync"
TRACE_FILE = "trace.jsonl"
# files whose presence means the folder already holds (part of) a run
RUN_FILES = (CONFIG_FILE, CHECKPOINT_FILE, TRACE_FILE)


def make_runtime(
    cfg: RunConfig,
    run_dir: Path,
    on_round: Callable[[dict[str, Any]], None] | None = None,
    llm: Any = None,
    evaluator: Evaluator | None = None,
    executor: Any = None,
) -> RunContext:
    from agentnas.memory.knowledge_base import KnowledgeBase

    if evaluator is None:
        evaluator, llm = _validated(cfg, llm)
    kb = KnowledgeBase(Path(cfg.kb_dir) if cfg.kb_dir else run_dir / "kb")
    kb.writer = run_id(run_dir)  # a shared KB stores each step of this run once
    trace = TraceWriter(run_dir / "trace.jsonl")
    if llm.is_llm:  # journal each request before it is sent (see _count_spent_calls)
        llm.on_request = lambda key: trace.write("llm_request", **key.model_dump())
        llm.on_answer = lambda p, c: trace.write("llm_tokens", prompt_tokens=p, completion_tokens=c)
    rt = RunContext(
        config=cfg,
        run_dir=run_dir,
        evaluator=evaluator,
        llm=llm,
        kb=kb,
        trace=trace,
        on_round=on_round,
        executor=executor,
    )
    from agentnas.agents.usage import Caps

    llm.caps = Caps.of(cfg)  # token, cost and time caps, checked before each request
    llm.clock = rt.clock
    return rt


def _open_executor(spec: Any, evaluator: Evaluator) -> Any:
    """The executor a run evaluates on: a live one as given, else the one ``spec`` names
    (None: ``$AGENTNAS_EXECUTOR``, or a local pool when evaluations are expensive).
    Started before anything is written: an unreachable cluster refuses the run."""
    from agentnas.tools.executor import Executor, default_spec, make_executor

    if isinstance(spec, Executor):
        return spec
    return make_executor(spec or default_spec(evaluator.expensive))


def _close_executor(rt: RunContext, given: Any) -> None:
    """Close the run's executor unless the caller passed a live one (it owns it)."""
    from agentnas.tools.executor import Executor

    if rt.executor is not None and not isinstance(given, Executor):
        rt.executor.close()


def _accuracy_hint(evaluator: Evaluator) -> str:
    """What gives accuracy on the run's space: its table, or the backends that train."""
    space = evaluator.space
    if space.has_accuracy_table:
        return f"on {space.name} use accuracy 'table' or 'zero-cost'"
    from agentnas.tools.hardware.registry import list_backends

    trains = [
        b.name
        for b in list_backends()
        if space.name in b.spaces and "robust_accuracy" in b.metrics and b.available
    ]
    return f"on {space.name} use a backend that trains: {', '.join(trains) or 'none here'}"


def _validated(cfg: RunConfig, llm: Any) -> tuple[Evaluator, Any]:
    """Everything that can reject the user's settings, before any file is written."""
    from agentnas.agents.llm import make_llm
    from agentnas.graph.knowledge import check_kb_space

    check_kb_space(cfg.kb_dir, cfg.space)
    objectives = cfg.objectives or list(default_objectives(cfg.space))
    evaluator = Evaluator(
        cfg.space, cfg.dataset, cfg.hardware, objectives, cfg.accuracy, cfg.backend_options
    )
    if evaluator.accuracy_source is None and "robust_accuracy" not in evaluator.backend.metrics:
        raise UserError(
            f"accuracy 'backend' needs a backend that trains and scores candidates "
            f"(reports robust_accuracy); '{cfg.hardware}' reports "
            f"{', '.join(evaluator.backend.metrics) or 'no metrics'}; {_accuracy_hint(evaluator)}"
        )
    if llm is None:
        llm = make_llm(
            cfg.llm,
            seed=cfg.seed,
            max_calls=cfg.max_llm_calls,
            timeout_s=cfg.llm_timeout_s,
            on_failure=cfg.on_llm_failure,
        )
    return evaluator, llm


RUN_ID_FILE = ".run-id"


def run_id(run_dir: Path) -> str:
    """This run's id (``RUN_DIR/.run-id``, made once): it names the run's writes in a
    KB that several runs share, across kills and resumes."""
    path = Path(run_dir) / RUN_ID_FILE
    try:
        return path.read_text(encoding="utf-8").strip() or _new_run_id(path)
    except (OSError, UnicodeDecodeError):
        return _new_run_id(path)


def _new_run_id(path: Path) -> str:
    import uuid

    value = uuid.uuid4().hex
    write_text_atomic(path, value + "\n")
    return value


LOCK_FILE = ".lock"  # hidden: an empty file that only carries the flock


def _lock_run(run_dir: Path) -> Any:
    """An exclusive lock on the run folder for as long as this process drives it: a second
    ``--resume`` of a run that is going on would interleave two writers on one checkpoint
    and trace. Released by :func:`_unlock_run` (or when the process dies, even ``kill -9``)."""
    try:
        import fcntl
    except ImportError:  # no flock on this platform: no protection, as before
        return None
    fh = (Path(run_dir) / LOCK_FILE).open("a")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise UserError(
            f"another agentnas process is running the run in {run_dir}; wait for it to "
            f"finish, or stop it and then --resume"
        ) from None
    return fh


def _unlock_run(rt: RunContext) -> None:
    if rt.run_lock is not None:
        rt.run_lock.close()  # closing the file releases the flock
        rt.run_lock = None


def _new_runtime(
    cfg: RunConfig,
    run_dir: Path,
    on_round: Callable[[dict[str, Any]], None] | None,
    llm: Any,
    executor: Any = None,
    **trace_fields: Any,
) -> RunContext:
    """Check everything, then create the run folder: a refused start writes nothing."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"{run_dir} is a file; give a folder for the run with --out")
    found = [f for f in RUN_FILES if (run_dir / f).exists()]
    if found:
        raise UserError(
            f"{run_dir} already holds a run ({', '.join(found)}); continue it with "
            f"--resume {run_dir}, or give a new folder with --out"
        )
    evaluator, llm = _validated(cfg, llm)  # refuse bad settings before anything is written
    reused = load_reused(cfg.reuse_evaluations, cfg) if cfg.reuse_evaluations else []
    ex = _open_executor(executor, evaluator)
    try:
        _make_run_dir(run_dir)
        lock = _lock_run(run_dir)
    except BaseException:
        if ex is not executor:
            ex.close()
        raise
    try:
        rt = make_runtime(cfg, run_dir, on_round, llm, evaluator, ex)
    except BaseException:
        if lock is not None:
            lock.close()
        if ex is not executor:
            ex.close()
        raise
    rt.run_lock = lock
    write_json_atomic(run_dir / CONFIG_FILE, cfg.model_dump(mode="json"))
    write_format(run_dir, "run")
    if cfg.reuse_evaluations:
        write_reused(run_dir, reused)
    rt.trace.write(
        "run_start",
        config=cfg.model_dump(mode="json"),
        llm=rt.llm.label,
        is_llm=rt.llm.is_llm,
        **trace_fields,
    )
    return rt


def _make_run_dir(run_dir: Path) -> None:
    """Create the run folder, or say in one line why it cannot be (``/proc/x``, a
    read-only disk, a parent that is a file)."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot create the run folder {run_dir} ({exc.strerror or exc}); give a "
            f"writable folder with --out"
        ) from None
    if not os.access(run_dir, os.W_OK | os.X_OK):
        raise UserError(f"the run folder {run_dir} is not writable; give another with --out")


def _resumed_runtime(
    run_dir: Path,
    on_round: Callable[[dict[str, Any]], None] | None,
    llm: Any,
    executor: Any = None,
    caps: dict[str, Any] | None = None,
    **trace_fields: Any,
) -> RunContext:
    """Check the folder (config, checkpoint) before touching it: a refused resume writes
    nothing, not even a trace line. ``caps``: larger caps for the rest of the run
    (:func:`~agentnas.graph.budgets.raise_caps`), stored in ``config.json``."""
    from agentnas.graph.budgets import raise_caps

    run_dir = Path(run_dir)
    old = read_config(run_dir)
    cfg = raise_caps(old, caps or {})
    check_checkpoint(run_dir)
    evaluator, llm = _validated(cfg, llm)  # e.g. a replay file that has gone since
    ex = _open_executor(executor, evaluator)
    try:
        lock = _lock_run(run_dir)
    except BaseException:
        if ex is not executor:
            ex.close()
        raise
    try:
        for stale in run_dir.glob(".*.tmp"):  # half-written files of a killed atomic write
            stale.unlink(missing_ok=True)
        rt = make_runtime(cfg, run_dir, on_round, llm, evaluator, ex)
    except BaseException:
        if lock is not None:
            lock.close()
        if ex is not executor:
            ex.close()
        raise
    rt.run_lock = lock
    raised = {k: v for k, v in cfg.model_dump().items() if v != getattr(old, k)}
    if raised:
        write_json_atomic(run_dir / CONFIG_FILE, cfg.model_dump(mode="json"))
        rt.trace.write("caps_raised", caps=raised)
    rt.trace.write("run_resume", llm=rt.llm.label, **trace_fields)
    return rt


def check_checkpoint(run_dir: Path) -> bool:
    """Refuse a run folder whose checkpoint is missing, empty or unreadable (a damaged
    database, or records that no longer decode). Returns whether it holds a step: a run
    killed during its first step has a valid database with no checkpoint yet, and resuming
    it starts it over (nothing was saved, so nothing differs)."""
    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.is_file():
        raise UserError(
            f"{run_dir} has no {CHECKPOINT_FILE} to resume from; start a new run in another folder"
        )
    check_sqlite(
        path,
        f"checkpoint database {path}",
        "restore the file or start a new run",
        tables=("checkpoints", "writes"),
    )
    saver = open_checkpointer(run_dir)
    try:
        found = saver.get_tuple(THREAD)
    except Exception as exc:  # sqlite errors, undecodable blobs: all mean a damaged file
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(
            f"checkpoint database {path} is unreadable ({detail}); restore the file or "
            f"start a new run"
        ) from None
    finally:
        saver.conn.close()
    return found is not None


OnSteer = Callable[[int, list[Any]], None]


def start_run(
    cfg: RunConfig,
    run_dir: Path,
    on_round: Callable[[dict[str, Any]], None] | None = None,
    llm: Any = None,
    executor: Any = None,
    on_steer: OnSteer | None = None,
) -> dict[str, Any]:
    """Run a search in a new folder. ``executor``: a spec (``local``, ``processes:N``,
    ``ray``, ``ray:ADDRESS``; None: the default) or a live executor the caller keeps.
    ``on_steer`` is told of every steering action that arrives through
    RUN_DIR/steer.jsonl (``agentnas run`` prints them)."""
    rt = _new_runtime(cfg, run_dir, on_round, llm, executor)
    rt.on_steer = on_steer
    return _drive(rt, {"round": 0}, executor)


def resume_run(
    run_dir: Path,
    on_round: Callable[[dict[str, Any]], None] | None = None,
    llm: Any = None,
    executor: Any = None,
    on_steer: OnSteer | None = None,
    caps: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Continue a run; the executor may differ from the one it started on (results do
    not depend on it). ``caps``: larger run-wide caps (``max_llm_calls``,
    ``token_budget``, ``cost_budget``, ``time_budget``) for a run a cap stopped."""
    rt = _resumed_runtime(run_dir, on_round, llm, executor, caps)
    rt.on_steer = on_steer
    return _drive(rt, _first_input_of_resume(rt), executor)


def _first_input_of_resume(rt: RunContext) -> dict[str, Any] | None:
    """``None`` (go on from the checkpoint), or the start input when the run was killed
    before its first step was saved."""
    if check_checkpoint(rt.run_dir):
        return None
    rt.trace.write("run_restart", reason="no step was saved before the run stopped")
    return {"round": 0}


def _drive(rt: RunContext, first_input: dict[str, Any] | None, given: Any = None) -> dict[str, Any]:
    saver = open_checkpointer(rt.run_dir)
    try:
        graph = build_graph(saver)
        config = {**THREAD, "max_concurrency": rt.config.max_concurrency, "recursion_limit": 10_000}
        _count_spent_calls(rt, graph, config)
        if first_input is not None or unfinished(graph.get_state(config)):
            with _endpoint_stop(rt), _clock(rt, graph, config), _ctrl_c_stops(rt):
                graph.invoke(first_input, config, context=rt, durability=DURABILITY)
        return _final_summary(rt, graph, config)
    except BaseException:
        if rt.executor is not None and not _is_executor(given):
            rt.executor.abort()  # Ctrl-C: stop workers (a local Ray instance) at once
            rt.executor = None
        raise
    finally:
        saver.conn.close()
        rt.kb.close()
        _unlock_run(rt)
        _close_executor(rt, given)


def _ctrl_c_stops(rt: RunContext) -> Any:
    """Ctrl-C also stops the batches that parallel Designers (graph threads) wait on, so
    the interrupt does not wait for their evaluations."""
    return rt.executor.ctrl_c_stops() if rt.executor is not None else nullcontext()


def _is_executor(value: Any) -> bool:
    from agentnas.tools.executor import Executor

    return isinstance(value, Executor)


@contextmanager
def _endpoint_stop(rt: RunContext) -> Iterator[None]:
    """A dead LLM endpoint, or a spent cap at a round boundary, stops the run where it
    is: the last checkpoint stays the resume point, the trace says why, and the one-line
    message names the folder to resume."""
    try:
        yield
    except (EndpointError, CapReached) as exc:
        message = str(exc).replace("RUN_DIR", str(rt.run_dir))
        # wall_s: the time this process ran past its last checkpoint counts on resume
        rt.trace.write("run_stopped", reason=message, exit_status=exc.exit_code, wall_s=rt.clock())
        raise type(exc)(message) from None


@contextmanager
def _clock(rt: RunContext, graph: Any, config: dict[str, Any]) -> Iterator[None]:
    """Run the run's wall clock (``--time-budget``) while the graph runs, from the
    checkpointed ``wall_s`` (or the later time a stopped process journalled)."""
    rt.clock.start(max(graph.get_state(config).values.get("wall_s") or 0.0, rt.clock.floor))
    try:
        yield
    finally:
        rt.clock.stop()


def unfinished(snap: Any) -> bool:
    """Whether the checkpoint holds a step still to run or to finish. ``snap.next`` lists
    only tasks *without* saved writes: a kill after a step's last task stored its writes
    but before the step's checkpoint leaves ``next`` empty while ``tasks`` still holds the
    step; ``invoke(None)`` then applies those writes and goes on."""
    return bool(snap.next or snap.tasks)


def _count_spent_calls(rt: RunContext, graph: Any, config: dict[str, Any]) -> None:
    """Start the backend's caps where the run stands: the requests and tokens its
    checkpointed usage counts, or more if the trace journalled work a kill interrupted
    before it reached the checkpoint. Every cap is thus one budget per run."""
    if not rt.llm.is_llm:
        return
    usage = graph.get_state(config).values.get("llm_usage") or {}
    journal = journal_usage(rt.trace.path)
    rt.clock.floor = journal_wall_s(rt.trace.path)
    rt.llm.resume_from(
        *(
            max(int(usage.get(k, 0)), journal[k])
            for k in ("calls", "prompt_tokens", "completion_tokens")
        )
    )


def _final_summary(rt: RunContext, graph: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Bring the run's files in step with the last checkpoint and return ``summary.json``
    of a finished run (``{}`` while it has not finished).

    ``candidates.csv`` and ``front.csv`` are rebuilt from the checkpoint every time (a
    crash between a step's files and its checkpoint, a garbled file, a hand edit: none
    survives a run or a resume); ``summary.json`` is kept when it still agrees with the
    checkpoint and rewritten otherwise."""
    from agentnas.graph.artifacts import rebuild_outputs, write_summary

    snap = graph.get_state(config)
    values = snap.values
    if values.get("candidates") is not None and values.get("partitions") is not None:
        rebuild_outputs(rt, values)
    if unfinished(snap) or not values.get("done"):
        return {}
    path = rt.run_dir / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        if (
            isinstance(summary, dict)
            and summary.get("evaluations") == len(values.get("candidates", []))
            and summary.get("front_size") == len(values.get("front", []))
        ):
            return summary
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        pass
    return write_summary(rt, values)


class RunSession:
    """A run driven one round at a time: it pauses at every round boundary (LangGraph
    ``interrupt`` in the steer node) until :meth:`advance` brings the user's commands.
    The chat CLI is built on this; checkpoints make every pause resumable."""

    def __init__(self, rt: RunContext, first_input: dict[str, Any] | None) -> None:
        rt.interactive = True
        self.rt = rt
        self.saver = open_checkpointer(rt.run_dir)
        self.graph = build_graph(self.saver)
        self.config = {
            **THREAD,
            "max_concurrency": rt.config.max_concurrency,
            "recursion_limit": 10_000,
        }
        _count_spent_calls(rt, self.graph, self.config)
        self._pending = first_input
        self.finished = False

    @classmethod
    def start(
        cls,
        cfg: RunConfig,
        run_dir: Path,
        llm: Any = None,
        on_round: Callable[[dict[str, Any]], None] | None = None,
    ) -> RunSession:
        return cls(_new_runtime(cfg, run_dir, on_round, llm, interactive=True), {"round": 0})

    @classmethod
    def resume(
        cls,
        run_dir: Path,
        llm: Any = None,
        on_round: Callable[[dict[str, Any]], None] | None = None,
        caps: dict[str, Any] | None = None,
    ) -> RunSession:
        rt = _resumed_runtime(run_dir, on_round, llm, caps=caps, interactive=True)
        return cls(rt, _first_input_of_resume(rt))

    def advance(
        self, commands: list[Any] | None = None, llm_usage: dict[str, int] | None = None
    ) -> dict[str, Any]:
        """Run to the next round boundary (or the end). ``llm_usage``: what the steering
        agent spent on these commands (added to the run's accounting). Returns
        ``{"paused": True, "round", "stats", "front", "done"}`` at a pause, or
        ``{"paused": False, "summary"}`` when the run has finished."""
        from langgraph.types import Command

        if self.finished:
            return {"paused": False, "summary": self._summary()}
        snap = self.graph.get_state(self.config)
        if self._pending is not None:
            arg: Any = self._pending
            self._pending = None
        elif snap.interrupts:
            listed = [
                c.model_dump(mode="json") if hasattr(c, "model_dump") else c
                for c in (commands or [])
            ]
            arg = Command(resume={"commands": listed, "llm_usage": llm_usage or {}})
        elif unfinished(snap):
            arg = None
        else:
            self.finished = True
            return {"paused": False, "summary": self._summary()}
        try:
            rt = self.rt
            with _endpoint_stop(rt), _clock(rt, self.graph, self.config), _ctrl_c_stops(rt):
                self.graph.invoke(arg, self.config, context=rt, durability=DURABILITY)
        except KeyboardInterrupt:
            if self.rt.executor is not None:
                self.rt.executor.abort()  # Ctrl-C: end the workers, not wait for their tasks
                self.rt.executor = None
            raise
        snap = self.graph.get_state(self.config)
        if snap.interrupts:
            return {"paused": True, **snap.interrupts[0].value}
        self.finished = True
        return {"paused": False, "summary": self._summary()}

    def _summary(self) -> dict[str, Any]:
        return _final_summary(self.rt, self.graph, self.config)

    def close(self) -> None:
        self.saver.conn.close()
        self.rt.kb.close()
        _unlock_run(self.rt)
        _close_executor(self.rt, None)


def read_config(run_dir: Path) -> RunConfig:
    path = run_dir / CONFIG_FILE
    if not path.exists():
        raise UserError(f"{run_dir} is not a run folder (no {CONFIG_FILE})")
    check_format(run_dir, "run")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} is corrupt (not JSON: {exc}); restore it from the run") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} is corrupt: expected a JSON object of run settings")
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise UserError(f"{path} is corrupt: {describe_error(exc)}") from None
