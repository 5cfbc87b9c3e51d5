"""What the steering agent knows about a run at a round boundary (:class:`SteerContext`),
built from a graph state: the live one (``chat``) or a run folder's last checkpoint
(``steer``, for a run going on in another process), with the run's own configuration
(never a copy of it in the state). Both give the same fields: limits, partitions (and
which are full), the constraints and rules in force, the heuristic ids, the range of each
metric (over the whole space when it is enumerable with table data, else over the cells
seen so far) and the operations/edges an avoid/prefer rule may name.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentnas.agents.hard_rules import Constraint, OpRule, input_slots, vocabulary
from agentnas.agents.steering import SteerContext, SteerPartition
from agentnas.agents.steering_commands import Achievable
from agentnas.commands.chat_view import front_rows
from agentnas.graph.candidates import attempts
from agentnas.graph.config import RunConfig
from agentnas.graph.nodes import barren_partitions
from agentnas.tools.errors import UserError

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


def steer_context(
    values: dict[str, Any], cfg: RunConfig, evaluator: Any, space: Any
) -> SteerContext:
    """What the steering agent sees, from a graph state (``values``) and the run's own
    configuration; ``evaluator``/``space`` None: only the cells seen so far tell the
    metric ranges, and no vocabulary is known."""
    limits = values.get("limits") or {}
    cands = values.get("candidates") or []
    objectives = list(evaluator.objectives) if evaluator is not None else _objectives(cfg)
    rows = front_rows(cands, values.get("front") or [], objectives)[:CONTEXT_FRONT_ROWS]
    heuristics = values.get("heuristics") or []
    parts = values.get("partitions") or []
    metrics = [c["metrics"] for c in cands]
    return SteerContext(
        round=int(values.get("round", 0)),
        space=cfg.space,
        hardware=cfg.hardware,
        objectives=objectives,
        partitions=[SteerPartition.model_validate(p) for p in parts],
        front=rows,
        budget=int(limits.get("budget", cfg.budget)),
        rounds=int(limits.get("rounds", cfg.rounds)),
        evaluations=len(attempts(values)),  # what the budget counts
        heuristics=len(heuristics),
        heuristic_ids=[str(h.get("id", "")) for h in heuristics],
        focus=list(values.get("focus") or []),
        frozen=list(values.get("frozen") or []),
        constraints=[Constraint.model_validate(c) for c in values.get("constraints") or []],
        rules=[OpRule.model_validate(r) for r in values.get("rules") or []],
        metrics=metric_ranges(evaluator, metrics) if evaluator is not None else {},
        full_partitions=sorted(set(_full(parts, attempts(values))) | barren_partitions(values)),
        **(_vocab(space) if space is not None else {}),
    )


def _objectives(cfg: RunConfig) -> list[Any]:
    """The run's objectives by their names (none where the space is unknown here)."""
    from agentnas.tools.objectives import parse_objectives
    from agentnas.tools.spaces.registry import default_objectives

    try:
        return parse_objectives(cfg.objectives or list(default_objectives(cfg.space)))
    except Exception:
        return []


def context_from_state(values: dict[str, Any], rt: Any) -> SteerContext:
    """What the steering agent sees, from the graph state at a pause (``chat``)."""
    return steer_context(values, rt.config, rt.evaluator, rt.space)


def _evaluator_or_none(cfg: RunConfig) -> Any:
    """The run's evaluator (for the space-wide metric ranges), or None when it cannot be
    built here (then only the cells seen so far tell what is achievable)."""
    try:
        from agentnas.tools.evaluation import Evaluator
        from agentnas.tools.spaces.registry import default_objectives

        objectives = cfg.objectives or list(default_objectives(cfg.space))
        return Evaluator(
            cfg.space, cfg.dataset, cfg.hardware, objectives, cfg.accuracy, cfg.backend_options
        )
    except Exception:
        return None


def checkpointed_state(run_dir: Path) -> dict[str, Any]:
    """The last checkpointed graph state of a run folder, read without writing to it (a
    run may be going on in another process): the database is opened read-only and
    copied into memory with SQLite's backup, which sees one consistent version. A run
    that has no checkpoint yet has an empty state."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    from agentnas.graph.build import CHECKPOINT_FILE, THREAD, build_graph

    path = run_dir / CHECKPOINT_FILE
    if not path.is_file():
        return {}
    copy = sqlite3.connect(":memory:", check_same_thread=False)
    try:
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            source.backup(copy)
        finally:
            source.close()
        saver = SqliteSaver(copy)
        saver.setup()
        return dict(build_graph(saver).get_state(THREAD).values)
    except Exception as exc:  # a damaged or foreign database
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"checkpoint database {path} is unreadable ({detail})") from None
    finally:
        copy.close()


def context_from_checkpoint(run_dir: Path) -> SteerContext:
    """The same context for a run going on in another process (``steer``), from its
    configuration and its last checkpointed state."""
    from agentnas.graph.runner import read_config
    from agentnas.tools.spaces.isomorphism import for_search

    cfg = read_config(run_dir)
    evaluator = _evaluator_or_none(cfg)
    space = None if evaluator is None else for_search(evaluator.space, cfg.dedupe_isomorphic)
    return steer_context(checkpointed_state(run_dir), cfg, evaluator, space)
