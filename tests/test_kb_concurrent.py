"""Four runs sharing one ``--kb`` at the same time: all finish, and every heuristic each
wrote is in the KB afterwards with the evidence of every run that wrote it (the KB folder
lock serialises the processes; a run's changes are merged into what others wrote)."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict

import pytest

from agentnas.graph.trace import read_trace
from agentnas.memory.heuristic import Heuristic
from agentnas.memory.knowledge_base import KnowledgeBase, merge_contribution

SCOPE = {"space": "nb201", "hardware": "hwnasbench:eyeriss", "partition": None}


def _h(ev_for: int, ev_against: int = 0, **kw) -> Heuristic:
    return Heuristic(
        id="h1",
        text="fewer 3x3 convolutions",
        scope=SCOPE,
        evidence_for=ev_for,
        evidence_against=ev_against,
        **kw,
    )


def test_merge_contribution_adds_only_what_the_run_added():
    current = _h(10, 2)  # another run pushed it from (3, 1) to (10, 2)
    merged = merge_contribution(current, new=_h(5, 4), old=_h(3, 1))
    assert (merged.evidence_for, merged.evidence_against) == (12, 5)
    created = merge_contribution(current, new=_h(4, 1), old=None)  # both runs created it
    assert (created.evidence_for, created.evidence_against) == (14, 3)


@pytest.mark.slow
def test_four_runs_share_one_kb(tmp_path):
    kb_dir = tmp_path / "kb"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentnas",
                "run",
                "--out",
                str(tmp_path / f"run{i}"),
                "--hardware",
                "hwnasbench:eyeriss",
                "--budget",
                "30",
                "--rounds",
                "3",
                "--seed",
                str(i),
                "--kb",
                str(kb_dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(4)
    ]
    errors = [p.communicate(timeout=900)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    contributed: dict[str, int] = defaultdict(int)  # id -> evidence all runs added
    for i in range(4):
        run_dir = tmp_path / f"run{i}"
        events = read_trace(run_dir / "trace.jsonl")
        loaded = {h["id"]: h for e in events if e["event"] == "kb_loaded" for h in e["heuristics"]}
        final = {h["id"]: h for h in _final_heuristics(run_dir)}
        assert final, f"run {i} holds no heuristic"
        for hid, h in final.items():
            before = loaded.get(hid)
            contributed[hid] += _evidence(h) - (_evidence(before) if before else 0)
    with KnowledgeBase(kb_dir, create=False, read_only=True) as kb:
        stored = {h.id: h for h in kb.list(include_retired=True)}
    missing = set(contributed) - set(stored)
    assert not missing, f"claims lost: {sorted(missing)}"
    short = {
        hid: (_evidence(stored[hid].model_dump()), n)
        for hid, n in contributed.items()
        if _evidence(stored[hid].model_dump()) < n
    }
    assert not short, f"evidence lost (stored, written): {short}"


def _evidence(h: dict) -> int:
    """A claim's observations, or a plain heuristic's evidence counts."""
    claim = h.get("claim")
    if claim:
        return int(claim["evidence"])
    return int(h["evidence_for"]) + int(h["evidence_against"])


def _final_heuristics(run_dir) -> list[dict]:
    from agentnas.graph.build import THREAD, open_checkpointer

    saver = open_checkpointer(run_dir)
    try:
        return saver.get_tuple(THREAD).checkpoint["channel_values"].get("heuristics", [])
    finally:
        saver.conn.close()
