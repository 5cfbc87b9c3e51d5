"""Start or resume a run: build the live objects, open the checkpoint, drive the graph.

A run folder holds ``config.json``, ``checkpoints.sqlite``, ``trace.jsonl``, ``kb/``
(unless ``--kb`` points elsewhere), ``candidates.csv``, ``front.csv`` and
``summary.json``. ``resume_run`` rebuilds everything from ``config.json`` and continues
from the last checkpoint; LangGraph keeps the writes of Designers that finished inside an
interrupted superstep, so only unfinished work is redone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentnas.graph.build import THREAD, build_graph, open_checkpointer
from agentnas.graph.config import RunConfig
from agentnas.graph.runtime import Runtime
from agentnas.graph.trace import TraceWriter
from agentnas.tools.atomic_io import write_json_atomic
from agentnas.tools.errors import UserError
from agentnas.tools.evaluation import Evaluator
from agentnas.tools.spaces.registry import default_objectives

CONFIG_FILE = "config.json"


def make_runtime(
    cfg: RunConfig,
    run_dir: Path,
    on_round: Callable[[dict[str, Any]], None] | None = None,
    llm: Any = None,
    evaluator: Evaluator | None = None,
) -> Runtime:
    from agentnas.memory.knowledge_base import KnowledgeBase

    if evaluator is None:
        evaluator, llm = _validated(cfg, llm)
    kb = KnowledgeBase(Path(cfg.kb_dir) if cfg.kb_dir else run_dir / "kb")
    return Runtime(
        config=cfg,
        run_dir=run_dir,
        evaluator=evaluator,
        llm=llm,
        kb=kb,
        trace=TraceWriter(run_dir / "trace.jsonl"),
        on_round=on_round,
    )


def _validated(cfg: RunConfig, llm: Any) -> tuple[Evaluator, Any]:
    """Everything that can reject the user's settings, before any file is written."""
    from agentnas.agents.llm import make_llm

    objectives = cfg.objectives or list(default_objectives(cfg.space))
    evaluator = Evaluator(
        cfg.space, cfg.dataset, cfg.hardware, objectives, cfg.accuracy, cfg.backend_options
    )
    if llm is None:
        llm = make_llm(
            cfg.llm, seed=cfg.seed, max_calls=cfg.max_llm_calls, timeout_s=cfg.llm_timeout_s
        )
    return evaluator, llm


def start_run(
    cfg: RunConfig,
    run_dir: Path,
    on_round: Callable[[dict[str, Any]], None] | None = None,
    llm: Any = None,
) -> dict[str, Any]:
    run_dir = Path(run_dir)
    if (run_dir / CONFIG_FILE).exists():
        raise UserError(f"{run_dir} already holds a run; continue it with --resume {run_dir}")
    evaluator, llm = _validated(cfg, llm)  # refuse bad settings before anything is written
    run_dir.mkdir(parents=True, exist_ok=True)
    rt = make_runtime(cfg, run_dir, on_round, llm, evaluator)
    write_json_atomic(run_dir / CONFIG_FILE, cfg.model_dump(mode="json"))
    rt.trace.write(
        "run_start", config=cfg.model_dump(mode="json"), llm=rt.llm.label, is_llm=rt.llm.is_llm
    )
    return _drive(rt, {"round": 0})


def resume_run(
    run_dir: Path, on_round: Callable[[dict[str, Any]], None] | None = None, llm: Any = None
) -> dict[str, Any]:
    run_dir = Path(run_dir)
    cfg = _read_config(run_dir)
    rt = make_runtime(cfg, run_dir, on_round, llm)
    rt.trace.write("run_resume", llm=rt.llm.label)
    return _drive(rt, None)


