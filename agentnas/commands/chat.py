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

import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from agentnas.agents.llm import OFFLINE_LABEL
from agentnas.agents.steering import SteerContext, changes_run, describe, interpret
from agentnas.agents.steering_commands import Stop
from agentnas.agents.usage import add_usage, usage_of
from agentnas.commands.chat_questions import answer_question
from agentnas.commands.chat_view import (
    HELP,
    front_rows,
    front_table,
    kb_table,
    status_line,
    steering_status,
    trace_line,
)
from agentnas.commands.progress_view import live_progress
from agentnas.commands.run_options import (
    ResumeOpt,
    refuse_with_resume,
    run_config,
    with_run_options,
)
from agentnas.commands.run_text import done_line, new_run_dir, start_line
from agentnas.commands.steer_context import context_from_checkpoint, context_from_state
from agentnas.graph.budgets import expected_line
from agentnas.graph.steering import record_script_line, script_actions
from agentnas.tools.errors import UserError
from agentnas.tools.progress import progress

console = Console()

FRONT_ROWS = 5  # front members shown at each pause (/front shows all)


# ---------------------------------------------------------------- steering context

__all__ = ["ChatLoop", "append_commands", "context_from_checkpoint", "context_from_state"]

LOCAL = ("/help", "/front", "/status", "/kb", "/trace", "/quit", "/exit")  # read-only here


