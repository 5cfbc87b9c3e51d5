"""``agentnas chat`` (steer a run conversationally, round by round) and ``agentnas steer``
(send one message to a run going on in another terminal).

``chat`` drives a :class:`~agentnas.graph.runner.RunSession`: at every round boundary it
shows the round's figures and a short front, reads one line, turns it into steering
commands with the steering agent (the run's own ``--llm`` backend, or the offline policy)
and advances. Lines starting with ``/`` are handled here, without the agent. End of input
(Ctrl-D, or a closed pipe) means "continue to the end": every later pause is answered with
no commands, so the run finishes its budget and writes its report. Ctrl-C leaves the run
resumable with ``agentnas chat --resume RUN_DIR``.

``steer`` appends the commands as JSON lines to ``RUN_DIR/steer.jsonl``; the run applies
them at its next round boundary (``graph/steering.py``). What the chat shows (tables,
status and trace lines) is built by :mod:`agentnas.commands.chat_view`.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from agentnas.agents.llm import OFFLINE_LABEL
from agentnas.agents.steering import (
    SteerCommand,
    SteerContext,
    SteerPartition,
    describe,
    interpret,
)
from agentnas.agents.usage import add_usage, usage_of
from agentnas.commands.chat_view import (
    HELP,
    front_rows,
    front_table,
    kb_table,
    status_line,
    trace_line,
)
from agentnas.commands.run import (
    AccuracyOpt,
    BackendOptionOpt,
    BudgetOpt,
    ConfigOpt,
    DatasetOpt,
    DedupeOpt,
    HardwareOpt,
    KbOpt,
    LlmOpt,
    MaxLlmCallsOpt,
    ObjectivesOpt,
    OnLlmFailureOpt,
    OutOpt,
    PartitionsOpt,
    ResumeOpt,
    RoundsOpt,
    SeedOpt,
    SpaceOpt,
    _fmt,
    _llm_label,
    collect_settings,
    refuse_with_resume,
    run_config,
)
from agentnas.tools.errors import UserError

console = Console()

FRONT_ROWS = 5  # front members shown at each pause (/front shows all)
CONTEXT_FRONT_ROWS = 8  # front members the steering agent sees


# ---------------------------------------------------------------- steering context


def context_from_state(values: dict[str, Any], objectives: list[Any]) -> SteerContext:
    """What the steering agent sees, from the graph state at a pause."""
    cfg = values.get("config") or {}
    limits = values.get("limits") or {}
    cands = values.get("candidates") or []
    rows = front_rows(cands, values.get("front") or [], objectives)[:CONTEXT_FRONT_ROWS]
    return SteerContext(
        round=int(values.get("round", 0)),
        space=cfg.get("space", ""),
        hardware=cfg.get("hardware", ""),
        objectives=[o.metric for o in objectives],
        partitions=[SteerPartition.model_validate(p) for p in values.get("partitions") or []],
        front=rows,
        budget=int(limits.get("budget", cfg.get("budget", 0))),
        rounds=int(limits.get("rounds", cfg.get("rounds", 0))),
        evaluations=len(cands),
        heuristics=len(values.get("heuristics") or []),
        focus=list(values.get("focus") or []),
    )


def context_from_trace(run_dir: Path) -> SteerContext:
    """The same context for a run going on in another process, from its files only
    (``config.json`` and ``trace.jsonl``; a torn last trace line is skipped)."""
    from agentnas.graph.trace import read_trace

    cfg = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    budget, rounds = int(cfg.get("budget", 0)), int(cfg.get("rounds", 0))
    parts: list[dict[str, Any]] = []
    last_select: dict[str, Any] = {}
    metrics: dict[str, dict[str, float]] = {}
    heuristics, focus = 0, []
    for e in read_trace(run_dir / "trace.jsonl"):
        kind = e.get("event")
        if kind == "partitions":
            parts = e.get("partitions") or []
        elif kind == "select":
            last_select = e
        elif kind == "evaluation":
            metrics[e.get("arch", "")] = e.get("metrics") or {}
        elif kind == "kb_loaded":
            heuristics = len(e.get("heuristics") or [])
        elif kind == "kb_changes":
            for ch in e.get("changes") or []:
                heuristics += {"add": 1, "retire": -1}.get(ch.get("action"), 0)
        elif kind == "steer":
            c = e.get("command") or {}
            budget += c.get("amount", 0) if c.get("action") == "extend_budget" else 0
            rounds += c.get("amount", 0) if c.get("action") == "extend_rounds" else 0
            focus = c.get("partitions", []) if c.get("action") == "focus" else focus
    objectives = list(cfg.get("objectives") or [])
    front = []
    for arch in (last_select.get("front") or [])[:CONTEXT_FRONT_ROWS]:
        front.append({"arch": arch, **metrics.get(arch, {})})
    return SteerContext(
        round=int(last_select.get("round", 0)),
        space=cfg.get("space", ""),
        hardware=cfg.get("hardware", ""),
        objectives=objectives,
        partitions=[SteerPartition.model_validate(p) for p in parts],
        front=front,
        budget=budget,
        rounds=rounds,
        evaluations=int(last_select.get("evaluations", 0)),
        heuristics=max(0, heuristics),
        focus=focus,
    )


def append_commands(run_dir: Path, commands: list[SteerCommand]) -> Path:
    """Append one JSON line per command to RUN_DIR/steer.jsonl (append + flush + fsync:
    the run reads the file from another process at its next round boundary)."""
    from agentnas.graph.steering import STEER_FILE

    path = run_dir / STEER_FILE
    text = "".join(c.model_dump_json() + "\n" for c in commands)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    return path


class ChatLoop:
    """The read–interpret–advance loop over one :class:`RunSession`."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.rt = session.rt
        self.auto = False  # end of input seen: continue to the end without asking
        self._round_attempts: dict[int, int] = {}
        self._usage: dict[str, int] = {}  # the steering agent's model use since the last pause

    def values(self) -> dict[str, Any]:
        return self.session.graph.get_state(self.session.config).values

    def context(self) -> SteerContext:
        return context_from_state(self.values(), self.rt.evaluator.objectives)

    def run(self) -> dict[str, Any]:
        snap = self.session.graph.get_state(self.session.config)
        if snap.interrupts:  # resumed at a pause: let the user steer it first
            step: dict[str, Any] = {"paused": True, **snap.interrupts[0].value}
        else:
            step = self.session.advance()
        while step.get("paused"):
            ctx = self.context()
            console.print(status_line(step, ctx), highlight=False)
            rows = front_rows(
                self.values().get("candidates") or [], step.get("front") or [], self._objectives()
            )
            if rows:
                shown = rows[:FRONT_ROWS]
                title = f"front ({len(shown)} of {len(rows)}; /front for all)"
                console.print(front_table(shown, title))
            commands = [] if self.auto else self.ask(ctx)
            usage, self._usage = self._usage, {}
            step = self.session.advance(commands, llm_usage=usage)
        return step.get("summary") or {}

    def _objectives(self) -> list[Any]:
        return self.rt.evaluator.objectives

    def ask(self, ctx: SteerContext) -> list[SteerCommand]:
        """Read lines until one yields commands (or input ends)."""
        while True:
            try:
                line = console.input("steer> ").strip()
            except EOFError:
                console.print("(end of input: continuing to the end without more pauses)")
                self.auto = True
                return []
            if line.startswith("/"):
                done, commands = self.slash(line, ctx)
                if done:
                    return commands
                continue
            commands = self.interpret(line, ctx)
            if commands:
                return commands

    def interpret(self, line: str, ctx: SteerContext) -> list[SteerCommand]:
        offset = self._round_attempts.get(ctx.round, 0)
        repairs = self.rt.config.repairs("steering")
        result = interpret(line, ctx, self.rt.llm, max_repairs=repairs, attempt_offset=offset)
        self._round_attempts[ctx.round] = offset + len(result.attempts)
        self._usage = dict(
            add_usage(self._usage, usage_of(result.attempts, fallback=result.fallback_used))
        )
        for a in result.attempts:
            record = a.model_dump(mode="json")
            self.rt.trace.write("agent_attempt", round=ctx.round, **record)
            for call in record.get("llm_calls") or []:
                self.rt.trace.write("llm_call", **call)
        self.rt.trace.write(
            "chat",
            round=ctx.round,
            message=line,
            reply=result.reply,
            label=result.label,
            fallback_used=result.fallback_used,
            commands=[c.model_dump(mode="json") for c in result.commands],
        )
        console.print(f"[dim]{escape(result.label)}:[/] {escape(result.reply)}", highlight=False)
        if result.commands and result.label != OFFLINE_LABEL:
            for text in describe(result.commands, ctx):
                console.print(f"  → {text}", highlight=False, markup=False)
        if not result.commands:
            console.print("(nothing applied; /help shows examples)")
        return result.commands

    def slash(self, line: str, ctx: SteerContext) -> tuple[bool, list[SteerCommand]]:
        """A local command: (advance now?, commands)."""
        name, _, arg = line.partition(" ")
        name = name.lower()
        if name in ("/quit", "/stop", "/exit"):
            self.rt.trace.write(
                "chat", round=ctx.round, message=line, reply="stop", label="slash command"
            )
            console.print("stopping: the run writes its report now")
            return True, [SteerCommand(action="stop")]
        if name == "/help":
            console.print(HELP, highlight=False, markup=False)
        elif name == "/front":
            v = self.values()
            rows = front_rows(v.get("candidates") or [], v.get("front") or [], self._objectives())
            console.print(front_table(rows, f"front ({len(rows)} architectures)"))
        elif name == "/kb":
            self._kb()
        elif name == "/trace":
            self._trace(arg)
        else:
            console.print(
                f"unknown command {name}; /help lists them", highlight=False, markup=False
            )
        return False, []

    def _kb(self) -> None:
        console.print(kb_table(self.values().get("heuristics") or []))

    def _trace(self, arg: str) -> None:
        from agentnas.graph.trace import read_trace

        try:
            n = int(arg) if arg.strip() else 10
        except ValueError:
            console.print("usage: /trace [N]  (N = number of events, default 10)")
            return
        for e in read_trace(self.rt.run_dir / "trace.jsonl")[-max(n, 1) :]:
            console.print(trace_line(e), highlight=False, markup=False, soft_wrap=True)


