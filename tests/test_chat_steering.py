"""Steering a real run through ``chat --script``: questions and non-actions change
nothing and the answers name real cells; bad commands and impossible constraints get a
helpful message and change nothing; a constraint binds every later child and the run
reports the constrained front next to the unconstrained one; ``agentnas run`` prints
each steer when it arrives, and a paused autonomous run waits for ``resume``."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from pathlib import Path

import pytest
from rich.console import Console
from test_steering_actions import NON_ACTIONS, QUESTIONS

from agentnas.cli import main
from agentnas.commands import chat, run
from agentnas.graph.trace import read_trace

SMALL = ["--budget", "30", "--rounds", "3", "--hardware", "hwnasbench:fpga", "--seed", "1"]


@pytest.fixture
def out(monkeypatch):
    buf = io.StringIO()
    console = Console(file=buf, width=200, force_terminal=False)
    monkeypatch.setattr(chat, "console", console)
    monkeypatch.setattr(run, "console", console)
    return buf


def _rows(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "candidates.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _chat(tmp_path: Path, name: str, lines: list[str], *extra: str) -> Path:
    script = tmp_path / f"{name}.txt"
    script.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    run_dir = tmp_path / name
    assert main(["chat", "--out", str(run_dir), "--script", str(script), *SMALL, *extra]) == 0
    return run_dir


def test_questions_and_non_actions_change_nothing_and_answers_name_real_cells(tmp_path, out):
    plain = _chat(tmp_path, "plain", [])
    talk = _chat(tmp_path, "talk", [*QUESTIONS, *NON_ACTIONS])
    # the same run, cell for cell: nothing was applied
    assert [r["arch"] for r in _rows(talk)] == [r["arch"] for r in _rows(plain)]
    events = read_trace(talk / "trace.jsonl")
    assert not [e for e in events if e["event"] == "steer"]
    chats = [e for e in events if e["event"] == "chat"]
    assert [c["message"] for c in chats] == [*QUESTIONS, *NON_ACTIONS]
    assert all(c["round"] == 0 for c in chats)  # all read at the first pause
    cells = {r["arch"] for r in _rows(talk) if r["round"] == "0"}
    for c in chats[: len(QUESTIONS)]:
        assert [x["action"] for x in c["commands"]] == ["question"], c["message"]
        (text,) = c["answers"]
        assert any(a in text for a in cells), (c["message"], text)
    for c in chats[len(QUESTIONS) :]:
        assert not [x for x in c["commands"] if x["action"] not in ("question", "continue")]
    text = out.getvalue()
    assert "not understood: 'ad 50 evls'" in text and "'add 50 evaluations'" in text


def test_bad_commands_and_impossible_constraints_then_a_constraint_that_binds(tmp_path, out):
    lines = [
        "keep latency under 0.1 ms",
        "accuracy at least 99.9",
        "freeze p9",
        "/constraint banana",
        "/budget -5",
        "/heuristic rm nosuch",
        "avoid max_pool near the output",
        "keep latency under 3 ms",
    ]
    run_dir = _chat(tmp_path, "bound", lines)
    text = out.getvalue()
    assert "the lowest is" in text and "not applied" in text
    assert "the highest is" in text
    assert "do not exist" in text and "usage: /constraint" in text and "no heuristic" in text
    events = read_trace(run_dir / "trace.jsonl")
    steers = [e["command"] for e in events if e["event"] == "steer"]
    assert steers == [
        {"action": "constrain", "metric": "latency_ms", "op": "<", "value": 3.0,
         "text": "keep latency under 3 ms"}
    ]  # fmt: skip
    rows = _rows(run_dir)
    exact = {e["arch"]: e["metrics"]["latency_ms"] for e in events if e["event"] == "evaluation"}
    later = [r for r in rows if r["round"] != "0"]
    assert later and all(exact[r["arch"]] < 3.0 for r in later)
    statuses = {r["status"] for r in rows}
    assert statuses <= {"ok", "constraint"}
    for r in rows:  # judged on the exact value (the CSV rounds to 4 significant digits)
        assert r["status"] == ("ok" if exact[r["arch"]] < 3.0 else "constraint")
    with open(run_dir / "front_constrained.csv", encoding="utf-8") as fh:
        constrained = list(csv.DictReader(fh))
    assert constrained and all(exact[r["arch"]] < 3.0 for r in constrained)
    summary = json.loads((run_dir / "summary.json").read_text())
    block = summary["constrained"]
    assert block["constraint"] == "latency_ms < 3 ms"
    assert block["front_size"] == len(constrained)
    assert 0.0 < block["hv_ratio"] <= 1.0 and summary["hv_ratio"] is not None
    assert block["feasible"] == sum(r["status"] == "ok" for r in rows)


def test_an_avoid_rule_binds_and_is_stored_as_a_user_heuristic(tmp_path, out):
    run_dir = _chat(tmp_path, "avoid", ["no avg pools near the output"])
    later = [r for r in _rows(run_dir) if r["round"] != "0"]
    assert later and all("avg_pool_3x3" not in r["arch"].split("+")[-1] for r in later)
    events = read_trace(run_dir / "trace.jsonl")
    user = [c for e in events if e["event"] == "kb_changes" and e.get("decided_by") == "user"
            for c in e["changes"]]  # fmt: skip
    assert len(user) == 1 and "avg_pool_3x3" in user[0]["text"]
    from agentnas.memory.knowledge_base import KnowledgeBase

    with KnowledgeBase(run_dir / "kb") as kb:
        stored = [h for h in kb.list() if h.id == user[0]["id"]]
    assert [(h.source, h.polarity) for h in stored] == [("user", "negative")]


def test_run_prints_each_steer_when_it_arrives(tmp_path, out):
    run_dir = tmp_path / "auto"
    run_dir.mkdir()
    (run_dir / "steer.jsonl").write_text(
        json.dumps({"action": "constrain", "metric": "latency_ms", "op": "<", "value": 3}) + "\n"
    )
    assert main(["run", "--out", str(run_dir), *SMALL]) == 0
    text = out.getvalue()
    assert "steer at round 0: constraint latency_ms < 3 ms" in text
    assert "under latency_ms < 3 ms: front" in text  # the round table's constrained line
    # partitions with no cell under 3 ms are named, and their share goes elsewhere
    assert "no cell left that keeps the constraints and rules; their share goes" in text


def test_a_paused_autonomous_run_waits_for_resume(tmp_path, out):
    from agentnas.graph.config import RunConfig
    from agentnas.graph.runner import start_run

    run_dir = tmp_path / "paused"
    run_dir.mkdir()
    steer = run_dir / "steer.jsonl"
    steer.write_text(json.dumps({"action": "pause"}) + "\n")
    result: dict = {}
    worker = threading.Thread(
        target=lambda: result.update(start_run(RunConfig(budget=24, rounds=2, seed=2), run_dir))
    )
    worker.start()
    trace = run_dir / "trace.jsonl"
    while not (trace.exists() and '"event": "select"' in trace.read_text()):
        assert worker.is_alive()
        time.sleep(0.2)
    time.sleep(1.5)  # several polls of steer.jsonl while paused
    assert worker.is_alive() and len(_rows(run_dir)) < 24  # still waiting after seeding
    with steer.open("a") as fh:
        fh.write(json.dumps({"action": "resume"}) + "\n")
    worker.join(timeout=300)
    assert not worker.is_alive() and result["evaluations"] == 24
