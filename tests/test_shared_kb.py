"""A second run pointed at the same ``--kb`` starts with the first run's heuristics, and
its trace shows them."""

from __future__ import annotations

from agentnas.graph.config import RunConfig
from agentnas.graph.runner import start_run
from agentnas.graph.trace import read_trace
from agentnas.memory.knowledge_base import KnowledgeBase


def test_second_run_starts_with_first_runs_heuristics(tmp_path):
    kb_dir = tmp_path / "kb"
    cfg = RunConfig(hardware="hwnasbench:eyeriss", budget=40, rounds=3, seed=1, kb_dir=str(kb_dir))
    start_run(cfg, tmp_path / "first")
    learnt = {
        h.id for h in KnowledgeBase(kb_dir).list(space="nb201", hardware="hwnasbench:eyeriss")
    }
    assert learnt, "the first run's Reflector stored no heuristic"

    start_run(cfg.model_copy(update={"seed": 2}), tmp_path / "second")
    events = read_trace(tmp_path / "second" / "trace.jsonl")
    loaded = next(e for e in events if e["event"] == "kb_loaded")
    assert learnt <= {h["id"] for h in loaded["heuristics"]}
    # and the Designers of the second run are shown some of them in round 1
    shown = {
        h["id"]
        for e in events
        if e["event"] == "design_context" and e["round"] == 1
        for h in e["heuristics"]
    }
    assert shown & learnt
    assert not (tmp_path / "second" / "kb").exists()
