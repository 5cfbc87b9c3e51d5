"""What the steering agent knows about a run at a round boundary (:class:`SteerContext`),
built from the live graph state (``chat``) or from a run folder's files (``steer``, for a
run going on in another process). Both give the same fields: limits, partitions (and
which are full), the constraints and rules in force, the heuristic ids, the range of each
metric (over the whole space when it is enumerable with table data, else over the cells
seen so far) and the operations/edges an avoid/prefer rule may name.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentnas.agents.hard_rules import Constraint, OpRule, input_slots, vocabulary
from agentnas.agents.steering import SteerContext, SteerPartition
from agentnas.agents.steering_commands import Achievable
from agentnas.commands.chat_view import front_rows
from agentnas.graph.candidates import attempts
from agentnas.graph.nodes import barren_partitions

CONTEXT_FRONT_ROWS = 8  # front members the steering agent sees


def metric_ranges(evaluator: Any, rows: Sequence[dict[str, float]]) -> dict[str, Achievable]:
    """metric -> its range: the whole space's when known, else the evaluated cells'."""
    from agentnas.tools.constrained import metric_range

    names = sorted({k for r in rows for k in r} | {o.metric for o in evaluator.objectives})
    out: dict[str, Achievable] = {}
    for m in names:
        try:
            space = metric_range(evaluator, m)
        except Exception:  # a backend without a full column: fall back on what was seen
            space = None
        if space is not None:
            out[m] = Achievable(low=space[0], high=space[1], known="space")
            continue
        seen = [float(r[m]) for r in rows if isinstance(r.get(m), int | float)]
        if seen:
            out[m] = Achievable(low=min(seen), high=max(seen), known="seen")
    return out


def _full(partitions: list[dict[str, Any]], cands: list[dict[str, Any]]) -> list[int]:
    counts = Counter(c.get("partition") for c in cands)
    return sorted(int(p["id"]) for p in partitions if counts[p["id"]] >= int(p.get("size", 0)))


def _vocab(space: Any) -> dict[str, list[str]]:
    ops, edges, out = vocabulary(space)
    return {
        "operations": list(ops),
        "edges": list(edges),
        "output_edges": list(out),
        "input_edges": list(input_slots(space)),
    }


def context_from_state(values: dict[str, Any], rt: Any) -> SteerContext:
    """What the steering agent sees, from the graph state at a pause."""
    cfg = values.get("config") or {}
    limits = values.get("limits") or {}
    cands = values.get("candidates") or []
    objectives = rt.evaluator.objectives
    rows = front_rows(cands, values.get("front") or [], objectives)[:CONTEXT_FRONT_ROWS]
    heuristics = values.get("heuristics") or []
    parts = values.get("partitions") or []
    return SteerContext(
        round=int(values.get("round", 0)),
        space=cfg.get("space", ""),
        hardware=cfg.get("hardware", ""),
        objectives=list(objectives),
        partitions=[SteerPartition.model_validate(p) for p in parts],
        front=rows,
        budget=int(limits.get("budget", cfg.get("budget", 0))),
        rounds=int(limits.get("rounds", cfg.get("rounds", 0))),
        evaluations=len(attempts(values)),  # what the budget counts
        heuristics=len(heuristics),
        heuristic_ids=[str(h.get("id", "")) for h in heuristics],
        focus=list(values.get("focus") or []),
        frozen=list(values.get("frozen") or []),
        constraints=[Constraint.model_validate(c) for c in values.get("constraints") or []],
        rules=[OpRule.model_validate(r) for r in values.get("rules") or []],
        metrics=metric_ranges(rt.evaluator, [c["metrics"] for c in cands]),
        full_partitions=sorted(set(_full(parts, attempts(values))) | barren_partitions(values)),
        **_vocab(rt.space),
    )


def _replay_steer(ctx: dict[str, Any], c: dict[str, Any]) -> None:
    """The effect of one traced action on the context's limits, focus and rules."""
    from agentnas.agents.steering import parse_command
    from agentnas.graph.steering import apply_commands

    try:
        action = parse_command(c)
    except Exception:  # an action of an older version: nothing to replay
        return
    updates, _ = apply_commands(ctx, [action], 1 << 30)
    ctx.update(updates)


def _evaluator_or_none(cfg: dict[str, Any]) -> Any:
    """The run's evaluator (for the space-wide metric ranges), or None when it cannot be
    built here (then only the cells seen so far tell what is achievable)."""
    try:
        from agentnas.graph.config import RunConfig
        from agentnas.tools.evaluation import Evaluator
        from agentnas.tools.spaces.registry import default_objectives

        rc = RunConfig.model_validate(cfg)
        objectives = rc.objectives or list(default_objectives(rc.space))
        return Evaluator(
            rc.space, rc.dataset, rc.hardware, objectives, rc.accuracy, rc.backend_options
        )
    except Exception:
        return None


def context_from_trace(run_dir: Path) -> SteerContext:
    """The same context for a run going on in another process, from its files only
    (``config.json`` and ``trace.jsonl``; a torn last trace line is skipped)."""
    from agentnas.graph.trace import read_trace

    cfg = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    state: dict[str, Any] = {
        "limits": {"budget": int(cfg.get("budget", 0)), "rounds": int(cfg.get("rounds", 0))},
    }
    parts: list[dict[str, Any]] = []
    last_select: dict[str, Any] = {}
    cands: dict[str, dict[str, Any]] = {}
    heuristics: dict[str, bool] = {}
    for e in read_trace(run_dir / "trace.jsonl"):
        kind = e.get("event")
        if kind == "partitions":
            parts = e.get("partitions") or []
        elif kind == "select":
            last_select = e
        elif kind == "evaluation":
            cands[e.get("arch", "")] = e
        elif kind == "kb_loaded":
            heuristics = {str(h.get("id")): True for h in e.get("heuristics") or []}
        elif kind == "kb_changes":
            for ch in e.get("changes") or []:
                if ch.get("action") in ("add", "merge", "revise"):
                    heuristics[str(ch.get("id"))] = True
                elif ch.get("action") == "retire":
                    heuristics.pop(str(ch.get("id")), None)
        elif kind == "steer":
            _replay_steer(state, e.get("command") or {})
    objectives = list(cfg.get("objectives") or [])
    front = []
    for arch in (last_select.get("front") or [])[:CONTEXT_FRONT_ROWS]:
        front.append({"arch": arch, **(cands.get(arch, {}).get("metrics") or {})})
    evaluator = _evaluator_or_none(cfg)
    rows = [c.get("metrics") or {} for c in cands.values()]
    if evaluator is not None:
        objectives = list(evaluator.objectives)
        ranges = metric_ranges(evaluator, rows)
        vocab = _vocab(evaluator.space)
    else:
        ranges, vocab = {}, {}
    return SteerContext(
        round=int(last_select.get("round", 0)),
        space=cfg.get("space", ""),
        hardware=cfg.get("hardware", ""),
        objectives=objectives,
        partitions=[SteerPartition.model_validate(p) for p in parts],
        front=front,
        budget=state["limits"]["budget"],
        rounds=state["limits"]["rounds"],
        evaluations=int(last_select.get("attempted", last_select.get("evaluations", 0))),
        heuristics=len(heuristics),
        heuristic_ids=list(heuristics),
        focus=list(state.get("focus") or []),
        frozen=list(state.get("frozen") or []),
        constraints=[Constraint.model_validate(c) for c in state.get("constraints") or []],
        rules=[OpRule.model_validate(r) for r in state.get("rules") or []],
        metrics=ranges,
        full_partitions=_full(parts, list(cands.values())),
        **vocab,
    )
