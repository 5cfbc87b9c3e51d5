"""The graph's nodes: small functions over the state that call agents and tools.

partition -> seed -> select -> steer -> design[p] (Send, in parallel) -> refill ->
(design[p] again for a share left unused under the user's rules) -> select -> reflect ->
steer -> … -> report. Each node returns only what it changes; every decision
goes to the trace. Nodes are module-level functions of the state and LangGraph's
``runtime``, whose ``context`` is the run's :class:`RunContext` (LLM, KB, evaluator,
trace); the routing functions that follow ``select`` and ``steer`` sit beside them.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send, interrupt

from agentnas.agents.designer import design
from agentnas.agents.hard_rules import violated
from agentnas.agents.partitioner import plan_partitions
from agentnas.agents.reflector import reflect
from agentnas.agents.schemas import (
    DesignerContext,
    Outcome,
    Partition,
    PartitionerContext,
    ReflectorContext,
    ScoredArch,
)
from agentnas.agents.steering import parse_command
from agentnas.agents.usage import split_usage
from agentnas.graph.allocation import allocate_children
from agentnas.graph.artifacts import (
    FRONT_CONSTRAINED,
    constraint_text,
    write_candidates,
    write_front,
    write_rounds,
    write_summary,
)
from agentnas.graph.budgets import at_boundary
from agentnas.graph.candidates import attempts, deltas, evaluate_candidates, scored
from agentnas.graph.context import RunContext
from agentnas.graph.knowledge import (
    apply_reflection,
    apply_user_changes,
    designer_heuristics,
    heuristic_views,
    load_heuristics,
)
from agentnas.graph.seeding import buildable_seeds, feature_histograms, seed_counts
from agentnas.graph.single_designer import WHOLE, merged_task
from agentnas.graph.state import Candidate, DesignTask, SearchState
from agentnas.graph.steering import apply_commands, constraints_of, read_steer_file
from agentnas.graph.trace import redact, trace_attempts
from agentnas.memory.embedding import model_load_seconds
from agentnas.tools.constrained import constrained_indicators
from agentnas.tools.progress import progress

MAX_PARENTS = 10
PAUSE_POLL_S = 0.5  # how often a paused autonomous run looks at steer.jsonl


def _read_steering(rt: RunContext, rnd: int, seen: int) -> tuple[list[Any], int]:
    """New actions from RUN_DIR/steer.jsonl (bad lines traced and skipped), each shown
    to the user of ``agentnas run`` as it arrives."""
    commands, bad, seen = read_steer_file(rt.run_dir, seen)
    for line in bad:
        rt.trace.write("steer_ignored", round=rnd, line=line)
    if commands and rt.on_steer is not None:
        rt.on_steer(rnd, commands)
    return commands, seen


def _wait_for_steering(rt: RunContext, rnd: int, seen: int) -> tuple[list[Any], int]:
    """A paused autonomous run: poll steer.jsonl until something arrives."""
    while True:
        commands, seen = _read_steering(rt, rnd, seen)
        if commands:
            return commands, seen
        time.sleep(PAUSE_POLL_S)


def constrained_front(
    rt: RunContext, cands: list[Candidate], constraints: list[Any]
) -> tuple[list[str], dict[str, Any]]:
    """The front of the cells that satisfy the constraints, and its figures for the
    round's stats (empty without constraints)."""
    if not constraints:
        return [], {}
    ok = [c for c in cands if not violated(c["metrics"], constraints)]
    rows = [c["metrics"] for c in ok]
    archs = [c["arch"] for c in ok]
    front = [archs[i] for i in rt.evaluator.front_indices(rows)]
    hv, igd = constrained_indicators(rt.evaluator, archs, rows, constraints)
    return front, {
        "constraint": " and ".join(c.text() for c in constraints),
        "feasible": len(ok),
        "front_constrained_size": len(front),
        "hv_ratio_constrained": hv,
        "igd_constrained": igd,
    }


