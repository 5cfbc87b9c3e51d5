"""Every evaluation attempted spends the budget (failed, infeasible and constraint-flagged
rows included), and a round under a constraint makes its full share of attempts: the
partitions that cannot keep the constraint hand their share to those that can."""

from __future__ import annotations

import csv
import json
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from agentnas.graph.config import RunConfig
from agentnas.graph.nodes import refill_round
from agentnas.graph.runner import start_run
from agentnas.graph.trace import read_trace
from agentnas.tools.executor import LocalExecutor, Outcome

CONSTRAIN = {"action": "constrain", "metric": "latency_ms", "op": "<", "value": 3}


class FlakyExecutor(LocalExecutor):
    """The local executor, except that about one cell in four fails after its retries
    or is refused as infeasible (chosen by the cell's text, so runs repeat)."""

    def map(self, fn: Any, items: Any, context: Any = None, on_done: Any = None) -> list[Outcome]:
        outs = super().map(fn, items, context, on_done)
        return [_inject(item, o) for item, o in zip(items, outs, strict=True)]


def _inject(arch: str, o: Outcome) -> Outcome:
    h = zlib.crc32(arch.encode()) % 8
    if h == 0:
        return Outcome(False, error="RuntimeError: injected", kind="failed", attempts=3)
    if h == 1:
        return Outcome(False, error="laser power over the ceiling", kind="infeasible")
    return o


def _rows(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "candidates.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _constrained_run(run_dir: Path, executor: Any = None, budget: int = 30) -> dict[str, Any]:
    run_dir.mkdir()
    (run_dir / "steer.jsonl").write_text(json.dumps(CONSTRAIN) + "\n")
    cfg = RunConfig(hardware="hwnasbench:fpga", budget=budget, rounds=3, seed=1)
    return start_run(cfg, run_dir, executor=executor)


def test_a_run_with_failures_stops_at_exactly_budget_attempted_rows(tmp_path):
    summary = _constrained_run(tmp_path / "r", executor=FlakyExecutor())
    rows = _rows(tmp_path / "r")
    statuses = {r["status"] for r in rows}
    # every kind of attempt happened, and together they are the budget, not more
    assert {"ok", "constraint", "failed", "infeasible"} <= statuses
    assert len(rows) == 30 == summary["attempted"]
    assert summary["evaluations"] == sum(r["status"] in ("ok", "constraint") for r in rows) < 30
    with open(tmp_path / "r" / "rounds.csv", encoding="utf-8") as fh:
        rounds = list(csv.DictReader(fh))
    assert int(rounds[-1]["attempted"]) == 30
    # attempts per round: the seeds (a third of the budget), then the rest in equal shares
    steps = [int(r["attempted"]) for r in rounds]
    assert [b - a for a, b in zip([0, *steps], steps, strict=False)] == [10, 7, 7, 6]


def test_partitions_that_cannot_keep_a_constraint_hand_their_share_on(tmp_path):
    """fpga, seed 1, latency < 3 ms from the first pause: four of six partitions have no
    cell under 3 ms left to propose; their share of round 1 goes to the other two in a
    refill wave of the same round, so every design round makes its full share."""
    _constrained_run(tmp_path / "r")
    events = read_trace(tmp_path / "r" / "trace.jsonl")
    barren = [e for e in events if e["event"] == "partition_barren"]
    refills = [e for e in events if e["event"] == "refill"]
    assert barren and refills
    dry = {e["partition"] for e in barren}
    for r in refills:  # a refill hands the unused share, all of it, to other partitions
        assert sum(r["children"].values()) == r["unused"]
        assert not dry & {int(p) for p in r["children"]}
    with open(tmp_path / "r" / "rounds.csv", encoding="utf-8") as fh:
        said = [r["dry_partitions"] for r in csv.DictReader(fh)]
    assert said[0] == "" and said[-1] == " ".join(f"p{p}" for p in sorted(dry))
    rows = _rows(tmp_path / "r")
    per_round = [sum(r["round"] == str(k) for r in rows) for k in range(4)]
    assert per_round == [10, 7, 7, 6]
    late = [r for r in rows if r["round"] != "0"]
    assert all(float(r["latency_ms"]) < 3 for r in late)
    assert not [r for r in late if int(r["partition"]) in dry and r["round"] != "1"]


def _state(barren: list[int], asked: int = 2) -> dict[str, Any]:
    parts = [{"id": i, "feature": "f", "low": i, "high": i + 1, "size": 50} for i in range(3)]
    return {
        "round": 1,
        "partitions": parts,
        "candidates": [],
        "failed": [],
        "limits": {"budget": 30, "rounds": 3},
        "archives": {},
        "front": [],
        "constraints": [{"metric": "latency_ms", "op": "<", "value": 3.0}],
        "waves": [{"round": 1, "wave": 0}] * 3,
        "barren": [
            {"round": 1, "partition": p, "wave": 0, "asked": asked, "proposed": 0} for p in barren
        ],
    }


@pytest.fixture
def rt() -> Any:
    return SimpleNamespace(
        config=SimpleNamespace(single_designer=False),
        trace=SimpleNamespace(write=lambda *a, **k: None),
    )


def test_refill_gives_the_unused_share_to_partitions_that_can_take_it(rt):
    sends = refill_round(rt, _state([0, 2], asked=2))
    assert {s.arg["partition"]["id"]: s.arg["n_children"] for s in sends} == {1: 4}
    assert {s.arg["wave"] for s in sends} == {1}


def test_refill_ends_when_every_partition_ran_dry_or_nothing_was_left_unused(rt):
    assert refill_round(rt, _state([0, 1, 2])) == []
    assert refill_round(rt, _state([])) == []
    later = _state([0])
    later["waves"] += [{"round": 1, "wave": 1}]  # the refill wave ran and used its share
    assert refill_round(rt, later) == []
