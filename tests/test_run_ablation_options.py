"""The run options behind the bench's ablations do what their names say."""

from __future__ import annotations

from collections import Counter

import pytest

from agentnas.graph.config import RunConfig
from agentnas.graph.runner import start_run
from agentnas.graph.trace import read_trace
from agentnas.memory.knowledge_base import KnowledgeBase
from agentnas.tools.errors import UserError

SMALL = {"hardware": "hwnasbench:fpga", "budget": 30, "rounds": 3, "seed": 1}


def _events(run_dir, name):
    return [e for e in read_trace(run_dir / "trace.jsonl") if e.get("event") == name]


def test_single_designer_makes_one_call_per_round_and_files_children_by_partition(tmp_path):
    run = tmp_path / "single"
    summary = start_run(RunConfig(**SMALL, single_designer=True), run)
    assert summary["evaluations"] == 30
    calls = Counter(e["round"] for e in _events(run, "design_context"))
    assert calls and set(calls.values()) == {1}
    parts = {e["partition"] for e in _events(run, "evaluation") if e["round"] > 0}
    assert -1 not in parts and len(parts) >= 2  # children land in their own partitions


def test_knowledge_off_reads_and_writes_nothing(tmp_path):
    run = tmp_path / "off"
    start_run(RunConfig(**SMALL, knowledge="off"), run)
    assert len(_events(run, "reflect_skipped")) >= 2
    assert all(e["heuristics"] == [] for e in _events(run, "design_context"))
    with KnowledgeBase(run / "kb") as kb:
        assert kb.count() == 0


def test_knowledge_read_only_reads_a_kb_but_never_changes_it(tmp_path):
    first = tmp_path / "learn"
    start_run(RunConfig(**SMALL), first)
    with KnowledgeBase(first / "kb") as kb:
        before = kb.export()
    assert before  # the normal run learnt something to read
    run = tmp_path / "ro"
    start_run(RunConfig(**SMALL, knowledge="read-only", kb_dir=str(first / "kb")), run)
    assert _events(run, "reflect_skipped") and not _events(run, "kb_changes")
    assert any(e["heuristics"] for e in _events(run, "design_context"))
    with KnowledgeBase(first / "kb") as kb:
        assert kb.export() == before


def test_unknown_knowledge_mode_is_refused():
    with pytest.raises(UserError, match="knowledge"):
        RunConfig.build(**SMALL, knowledge="sometimes")