def append_commands(run_dir: Path, commands: list[Any]) -> Path:
    """Append one JSON line per action to RUN_DIR/steer.jsonl (append + flush + fsync:
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
    """The read–interpret–advance loop over one :class:`RunSession`.

    At each pause lines are read until one changes the run: questions, read-only slash
    commands and lines that are not understood are answered and the next line is read at
    the same pause; a line that yields actions is applied and the run goes on to its next
    pause. ``script`` (``chat --script FILE``) replaces the keyboard by the file's lines;
    when they (or the keyboard's input) end, the run goes on to its budget without
    pausing."""

    def __init__(self, session: Any, script: list[str] | None = None) -> None:
        self.session = session
        self.rt = session.rt
        self.auto = False  # end of input seen: continue to the end without asking
        self.script = list(script) if script is not None else None
        self._round_attempts: dict[int, int] = {}
        self._usage: dict[str, int] = {}  # the steering agent's model use since the last pause

    def values(self) -> dict[str, Any]:
        return self.session.graph.get_state(self.session.config).values

    def context(self) -> SteerContext:
        return context_from_state(self.values(), self.rt)

    def run(self) -> dict[str, Any]:
        snap = self.session.graph.get_state(self.session.config)
        if snap.interrupts:  # resumed at a pause: let the user steer it first
            step: dict[str, Any] = {"paused": True, **snap.interrupts[0].value}
        else:
            step = self.advance()
        while step.get("paused"):
            ctx = self.context()
            if not self.auto:
                self.show_pause(step, ctx)
            commands = [] if self.auto else self.ask(ctx)
            usage, self._usage = self._usage, {}
            step = self.advance(commands, llm_usage=usage)
        return step.get("summary") or {}

    def advance(self, commands: list[Any] | None = None, **kw: Any) -> dict[str, Any]:
        """Run to the next pause with progress bars (none while the user types)."""
        with live_progress(console):
            return self.session.advance(commands or [], **kw)

    def show_pause(self, step: dict[str, Any], ctx: SteerContext) -> None:
        console.print(status_line(step, ctx), highlight=False)
        rows = front_rows(
            self.values().get("candidates") or [], step.get("front") or [], self._objectives()
        )
        if rows:
            shown = rows[:FRONT_ROWS]
            title = f"front ({len(shown)} of {len(rows)}; /front for all)"
            console.print(front_table(shown, title))

    def _objectives(self) -> list[Any]:
        return self.rt.evaluator.objectives

    def _read(self) -> str | None:
        """The next line (None at the end of input); a script's lines are echoed."""
        if self.script is not None:
            if not self.script:
                return None
            line = self.script.pop(0).rstrip("\n")
            console.print(f"steer> {line}", highlight=False, markup=False)
            return line
        try:
            return console.input("steer> ")
        except EOFError:
            return None

    def ask(self, ctx: SteerContext) -> list[Any]:
        """Read lines until one changes the run (or input ends)."""
        while True:
            raw = self._read()
            if raw is None:
                console.print("(end of input: continuing to the end without more pauses)")
                self.auto = True
                return []
            line = raw.strip()
            if self.script is not None and line.startswith("#"):
                continue  # a comment in a script
            name = line.split(" ", 1)[0].lower()
            if name in LOCAL or line.lower().startswith("/heuristic list"):
                done, commands = self.slash(line, ctx)
                if done:
                    record_script_line(self.rt.run_dir, line)
                    return commands
                continue
            replayed = script_actions(line) if self.script is not None else None
            if replayed is not None:  # a replayed run's actions (report's command)
                self.rt.trace.write(
                    "chat", round=ctx.round, message=line, reply="replayed actions",
                    label="script", commands=[c.model_dump(mode="json") for c in replayed],
                )  # fmt: skip
                for text in describe(replayed, ctx):
                    console.print(f"  → {text}", highlight=False, markup=False)
                record_script_line(self.rt.run_dir, line)
                return [c for c in replayed if c.action not in ("continue", "question")]
            commands = self.interpret(line, ctx)
            if commands is not None:  # the line moves the run on: the replay needs it
                record_script_line(self.rt.run_dir, line)
                return commands

    def interpret(self, line: str, ctx: SteerContext) -> list[Any] | None:
        """Actions to apply (``[]`` = just go on), or None: read the next line."""
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
        answers = [
            answer_question(self.rt.run_dir, c, ctx)
            for c in result.commands
            if c.action == "question"
        ]
        actions = [c for c in result.commands if c.action != "question"]
        self.rt.trace.write(
            "chat",
            round=ctx.round,
            message=line,
            reply=result.reply,
            label=result.label,
            fallback_used=result.fallback_used,
            commands=[c.model_dump(mode="json") for c in result.commands],
            answers=answers,
            refused=result.refused,
        )
        if not answers or actions:
            console.print(
                f"[dim]{escape(result.label)}:[/] {escape(result.reply)}", highlight=False
            )
        if actions and result.label != OFFLINE_LABEL:
            for text in describe(actions, ctx):
                console.print(f"  → {text}", highlight=False, markup=False)
        for text in answers:
            console.print(text, highlight=False, markup=False)
        if changes_run(actions):
            return [c for c in actions if c.action != "continue"]
        if actions:  # continue / resume: go on unchanged
            return []
        if not answers:
            console.print("(nothing changed; /help shows examples)")
        return None

    def slash(self, line: str, ctx: SteerContext) -> tuple[bool, list[Any]]:
        """A read-only local command: (advance now?, actions)."""
        name, _, arg = line.partition(" ")
        name = name.lower()
        if name in ("/quit", "/exit"):
            self.rt.trace.write(
                "chat", round=ctx.round, message=line, reply="stop", label="slash command",
                commands=[Stop().model_dump(mode="json")],
            )  # fmt: skip
            console.print("stopping: the run writes its report now")
            return True, [Stop()]
        if name == "/help":
            console.print(HELP, highlight=False, markup=False)
        elif name == "/front":
            v = self.values()
            rows = front_rows(v.get("candidates") or [], v.get("front") or [], self._objectives())
            console.print(front_table(rows, f"front ({len(rows)} architectures)"))
        elif name == "/status":
            console.print(steering_status(ctx), highlight=False, markup=False)
        elif name in ("/kb", "/heuristic"):
            console.print(kb_table(self.values().get("heuristics") or []))
        elif name == "/trace":
            self._trace(arg)
        return False, []

    def _trace(self, arg: str) -> None:
        from agentnas.graph.trace import read_trace

        try:
            n = int(arg) if arg.strip() else 10
        except ValueError:
            console.print("usage: /trace [N]  (N = number of events, default 10)")
            return
        for e in read_trace(self.rt.run_dir / "trace.jsonl")[-max(n, 1) :]:
            console.print(trace_line(e), highlight=False, markup=False, soft_wrap=True)


def read_script(path: Path) -> list[str]:
    """The lines of a ``chat --script`` file (one message per line; ``#`` comments)."""
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the chat script {path}: {exc}") from None


# ---------------------------------------------------------------- commands


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command()
    @with_run_options
    def chat(
        settings: dict[str, Any],
        resume: ResumeOpt = None,
        script: Path | None = typer.Option(
            None,
            "--script",
            help="read the messages from FILE, one per line, at the pauses; questions and "
            "read-only commands are answered at the same pause; at the end of the file the "
            "run goes on to its budget",
        ),
    ) -> None:
        """Steer a search in conversation: it pauses after every round for your message.

        End of input (Ctrl-D) continues to the end without more pauses; /help lists more.

        Example: agentnas chat --hardware hwnasbench:fpga --budget 60 --rounds 6"""
        from agentnas.graph.runner import RunSession

        lines = read_script(script) if script is not None else None
        if resume is not None:
            caps = refuse_with_resume(settings)
            console.print(f"resuming [bold]{resume}[/]")
            with live_progress(console):
                progress("opening the run: checkpoint, knowledge base, hardware tables")
                session = RunSession.resume(resume, caps=caps)
            run_dir = resume
        else:
            cfg = run_config(settings)
            run_dir = new_run_dir(settings["out"])
            console.print(start_line("agentnas chat", cfg, run_dir))
            if cfg.llm != "offline":  # the calls and tokens it expects, before it starts
                console.print(expected_line(cfg), highlight=False, markup=False)
            with live_progress(console):
                progress("preparing the run: knowledge base, hardware tables")
                session = RunSession.start(cfg, run_dir)
        console.print(f"steering agent: {session.rt.llm.label} · /help for commands")
        try:
            summary = ChatLoop(session, script=lines).run()
        except KeyboardInterrupt:
            console.print(f"interrupted; continue with: agentnas chat --resume {run_dir}")
            raise
        finally:
            session.close()
        if not summary:
            raise UserError(f"run in {run_dir} did not finish")
        console.print(done_line(summary, run_dir))

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
        ctx = context_from_checkpoint(run_dir)
        result = interpret(text, ctx, make_llm(llm or "offline"))
        questions = [c for c in result.commands if c.action == "question"]
        commands = [c for c in result.commands if c.action not in ("continue", "question")]
        if not result.commands:
            raise UserError(f"nothing to apply in {text!r}: {result.reply}")
        for q in questions:  # answered here, from the folder; nothing is sent to the run
            console.print(answer_question(run_dir, q, ctx), highlight=False, markup=False)
        if not questions or commands:
            console.print(
                f"[dim]{escape(result.label)}:[/] {escape(result.reply)}", highlight=False
            )
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