# ---------------------------------------------------------------- commands


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command()
    def chat(
        space: SpaceOpt = None,
        dataset: DatasetOpt = None,
        hardware: HardwareOpt = None,
        objectives: ObjectivesOpt = None,
        accuracy: AccuracyOpt = None,
        llm: LlmOpt = None,
        rounds: RoundsOpt = None,
        budget: BudgetOpt = None,
        seed: SeedOpt = None,
        partitions: PartitionsOpt = None,
        max_llm_calls: MaxLlmCallsOpt = None,
        on_llm_failure: OnLlmFailureOpt = None,
        kb: KbOpt = None,
        dedupe_isomorphic: DedupeOpt = None,
        backend_option: BackendOptionOpt = None,
        out: OutOpt = None,
        config: ConfigOpt = None,
        resume: ResumeOpt = None,
    ) -> None:
        """Steer a search in conversation: it pauses after every round for your message.

        End of input (Ctrl-D) continues to the end without more pauses; /help lists more."""
        from agentnas.graph.runner import RunSession

        settings = collect_settings(locals())
        if resume is not None:
            refuse_with_resume(settings)
            console.print(f"resuming [bold]{resume}[/]")
            session = RunSession.resume(resume)
            run_dir = resume
        else:
            cfg = run_config(settings)
            run_dir = out or Path("runs") / time.strftime("%Y%m%d-%H%M%S")
            console.print(
                f"agentnas chat: {cfg.space} / {cfg.dataset or 'default dataset'} / "
                f"{cfg.hardware}, budget "
                f"{cfg.budget}, {cfg.rounds} rounds, llm: {_llm_label(cfg.llm)} → {run_dir}"
            )
            session = RunSession.start(cfg, run_dir)
        console.print(f"steering agent: {session.rt.llm.label} · /help for commands")
        try:
            summary = ChatLoop(session).run()
        except KeyboardInterrupt:
            console.print(f"interrupted; continue with: agentnas chat --resume {run_dir}")
            raise
        finally:
            session.close()
        if not summary:
            raise UserError(f"run in {run_dir} did not finish")
        console.print(
            f"done: {summary['evaluations']} evaluations, front {summary['front_size']}, "
            f"HV ratio {_fmt(summary['hv_ratio'], '.4f')}, IGD {_fmt(summary['igd'], '.4f')}, "
            f"LLM: {summary['llm']}, files in {run_dir}/"
        )

    @app.command()
    def steer(
        run_dir: Path = typer.Argument(..., help="folder of a run going on elsewhere"),
        message: list[str] = typer.Argument(..., help="what you want, in plain words"),
        llm: str = typer.Option(
            None, help="offline (default) | openai:MODEL | replay:FILE, to interpret MESSAGE"
        ),
    ) -> None:
        """Send one steering message to a run going on in another terminal.

        Its commands go to RUN_DIR/steer.jsonl; the run applies them at its next round."""
        from agentnas.agents.llm import make_llm
        from agentnas.graph.runner import read_config

        if not (run_dir / "config.json").is_file():
            raise UserError(f"{run_dir} is not a run folder (no config.json); give RUN_DIR")
        read_config(run_dir)  # a damaged config.json is refused here, in one line
        if (run_dir / "summary.json").exists():
            raise UserError(
                f"the run in {run_dir} has finished (summary.json exists), so nothing would "
                f"read steering; start a new run, or steer one that is going on"
            )
        text = " ".join(message).strip()
        ctx = context_from_trace(run_dir)
        result = interpret(text, ctx, make_llm(llm or "offline"))
        commands = [c for c in result.commands if c.action != "continue"]
        if not result.commands:
            raise UserError(f"nothing to apply in {text!r}: {result.reply}")
        console.print(f"[dim]{escape(result.label)}:[/] {escape(result.reply)}", highlight=False)
        if not commands:
            console.print("nothing to change; steer.jsonl left as it is")
            return
        path = append_commands(run_dir, commands)
        if result.label != OFFLINE_LABEL:  # the offline reply already is the description
            for line in describe(commands, ctx):
                console.print(f"  → {line}", highlight=False, markup=False)
        console.print(
            f"{len(commands)} command(s) appended to {path}; applied at the next round boundary",
            highlight=False,
        )
