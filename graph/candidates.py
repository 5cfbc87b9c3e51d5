"""Candidates: evaluating a proposed architecture into a state row, and the views of
rows the agents receive (scored parents, parent-to-child deltas)."""

from __future__ import annotations

import time
from typing import Any

from agentnas.agents.schemas import ScoredArch
from agentnas.graph.context import RunContext
from agentnas.graph.state import Candidate
from agentnas.tools.progress import progress


def evaluate_candidate(rt: RunContext, arch: str, **info: Any) -> Candidate | None:
    """Evaluate one architecture; a failure is traced and skipped, never fatal."""
    cands, _failed = evaluate_candidates(rt, [(arch, info)])
    return cands[0] if cands else None


def evaluate_candidates(
    rt: RunContext, proposals: list[tuple[str, dict[str, Any]]]
) -> tuple[list[Candidate], list[dict[str, Any]]]:
    """Evaluate a batch on the run's executor (results in proposal order, whatever ran
    where). Returns the evaluated candidates and the records of evaluations that
    failed after their retries or that the hardware refused as infeasible
    (``candidates.csv`` lists both with their status); an invalid architecture is
    traced and skipped, never fatal."""
    t0 = time.perf_counter()
    archs = [a for a, _ in proposals]
    if archs:
        info0 = proposals[0][1]
        part = info0.get("partition")
        progress(
            f"round {info0.get('round')}: evaluating {len(archs)} cell(s)"
            + (f" of p{part}" if part is not None else "")
        )
    outcomes = rt.evaluator.evaluate_many(archs, rt.executor) if archs else []
    cands: list[Candidate] = []
    failed: list[dict[str, Any]] = []
    for (arch, info), o in zip(proposals, outcomes, strict=True):
        if o.ok:
            cand = _candidate(arch, o.value, info)
            seconds = o.seconds or round(time.perf_counter() - t0, 4)
            rt.trace.write("evaluation", seconds=seconds, attempts=o.attempts, **cand)
            cands.append(cand)
        elif o.kind == "invalid":
            rt.trace.write("evaluation_failed", arch=arch, error=o.error, **info)
        else:  # "failed" (retries spent) or "infeasible": recorded, never on a front
            rec = {
                "arch": arch,
                "status": o.kind,
                "error": o.error,
                "attempts": o.attempts,
                "round": info["round"],
                "partition": info.get("partition"),
                "operator": info.get("operator", ""),
                "parents": info.get("parents", []),
                "designer": info.get("designer", ""),
                "rationale": info.get("rationale", ""),
            }
            rt.trace.write("evaluation_failed", **rec)
            failed.append(rec)
    return cands, failed


def attempts(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Every evaluation attempted so far: the evaluated candidates (``ok`` or flagged for a
    constraint), then those that failed after their retries or that the hardware refused
    (``infeasible``). Each spends one unit of the budget and fills its partition; an
    invalid architecture (refused before any evaluation) is not an attempt."""
    return [*state.get("candidates", []), *state.get("failed", [])]


def _candidate(arch: str, metrics: dict[str, float], info: dict[str, Any]) -> Candidate:
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
