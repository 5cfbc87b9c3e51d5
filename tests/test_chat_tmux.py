"""``agentnas chat`` in a real terminal (tmux send-keys / capture-pane): start, constrain
latency, see the confirmation, ask ``/why`` about a cell and see its parents named, quit;
the run folder holds the conversation and the steering events."""

from __future__ import annotations

import csv
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from agentnas.graph.trace import read_trace

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]
WAIT_S = 240  # generous: a loaded 2-core CI machine


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def _pane(session: str) -> str:
    return _tmux("capture-pane", "-p", "-J", "-S", "-2000", "-t", session)


def _wait_for(session: str, predicate, what: str) -> str:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        text = _pane(session)
        if predicate(text):
            return text
        time.sleep(0.3)
    raise AssertionError(f"waited {WAIT_S} s for {what}; the terminal shows:\n{_pane(session)}")


def _prompts(text: str) -> int:
    return text.count("steer> ")


def _type(session: str, line: str) -> None:
    _tmux("send-keys", "-t", session, "-l", line)
    _tmux("send-keys", "-t", session, "Enter")


def test_chat_in_a_real_terminal(tmp_path: Path):
    run_dir = tmp_path / "run"
    session = f"agentnas-{uuid.uuid4().hex[:8]}"
    cmd = (
        f"COLUMNS=250 {shlex.quote(sys.executable)} -m agentnas chat "
        f"--out {shlex.quote(str(run_dir))} "
        "--hardware hwnasbench:fpga --budget 30 --rounds 3 --seed 1; sleep 30"
    )
    _tmux("new-session", "-d", "-s", session, "-x", "250", "-y", "60", cmd)
    try:
        _wait_for(session, lambda t: _prompts(t) >= 1, "the first pause")
        _type(session, "keep latency under 3 ms")
        text = _wait_for(session, lambda t: _prompts(t) >= 2, "the next pause")
        flat = " ".join(text.split())
        assert "constraint latency_ms < 3 ms: from now on no Designer proposes" in flat
        with open(run_dir / "candidates.csv", encoding="utf-8") as fh:
            child = next(r for r in csv.DictReader(fh) if r["parents"])
        _type(session, f"/why {child['arch']}")
        text = _wait_for(session, lambda t: _prompts(t) >= 3, "the answer")
        answer = text[text.rindex("/why ") :].replace("\n", "")
        for parent in child["parents"].split(";"):
            assert parent in answer, (parent, answer)
        _type(session, "/quit")
        text = _wait_for(session, lambda t: "done:" in t, "the end of the run")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    events = read_trace(run_dir / "trace.jsonl")
    chats = [e["message"] for e in events if e["event"] == "chat"]
    assert chats == ["keep latency under 3 ms", f"/why {child['arch']}", "/quit"]
    steers = [e["command"]["action"] for e in events if e["event"] == "steer"]
    assert steers == ["constrain", "stop"]
    assert (run_dir / "summary.json").exists()