def partition_node(state: SearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    rt = runtime.context
    cfg = rt.config
    hist, sampled = feature_histograms(rt)
    default = rt.space.default_partition_feature
    ctx = PartitionerContext(
        space=cfg.space,
        space_description=rt.space.describe(),
        hardware=cfg.hardware,
        k=cfg.partitions,
        feature_histograms=hist,
        default_feature=default if default in hist else next(iter(hist)),
        histogram_is_sample=sampled,
    )
    result = plan_partitions(ctx, rt.llm, max_repairs=cfg.repairs("partitioner"))
    usage = trace_attempts(rt, result.attempts, fallback=result.fallback_used)
    parts = [p.model_dump(mode="json") for p in result.partitions]
    rt.trace.write(
        "partitions",
        round=0,
        feature=result.feature,
        partitions=parts,
        rationale=result.rationale,
        fallback_used=result.fallback_used,
        decided_by=rt.llm.label,
    )
    with rt.kb_lock:
        records = [] if cfg.knowledge == "off" else load_heuristics(rt.kb, cfg.space, cfg.hardware)
    rt.trace.write(
        "kb_loaded",
        round=0,
        kb_dir=str(rt.kb.path) if hasattr(rt.kb, "path") else "",
        heuristics=records,
    )
    return {
        "round": 0,
        "partitions": parts,
        "partition_feature": result.feature,
        "heuristics": records,
        "instructions_seen": 0,
        "limits": {"budget": cfg.budget, "rounds": cfg.rounds},
        "focus": [],
        "frozen": [],
        "constraints": [],
        "rules": [],
        "paused": False,
        "llm_usage": usage,
        "llm_usage_split": split_usage("partitioner", 0, usage),
        "done": False,
    }


def seed_node(state: SearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Uniform random cells inside each partition (PEL-NAS seeds every niche), at most
    a third of the budget (:func:`agentnas.graph.seeding.seed_counts`), none that the
    hardware refuses at once (:func:`agentnas.graph.seeding.buildable_seeds`)."""
    rt = runtime.context
    cfg = rt.config
    rng = random.Random(f"seed:{cfg.seed}")
    parts = state["partitions"]
    taken: set[str] = set()
    proposals: list[tuple[str, dict[str, Any]]] = []
    counts = seed_counts(parts, cfg.seed_per_partition, cfg.budget)
    for p in parts:
        want = counts[int(p["id"])]
        if want <= 0:
            continue
        archs, refused = buildable_seeds(rt, rng, p, parts, want, taken)  # adds to taken
        if refused:
            rt.trace.write("seeds_refused", round=0, partition=p["id"], refused=refused)
        info = {
            "round": 0,
            "partition": p["id"],
            "operator": "seed",
            "rationale": "uniform sample inside the partition",
            "designer": "seed sampler",
        }
        proposals += [(a, info) for a in archs]
    out, failed = evaluate_candidates(rt, proposals)  # one batch on the executor
    return {"candidates": out, "failed": failed}


def select_node(state: SearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    rt = runtime.context
    t0 = time.perf_counter()
    cands = state["candidates"]
    rows = [c["metrics"] for c in cands]
    archs = [c["arch"] for c in cands]
    front = [archs[i] for i in rt.evaluator.front_indices(rows)]
    archives: dict[str, list[str]] = {}
    for p in state["partitions"]:
        members = [i for i, c in enumerate(cands) if c["partition"] == p["id"]]
        idx = rt.evaluator.front_indices([rows[i] for i in members])
        archives[str(p["id"])] = [archs[members[i]] for i in idx]
    hv, igd = rt.evaluator.indicators(archs, rows)
    rnd = state["round"]
    stats = {
        "round": rnd,
        "evaluations": len(cands),
        "attempted": len(attempts(state)),  # what the budget counts (failures included)
        "front_size": len(front),
        "hv_ratio": hv,
        "igd": igd,
        "constraint": constraint_text(state.get("constraints")),
        "llm_calls": (state.get("llm_usage") or {}).get("calls", 0),
        "prompt_tokens": (state.get("llm_usage") or {}).get("prompt_tokens", 0),
        "completion_tokens": (state.get("llm_usage") or {}).get("completion_tokens", 0),
        "fallbacks": sum(1 for f in state.get("fallbacks", []) if f["round"] == rnd),
        **rt.evaluator.front_digest([c["metrics"] for c in cands if c["arch"] in set(front)]),
    }
    constraints = constraints_of(state)
    front_c, constrained = constrained_front(rt, cands, constraints)
    stats.update(constrained, seconds=round(time.perf_counter() - t0, 3))
    dry = sorted(barren_partitions(state))
    if dry:  # no cell left that keeps the user's rules: their share goes to the others
        stats["dry_partitions"] = " ".join(f"p{p}" for p in dry)
    write_rounds(
        rt.run_dir / "rounds.csv",
        [*state.get("history", []), stats],
        state.get("llm_usage_split"),
        rt.config,
    )
    write_candidates(
        rt.run_dir / "candidates.csv", cands, rt.evaluator, state.get("failed", []), constraints
    )
    on_front = set(front)
    write_front(rt.run_dir / "front.csv", [c for c in cands if c["arch"] in on_front], rt.evaluator)
    if constraints:
        on_c = set(front_c)
        write_front(
            rt.run_dir / FRONT_CONSTRAINED, [c for c in cands if c["arch"] in on_c], rt.evaluator
        )
    rt.trace.write("select", **stats, front=front, archives=archives, front_constrained=front_c)
    if rt.on_round is not None:
        rt.on_round(stats)
    limits = state["limits"]
    done = (
        stats["attempted"] >= limits["budget"]
        or rnd >= limits["rounds"]
        or _exhausted(state)
        or bool(state.get("done"))
    )
    return {
        "front": front,
        "front_constrained": front_c,
        "archives": archives,
        "history": [stats],
        "done": done,
        "wall_s": rt.clock(),
    }


def reflect_node(state: SearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    rt = runtime.context
    cfg = rt.config
    rnd = state["round"]
    capped = at_boundary(rt, state)  # a spent cap stops the run here (or is recorded)
    if cfg.knowledge != "on":  # ablations: the knowledge base is never updated
        rt.trace.write("reflect_skipped", round=rnd, knowledge=cfg.knowledge)
        return {**capped, "wall_s": rt.clock()}
    by_arch = {c["arch"]: c for c in state["candidates"]}
    front = set(state["front"])
    outcomes = []
    for c in state["candidates"]:
        if c["round"] != rnd or c["operator"] == "seed":
            continue
        pm = [by_arch[p]["metrics"] for p in c["parents"] if p in by_arch]
        outcomes.append(
            Outcome(
                partition=c["partition"] if c["partition"] is not None else -1,
                child=c["arch"],
                parents=c["parents"],
                operator=c["operator"],
                rationale=c["rationale"],
                heuristics_used=c["heuristics_used"],
                child_metrics=c["metrics"],
                parent_metrics=pm,
                deltas=deltas(c["metrics"], pm, rt.evaluator),
                on_front=c["arch"] in front,
            )
        )
    heur = state.get("heuristics", [])
    ctx = ReflectorContext(
        space=cfg.space,
        hardware=cfg.hardware,
        objectives=list(rt.evaluator.objectives),
        round=rnd,
        outcomes=outcomes,
        heuristics=heuristic_views(heur),
        dataset=rt.evaluator.dataset or "",
        front=[  # every partition's Pareto archive: the front-pattern claims' evidence
            scored(by_arch[a])
            for members in state.get("archives", {}).values()
            for a in members
            if a in by_arch
        ],
    )
    progress(f"round {rnd}: the reflector reads the round's outcomes")
    result = reflect(ctx, rt.llm, max_repairs=cfg.repairs("reflector"))
    usage = trace_attempts(rt, result.attempts, fallback=result.fallback_used)
    with rt.kb_lock:
        records, changes = apply_reflection(
            rt.kb, heur, result, cfg.space, cfg.hardware, rnd, f"reflector:{rt.llm.label}"
        )
    rt.trace.write(
        "kb_changes",
        round=rnd,
        changes=changes,
        decided_by=rt.llm.label,
        fallback_used=result.fallback_used,
    )
    return {
        **capped,
        "heuristics": records,
        "llm_usage": usage,
        "llm_usage_split": split_usage("reflector", rnd, usage),
        "wall_s": rt.clock(),
    }


def steer_node(state: SearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Round boundary: apply steering from RUN_DIR/steer.jsonl and, in an interactive
    session, pause (LangGraph interrupt) for the user's actions. A run driven by
    ``agentnas run`` that was told to ``pause`` waits here for ``resume``/``stop``."""
    rt = runtime.context
    cfg = rt.config
    rnd = state["round"]
    steering_usage = None
    capped = at_boundary(rt, state)  # a spent cap stops the run here (or is recorded)
    commands, seen = _read_steering(rt, rnd, state.get("instructions_seen", 0))
    if rt.interactive:
        answer = interrupt(
            {
                "round": rnd,
                "done": bool(state.get("done")),
                "stats": (state.get("history") or [{}])[-1],
                "front": state.get("front", []),
            }
        )
        # RunSession.advance resumes with {"commands": [...], "llm_usage": {...}}: the
        # steering agent's model use joins the run's accounting here
        if isinstance(answer, dict):
            steering_usage = answer.get("llm_usage")
            answer = answer.get("commands")
        commands += [parse_command(c) for c in (answer or [])]
    updates, kb_changes = apply_commands(state, commands, len(state["partitions"]), rt.space)
    while updates["paused"] and not rt.interactive:
        more, seen = _wait_for_steering(rt, rnd, seen)
        commands += more
        updates, kb_changes = apply_commands(state, commands, len(state["partitions"]), rt.space)
    if steering_usage:
        updates["llm_usage"] = steering_usage
        updates["llm_usage_split"] = split_usage("steering", rnd, steering_usage)
    for c in commands:
        rt.trace.write("steer", round=rnd, command=c.model_dump(mode="json"))
    if kb_changes.add or kb_changes.revise or kb_changes.retire:
        with rt.kb_lock:
            records, changes = apply_user_changes(
                rt.kb, state.get("heuristics", []), kb_changes, cfg.space, cfg.hardware, rnd
            )
        rt.trace.write("kb_changes", round=rnd, changes=changes, decided_by="user")
        updates["heuristics"] = records
    return {**capped, **updates, "round": rnd + 1, "instructions_seen": seen, "wall_s": rt.clock()}


def design_node(task: DesignTask, runtime: Runtime[RunContext]) -> dict[str, Any]:
    rt = runtime.context
    cfg = rt.config
    p = Partition(**task["partition"])
    rnd = task["round"]
    query = (
        f"{cfg.space} {cfg.hardware} partition {p.id} {p.feature} "
        f"{p.low:g}-{p.high:g} accuracy {' '.join(o.name for o in rt.evaluator.objectives)}"
    )
    # the first query of a process loads the embedding model (seconds, tens of seconds on
    # a busy machine): say so, whichever Designer's line the display shows last
    loading = (
        " (loading its embedding model)"
        if rt.llm.is_llm and model_load_seconds() is None and cfg.knowledge != "off"
        else ""
    )
    progress(f"round {rnd}: designer p{p.id} reads the knowledge base{loading}")
    with rt.kb_lock:
        heuristics = (
            []
            if cfg.knowledge == "off"
            else designer_heuristics(rt.kb, cfg.space, cfg.hardware, p.id, query, llm=rt.llm.is_llm)
        )
    fields: dict[str, Any] = {
        "space": cfg.space,
        "hardware": cfg.hardware,
        "objectives": list(rt.evaluator.objectives),
        "round": rnd,
        "partition": p,
        # the whole space has no neighbours to lose cells to: its range is the check
        "plan": [] if p.id == WHOLE else task.get("partitions", []),
        "parents": [scored(c) for c in task["parents"]],
        "heuristics": heuristics,
        "n_children": task["n_children"],
        "evaluated": task["evaluated"],
        "dedupe_isomorphic": cfg.dedupe_isomorphic,
        "seed": cfg.seed,
        "max_repairs": cfg.repairs("designer"),
        "history": [scored(c) for c in task["history"]],
        "constraints": task.get("constraints") or [],
        "rules": task.get("rules") or [],
        "dataset": rt.evaluator.dataset or "",
        "reused": [ScoredArch(arch=c["arch"], metrics=c["metrics"]) for c in rt.reused],
    }
    ctx = DesignerContext(**fields)
    rt.trace.write(
        "design_context",
        round=rnd,
        partition=p.id,
        heuristics=[h.model_dump() for h in heuristics],
        parents=[c["arch"] for c in task["parents"]],
        n_children=task["n_children"],
    )
    progress(f"round {rnd}: designer p{p.id} proposes {task['n_children']} cell(s)")
    result = design(ctx, rt.llm, rt.space, tools=rt.designer_tools(), lookup=rt.hardware_lookup())
    usage = trace_attempts(rt, result.attempts, fallback=result.fallback_used)
    fallbacks = []
    if result.fallback_used:
        fallbacks.append({"round": rnd, "partition": p.id, "reason": result.fallback_reason})
        rt.trace.write(
            "designer_fallback", round=rnd, partition=p.id, reason=result.fallback_reason
        )
    label = rt.llm.label
    proposals = [
        (
            prop.arch,
            {
                "round": rnd,
                "partition": p.id
                if p.id != WHOLE
                else rt.partition_of(prop.arch, task["partitions"]),
                "parents": prop.parents,
                "operator": prop.operator,
                "rationale": prop.rationale,
                "heuristics_used": prop.heuristics_used,
                "designer": label
                if not prop.operator.startswith("fallback")
                else "offline policy (no LLM)",
            },
        )
        for prop in result.children[: task["n_children"]]
    ]
    out, failed = evaluate_candidates(rt, proposals)  # one batch on the executor
    barren = []
    wave = task.get("wave", 0)
    proposed = min(len(result.children), task["n_children"])
    if (ctx.constraints or ctx.rules) and proposed < task["n_children"]:
        # no cell of this partition keeps the user's rules: the refill node hands its
        # unused share to the partitions that can still take it, this round
        barren.append(
            {"round": rnd, "partition": p.id, "wave": wave,
             "asked": task["n_children"], "proposed": proposed}
        )  # fmt: skip
        rt.trace.write("partition_barren", round=rnd, partition=p.id, wave=wave,
                       asked=task["n_children"], proposed=proposed)  # fmt: skip
    # model text (reasons, rationales) reaches the checkpoint: no secret may ride along
    return {
        "candidates": redact(out),
        "failed": redact(failed),
        "llm_usage": usage,
        "llm_usage_split": split_usage("designer", rnd, usage),
        "fallbacks": redact(fallbacks),
        "barren": barren,
        "waves": [{"round": rnd, "wave": wave}],
    }


def report_node(state: SearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    rt = runtime.context
    summary = write_summary(rt, state)
    rt.trace.write("report", **summary)
    return {"done": True}


def route_after_select(state: SearchState) -> str:
    return "steer" if state["round"] == 0 else "reflect"


def route_after_steer(state: SearchState, runtime: Runtime[RunContext]) -> Any:
    rt = runtime.context
    if state.get("done"):
        return "report"
    tasks = plan_round(rt, state)
    return tasks or "report"


def route_after_design(state: SearchState, runtime: Runtime[RunContext]) -> Any:
    """After a round's Designers: a refill wave when some partition could not use its
    share under the user's constraints and rules, else ``select``."""
    return refill_round(runtime.context, state) or "select"


def refill_node(state: SearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Join point after the round's Designers (parallel branches end here once); the
    decision is :func:`route_after_design`'s."""
    return {}


def refill_round(rt: RunContext, state: SearchState) -> list[Send]:
    """The share the last wave of this round's Designers left unused (partitions that
    found no cell keeping the constraints and rules proposed fewer children than asked),
    spread over the open partitions that have not run dry, as one more wave. Each wave
    that leaves a share unused marks at least one more partition barren, so the waves
    end; without constraints or rules there is never a second wave."""
    rnd = state["round"]
    waves = [w["wave"] for w in state.get("waves") or [] if w["round"] == rnd]
    if not waves or rt.config.single_designer:
        return []
    wave = max(waves)  # the wave that just ended
    short = sum(
        b["asked"] - b["proposed"]
        for b in state.get("barren") or []
        if b["round"] == rnd and b.get("wave") == wave
    )
    if short <= 0:
        return []
    tried = len(attempts(state))
    limits = {"budget": min(state["limits"]["budget"], tried + short), "rounds": rnd}
    sends = plan_round(rt, state, limits, wave + 1)
    given = {s.arg["partition"]["id"]: s.arg["n_children"] for s in sends}
    rt.trace.write("refill", round=rnd, wave=wave + 1, unused=short, children=given)
    return sends


def plan_round(
    rt: RunContext, state: SearchState, limits: dict[str, int] | None = None, wave: int = 0
) -> list[Send]:
    """Split this round's share of the remaining budget across partitions (rotating who
    gets the remainder, skipping exhausted, frozen and barren partitions) and fan out one
    Designer each. ``limits`` (default: the run's) sets the share; ``wave`` > 0 is a
    refill of the same round (:func:`refill_round`)."""
    cands = state["candidates"]
    rnd = state["round"]
    frozen = set(state.get("frozen") or []) | barren_partitions(state)
    open_parts = [p for p in state["partitions"] if p["id"] not in frozen]
    # failed and infeasible attempts spend the budget and fill their partition too
    alloc = allocate_children(
        open_parts,
        attempts(state),
        rnd,
        limits or state["limits"],
        state.get("focus"),
        state.get("front"),
    )
    # refused designs count as tried, so Designers do not propose them again
    evaluated = [c["arch"] for c in cands] + [
        f["arch"] for f in state.get("failed", []) if f["status"] == "infeasible"
    ]
    by_arch = {c["arch"]: c for c in cands}
    history = list(cands)
    sends: list[DesignTask] = []
    for p in state["partitions"]:
        if p["id"] not in alloc:
            continue
        parents = [by_arch[a] for a in state["archives"].get(str(p["id"]), [])][:MAX_PARENTS]
        task: DesignTask = {
            "round": rnd,
            "partition": p,
            "n_children": alloc[p["id"]],
            "parents": parents,
            "evaluated": evaluated,
            "history": history,
            "partitions": state["partitions"],
            "constraints": state.get("constraints") or [],
            "rules": state.get("rules") or [],
            "wave": wave,
        }
        sends.append(task)
    if rt.config.single_designer and sends:
        sends = [merged_task(sends, state["partitions"])]
    return [Send("design", t) for t in sends]


def barren_partitions(state: SearchState) -> set[int]:
    """Partitions whose Designer found no cell keeping the constraints and rules in force
    (since they were set)."""
    since = state.get("rules_round", 0)
    return {b["partition"] for b in state.get("barren") or [] if b["round"] >= since}


def _exhausted(state: SearchState) -> bool:
    counts = Counter(c["partition"] for c in attempts(state))
    return all(counts[p["id"]] >= p["size"] for p in state["partitions"])