def _drive(rt: Runtime, first_input: dict[str, Any] | None) -> dict[str, Any]:
    saver = open_checkpointer(rt.run_dir)
    try:
        graph = build_graph(rt, saver)
        config = {**THREAD, "max_concurrency": rt.config.max_concurrency, "recursion_limit": 10_000}
        if first_input is None:
            snap = graph.get_state(config)
            if not snap.values:
                raise UserError(f"{rt.run_dir} has no checkpoint to resume; start a new run")
            if not snap.next:
                return _load_summary(rt.run_dir)
        graph.invoke(first_input, config)
        return _load_summary(rt.run_dir)
    finally:
        saver.conn.close()


def _load_summary(run_dir: Path) -> dict[str, Any]:
    p = run_dir / "summary.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}


class RunSession:
    """A run driven one round at a time: it pauses at every round boundary (LangGraph
    ``interrupt`` in the steer node) until :meth:`advance` brings the user's commands.
    The chat CLI is built on this; checkpoints make every pause resumable."""

    def __init__(self, rt: Runtime, first_input: dict[str, Any] | None) -> None:
        rt.interactive = True
        self.rt = rt
        self.saver = open_checkpointer(rt.run_dir)
        self.graph = build_graph(rt, self.saver)
        self.config = {
            **THREAD,
            "max_concurrency": rt.config.max_concurrency,
            "recursion_limit": 10_000,
        }
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
        run_dir = Path(run_dir)
        if (run_dir / CONFIG_FILE).exists():
            raise UserError(f"{run_dir} already holds a run; continue it with --resume")
        evaluator, llm = _validated(cfg, llm)
        run_dir.mkdir(parents=True, exist_ok=True)
        rt = make_runtime(cfg, run_dir, on_round, llm, evaluator)
        write_json_atomic(run_dir / CONFIG_FILE, cfg.model_dump(mode="json"))
        rt.trace.write(
            "run_start",
            config=cfg.model_dump(mode="json"),
            llm=rt.llm.label,
            is_llm=rt.llm.is_llm,
            interactive=True,
        )
        return cls(rt, {"round": 0})

    @classmethod
    def resume(
        cls,
        run_dir: Path,
        llm: Any = None,
        on_round: Callable[[dict[str, Any]], None] | None = None,
    ) -> RunSession:
        cfg = _read_config(Path(run_dir))
        rt = make_runtime(cfg, Path(run_dir), on_round, llm)
        rt.trace.write("run_resume", llm=rt.llm.label, interactive=True)
        return cls(rt, None)

    def advance(self, commands: list[Any] | None = None) -> dict[str, Any]:
        """Run to the next round boundary (or the end). Returns ``{"paused": True,
        "round", "stats", "front", "done"}`` at a pause, or ``{"paused": False,
        "summary"}`` when the run has finished."""
        from langgraph.types import Command

        if self.finished:
            return {"paused": False, "summary": _load_summary(self.rt.run_dir)}
        snap = self.graph.get_state(self.config)
        if self._pending is not None:
            arg: Any = self._pending
            self._pending = None
        elif snap.interrupts:
            arg = Command(
                resume=[
                    c.model_dump(mode="json") if hasattr(c, "model_dump") else c
                    for c in (commands or [])
                ]
            )
        elif snap.next:
            arg = None
        else:
            self.finished = True
            return {"paused": False, "summary": _load_summary(self.rt.run_dir)}
        self.graph.invoke(arg, self.config)
        snap = self.graph.get_state(self.config)
        if snap.interrupts:
            return {"paused": True, **snap.interrupts[0].value}
        self.finished = True
        return {"paused": False, "summary": _load_summary(self.rt.run_dir)}

    def close(self) -> None:
        self.saver.conn.close()


def _read_config(run_dir: Path) -> RunConfig:
    path = run_dir / CONFIG_FILE
    if not path.exists():
        raise UserError(f"{run_dir} is not a run folder (no {CONFIG_FILE})")
    try:
        return RunConfig.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, ValueError) as exc:
        raise UserError(f"{path} is corrupt: {str(exc).splitlines()[0]}") from None
