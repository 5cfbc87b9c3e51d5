"""Candidates: evaluating a proposed architecture into a state row, and the views of
rows the agents receive (scored parents, parent-to-child deltas)."""

from __future__ import annotations

import time
from typing import Any

from agentnas.agents.schemas import ScoredArch
from agentnas.graph.context import RunContext
from agentnas.graph.state import Candidate
from agentnas.tools.errors import UserError


def evaluate_candidate(rt: RunContext, arch: str, **info: Any) -> Candidate | None:
    """Evaluate one architecture; a failure is traced and skipped, never fatal."""
    t0 = time.perf_counter()
    try:
        metrics = rt.evaluator.evaluate(arch)
    except UserError as exc:
        rt.trace.write("evaluation_failed", arch=arch, error=str(exc), **info)
        return None
    cand: Candidate = {
        "arch": arch,
        "metrics": metrics,
        "partition": info.get("partition"),
        "parents": info.get("parents", []),
        "round": info["round"],
        "operator": info.get("operator", ""),
        "rationale": info.get("rationale", ""),
        "heuristics_used": info.get("heuristics_used", []),
        "designer": info.get("designer", ""),
    }
    rt.trace.write("evaluation", seconds=round(time.perf_counter() - t0, 4), **cand)
    return cand


def scored(c: Candidate) -> ScoredArch:
    return ScoredArch(
        arch=c["arch"], metrics=c["metrics"], partition=c["partition"], round=c["round"]
    )


def deltas(child: dict[str, float], parents: list[dict[str, float]], evaluator: Any) -> dict:
    """Child minus the best parent, per objective, in natural units (sign as measured)."""
    out = {}
    for o in evaluator.objectives:
        vals = [p[o.metric] for p in parents if o.metric in p]
        if vals and o.metric in child:
            best = max(vals) if o.direction == "max" else min(vals)
            out[o.metric] = float(child[o.metric] - best)
    return out
