"""``agentnas chat`` and ``agentnas steer`` end to end: scripted chat lines change the run
(budget extended, stopped early, focused), every message is traced, and ``steer`` appends
lines that the graph reads back and applies."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from agentnas.agents.steering_commands import Avoid, ExtendBudget, ExtendRounds, Focus, Stop
from agentnas.cli import main
from agentnas.commands import chat
from agentnas.graph.steering import read_steer_file
from agentnas.graph.trace import read_trace

SMALL = ["--budget", "30", "--rounds", "3", "--hardware", "hwnasbench:fpga", "--seed", "1"]


@pytest.fixture
def script(monkeypatch):
    """Replace the chat console by one that prints to a buffer and reads scripted lines
    (then end of input). Returns (set_lines, output, prompts_seen)."""
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False)
    state = {"lines": [], "prompts": 0}

    def fake_input(prompt: str = "") -> str:
        state["prompts"] += 1
        if not state["lines"]:
            raise EOFError
        return state["lines"].pop(0)

    monkeypatch.setattr(console, "input", fake_input)
    monkeypatch.setattr(chat, "console", console)

    def set_lines(lines: list[str]) -> None:
        state["lines"] = list(lines)

    return set_lines, out, state


def _rows(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "candidates.csv") as fh:
        return list(csv.DictReader(fh))


def _paused_run(run_dir: Path) -> None:
    """A run paused at its first round boundary, as if its terminal had been closed."""
    from agentnas.graph.config import RunConfig
    from agentnas.graph.runner import RunSession

    session = RunSession.start(RunConfig(budget=30, rounds=3, seed=1), run_dir)
    try:
        assert session.advance()["paused"]
    finally:
        session.close()


def test_chat_extends_budget_and_traces_every_message(tmp_path, script):
    set_lines, out, state = script
    run_dir = tmp_path / "run"
    set_lines(["add 10 evaluations", "/front", "/kb", "/trace 3", "/nonsense", "/help"])
    assert main(["chat", "--out", str(run_dir), *SMALL]) == 0
    rows = _rows(run_dir)
    assert len(rows) == 40  # 30 + 10
    assert len({r["arch"] for r in rows}) == 40
    # six scripted lines, one end of input, then no more pauses
    assert state["prompts"] == 7
    text = out.getvalue()
    assert "budget +10 evaluations (30 → 40)" in text
    assert "architectures)" in text  # /front
    assert "heuristics in scope" in text  # /kb
    assert "not understood: '/nonsense'" in text
    assert "end of input: continuing to the end" in text
    events = read_trace(run_dir / "trace.jsonl")
    chats = [e for e in events if e["event"] == "chat"]
    assert [c["message"] for c in chats] == ["add 10 evaluations", "/nonsense"]
    assert chats[1]["commands"] == []  # not understood: nothing applied
    assert chats[0]["label"] == "offline policy (no LLM)"
    assert chats[0]["commands"][0] == {**chats[0]["commands"][0], "amount": 10}
    steers = [e["command"] for e in events if e["event"] == "steer"]
    assert {"action": "extend_budget", "amount": 10}.items() <= steers[0].items()
    attempts = [e for e in events if e["event"] == "agent_attempt" and e["role"] == "steering"]
    assert len(attempts) == 2  # "add 10 evaluations" and "/nonsense"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["evaluations"] == 40


@pytest.mark.parametrize("line", ["stop", "/quit"])
def test_chat_stop_ends_the_run_early_with_a_report(tmp_path, script, line):
    set_lines, _, state = script
    run_dir = tmp_path / "run"
    set_lines([line])
    assert main(["chat", "--out", str(run_dir), *SMALL]) == 0
    rows = _rows(run_dir)
    assert len(rows) < 30 and {r["operator"] for r in rows} == {"seed"}
    assert state["prompts"] == 1
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["evaluations"] == len(rows)
    events = read_trace(run_dir / "trace.jsonl")
    assert [e["command"]["action"] for e in events if e["event"] == "steer"] == ["stop"]
    assert [e["message"] for e in events if e["event"] == "chat"] == [line]
    assert events[-1]["event"] == "report"


def test_chat_resume_lets_the_user_steer_the_pending_pause(tmp_path, script):
    set_lines, out, _ = script
    run_dir = tmp_path / "run"
    _paused_run(run_dir)
    seeds = len(_rows(run_dir))
    set_lines(["focus on partitions 4 and 5"])
    assert main(["chat", "--resume", str(run_dir)]) == 0
    designed = _rows(run_dir)[seeds:]
    assert designed, "no design round ran"
    assert {int(r["partition"]) for r in designed} <= {4, 5}
    assert "round 0 " in out.getvalue()  # the pending pause was shown, not skipped


def test_steer_appends_lines_the_running_graph_applies(tmp_path, script):
    set_lines, out, _ = script
    run_dir = tmp_path / "run"
    _paused_run(run_dir)
    assert (
        main(["steer", str(run_dir), "add 20 evaluations; avoid avg_pool_3x3 near the output"]) == 0
    )
    commands, bad, seen = read_steer_file(run_dir, 0)
    assert bad == [] and seen == 2
    assert [c.model_dump(exclude={"text"}) for c in commands] == [
        {"action": "extend_budget", "amount": 20},
        {"action": "avoid", "op": "avg_pool_3x3", "edges": ["3<-0", "3<-1", "3<-2"]},
    ]
    assert "budget +20 evaluations (30 → 50)" in out.getvalue()
    set_lines([])  # end of input at once: run to the end
    assert main(["chat", "--resume", str(run_dir)]) == 0
    assert len(_rows(run_dir)) == 50
    events = read_trace(run_dir / "trace.jsonl")
    kb_adds = [
        c for e in events if e["event"] == "kb_changes" and e.get("decided_by") == "user"
        for c in e["changes"]
    ]  # fmt: skip
    assert [c["text"] for c in kb_adds] == [
        "Avoid avg_pool_3x3 near the output (edges 3<-0, 3<-1, 3<-2) (user rule)"
    ]
    late = [r for r in _rows(run_dir) if int(r["round"]) >= 1]
    assert late and all("avg_pool_3x3~" not in r["arch"].split("+")[-1] for r in late)


# ---------------------------------------------------------------- no graph needed


def test_steer_refuses_a_missing_run_folder(tmp_path, capsys):
    assert main(["steer", str(tmp_path / "nope"), "add 10 evaluations"]) == 2
    assert "is not a run folder" in capsys.readouterr().err


def test_steer_reads_the_running_folders_checkpoint_without_writing(tmp_path):
    """``steer`` (another process) sees what the chat sees at the same pause: the context
    comes from the run's last checkpoint (read through an in-memory copy, so the live
    run's database stays as it is) and the run's own config."""
    from agentnas.graph.config import RunConfig
    from agentnas.graph.runner import RunSession

    run_dir = tmp_path / "run"
    session = RunSession.start(RunConfig(budget=30, rounds=3, seed=1), run_dir)
    try:
        assert session.advance()["paused"]
        assert session.advance([ExtendBudget(amount=5), Focus(partitions=[2])])["paused"]
        live = chat.ChatLoop(session).context()
        files = sorted(run_dir.glob("checkpoints.sqlite*"))
        before = {p.name: p.read_bytes() for p in files if not p.name.endswith("-shm")}
        ctx = chat.context_from_checkpoint(run_dir)
        after = {p.name: p.read_bytes() for p in files if not p.name.endswith("-shm")}
        now = sorted(run_dir.glob("checkpoints.sqlite*"))
    finally:
        session.close()
    assert ctx == live
    assert (ctx.round, ctx.budget, ctx.rounds, ctx.focus) == (1, 35, 3, [2])
    assert len(ctx.partitions) > 1 and ctx.front and ctx.operations
    assert before == after and now == files


def test_steer_on_a_paused_folder_maps_low_latency_and_appends(tmp_path, script):
    _, out, _ = script
    run_dir = tmp_path / "run"
    _paused_run(run_dir)
    assert main(["steer", str(run_dir), "focus", "on", "low", "latency"]) == 0
    assert main(["steer", str(run_dir), "continue"]) == 0  # nothing to write
    assert main(["steer", str(run_dir), "focus on partition 17"]) == 2
    commands, bad, seen = read_steer_file(run_dir, 0)
    assert (bad, seen) == ([], 1)
    # "low latency" = the lowest-complexity partitions: a third of the run's 6
    assert [(c.action, c.partitions) for c in commands] == [("focus", [0, 1])]
    assert "nothing to change" in out.getvalue()


def test_append_commands_round_trips_through_read_steer_file(tmp_path):
    cmds = [
        Avoid(op="avg_pool_3x3", edges=["3<-2"]),
        ExtendRounds(amount=2),
    ]
    chat.append_commands(tmp_path, cmds[:1])
    chat.append_commands(tmp_path, cmds[1:])
    got, bad, seen = read_steer_file(tmp_path, 0)
    assert got == cmds and bad == [] and seen == 2
    assert read_steer_file(tmp_path, seen) == ([], [], 2)


def test_trace_line_is_one_short_line():
    e = {"event": "select", "round": 2, "evaluations": 40, "front_size": 7, "hv_ratio": 0.8,
         "igd": None}  # fmt: skip
    assert chat.trace_line(e) == "select            r2 40 evals, front 7, HV 0.8000, IGD –"
    long = {"event": "other", "payload": "x" * 500}
    line = chat.trace_line(long)
    assert len(line) == 160 and "\n" not in line and line.endswith("...")


def test_a_steer_line_still_being_written_is_left_for_the_next_boundary(tmp_path):
    """The run reads steer.jsonl while ``agentnas steer`` may be writing it: a last line
    without its newline must not be counted as read (it would be lost)."""
    whole = ExtendBudget(amount=5).model_dump_json()
    half = Stop().model_dump_json()
    (tmp_path / "steer.jsonl").write_text(whole + "\n" + half[:10])
    got, bad, seen = read_steer_file(tmp_path, 0)
    assert [c.action for c in got] == ["extend_budget"] and bad == [] and seen == 1
    (tmp_path / "steer.jsonl").write_text(whole + "\n" + half + "\n")
    got, bad, seen = read_steer_file(tmp_path, seen)
    assert [c.action for c in got] == ["stop"] and bad == [] and seen == 2
