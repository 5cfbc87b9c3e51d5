"""Files a run leaves in its folder: ``candidates.csv`` (every evaluation, in order, with
its ``status``: ``ok``, ``constraint`` when it breaks a constraint in force, ``failed``,
``infeasible``), ``front.csv`` (the found front, unconstrained), ``front_constrained.csv``
(the front of the cells that satisfy the constraints, while one is in force),
``rounds.csv`` (one row per round) and ``summary.json``. All written atomically,
rewritten whole at each round boundary, so they always match the last checkpoint. Floats
are rounded to 4 significant digits (the trace keeps them whole)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from agentnas.agents.hard_rules import Constraint, status_of
from agentnas.agents.usage import Caps, add_usage, zero_usage
from agentnas.graph.config import CAP_FIELDS
from agentnas.graph.reuse import reuse_summary
from agentnas.graph.state import Candidate
from agentnas.graph.trace import journal_usage
from agentnas.tools.atomic_io import write_csv_atomic, write_json_atomic
from agentnas.tools.csv_units import cell, column


def _metric_columns(cands: list[Candidate], evaluator: Any) -> list[str]:
    first = [o.metric for o in evaluator.objectives]
    rest = sorted({k for c in cands for k in c["metrics"]} - set(first))
    return first + rest


FRONT_CONSTRAINED = "front_constrained.csv"


def _headers(cols: list[str], evaluator: Any) -> list[str]:
    """Column names with the space's units (``energy_nj`` …, see tools.csv_units)."""
    return [column(k, evaluator.space_name)[0] for k in cols]


def _values(metrics: dict[str, Any], cols: list[str], evaluator: Any) -> list[Any]:
    return [cell(k, metrics[k], evaluator.space_name) if k in metrics else "" for k in cols]


def source_column(metric: str) -> str:
    """``latency_ms`` -> ``latency_source``: whether a value was measured or predicted."""
    return metric.rsplit("_", 1)[0] + "_source" if "_" in metric else f"{metric}_source"


def _source_headers(evaluator: Any) -> list[str]:
    return [source_column(m) for m in evaluator.backend.predicted_metrics]


def _sources(arch: str, evaluator: Any, has_metrics: bool = True) -> list[str]:
    """measured|predicted per predicted metric of the backend ("" without metrics)."""
    if not has_metrics:
        return ["" for _ in evaluator.backend.predicted_metrics]
    labels = evaluator.backend.metric_sources(arch)
    return [labels.get(m, "") for m in evaluator.backend.predicted_metrics]


def write_candidates(
    path: Path,
    cands: list[Candidate],
    evaluator: Any,
    failed: list[dict[str, Any]] = (),
    constraints: list[Any] | None = None,
) -> None:
    """Every evaluation in order (status ``ok``, or ``constraint`` when it breaks one of
    the ``constraints`` in force now, so a cell that breaks a newer constraint is flagged
    too), then those that failed after their retries (``failed``) or that the hardware
    refused (``infeasible``), metrics empty."""
    cols = _metric_columns(cands, evaluator)
    header = [
        "order",
        "round",
        "partition",
        "arch",
        "status",
        "operator",
        "parents",
        *_headers(cols, evaluator),
        *_source_headers(evaluator),
        "designer",
        "rationale",
    ]
    rows = [
        [
            i,
            c["round"],
            c["partition"],
            c["arch"],
            status_of(c["metrics"], constraints or []),
            c["operator"],
            ";".join(c["parents"]),
            *_values(c["metrics"], cols, evaluator),
            *_sources(c["arch"], evaluator),
            c["designer"],
            c["rationale"],
        ]
        for i, c in enumerate(cands)
    ]
    for j, f in enumerate(failed):
        rows.append(
            [
                len(cands) + j,
                f["round"],
                f["partition"],
                f["arch"],
                f["status"],
                f["operator"],
                ";".join(f["parents"]),
                *["" for _ in cols],
                *_sources(f["arch"], evaluator, has_metrics=False),
                f["designer"],
                _failure_note(f),
            ]
        )
    write_csv_atomic(path, header, rows)


def _failure_note(f: dict[str, Any]) -> str:
    if f["status"] == "failed":
        return f"{f['error']} ({f['attempts']} attempts)"
    return str(f["error"])


def write_front(path: Path, front: list[Candidate], evaluator: Any) -> None:
    """The front, in objective order, with the values it was chosen on; where a searched
    value was predicted, its label (``latency_source``) and, where known, the true value
    beside it (``true_accuracy``, ``true_latency_ms``)."""
    cols = _metric_columns(front, evaluator)
    truth = evaluator.truth_columns()
    header = [
        "arch",
        "partition",
        "round",
        *_headers(cols, evaluator),
        *_source_headers(evaluator),
        *[f"true_{m}" for m in truth],
    ]
    ordered = sorted(
        front, key=lambda c: tuple(c["metrics"][o.metric] * o.sign for o in evaluator.objectives)
    )
    rows = []
    for c in ordered:
        row = [c["arch"], c["partition"], c["round"], *_values(c["metrics"], cols, evaluator)]
        row += _sources(c["arch"], evaluator)
        if truth:
            true = evaluator.true_metrics(c["arch"], c["metrics"])
            row += [true[m] for m in truth]
        rows.append(row)
    write_csv_atomic(path, header, rows)


def rebuild_outputs(rt: Any, state: dict[str, Any]) -> None:
    """``candidates.csv``, ``front.csv`` and ``rounds.csv`` from a checkpoint's values (the
    state is the truth; these files are views of it). Files that already hold the right
    bytes are left alone."""
    cands = state.get("candidates", [])
    failed = state.get("failed", [])
    on_front = set(state.get("front", []))
    constraints = [Constraint.model_validate(c) for c in state.get("constraints") or []]
    _write_if_changed(
        rt.run_dir / "candidates.csv",
        lambda p: write_candidates(p, cands, rt.evaluator, failed, constraints),
    )
    outputs = [("front.csv", on_front)]
    if constraints:
        outputs.append((FRONT_CONSTRAINED, set(state.get("front_constrained", []))))
    for name, members in outputs:
        rows = [c for c in cands if c["arch"] in members]
        _write_if_changed(rt.run_dir / name, lambda p, r=rows: write_front(p, r, rt.evaluator))
    if state.get("history"):
        _write_if_changed(
            rt.run_dir / "rounds.csv",
            lambda p: write_rounds(p, state["history"], state.get("llm_usage_split"), rt.config),
        )


def _write_if_changed(path: Path, write: Any) -> None:
    """Write to a temporary name, then replace ``path`` only when the bytes differ."""
    tmp = path.with_name(f".{path.name}.rebuild.tmp")
    write(tmp)
    try:
        same = path.is_file() and path.read_bytes() == tmp.read_bytes()
    except OSError:
        same = False
    if same:
        tmp.unlink()
    else:
        tmp.replace(path)


def write_summary(rt: Any, state: dict[str, Any]) -> dict[str, Any]:
    """Final figures of the run (also returned for the trace and the CLI)."""
    ev = rt.evaluator
    cands = state["candidates"]
    last = state["history"][-1] if state.get("history") else {}
    usage = add_usage(zero_usage(), state.get("llm_usage"))
    if rt.llm.is_llm:  # requests of work a kill interrupted are only in the trace's journal
        for k, v in journal_usage(rt.trace.path).items():
            usage[k] = max(usage[k], v)  # type: ignore[literal-required]
    summary: dict[str, Any] = {
        "space": rt.config.space,
        "dataset": ev.dataset,
        "hardware": rt.config.hardware,
        "objectives": [o.metric for o in ev.objectives],
        "accuracy_source": ev.accuracy_name,
        "llm": rt.llm.label,
        "is_llm": rt.llm.is_llm,
        "evaluations": len(cands),
        # every attempt spends budget: the evaluated cells plus failed/infeasible ones
        "attempted": len(cands) + len(state.get("failed", [])),
        "budget": state.get("limits", {}).get("budget", rt.config.budget),
        "rounds": last.get("round", 0),
        "front_size": len(state.get("front", [])),
        "hv_ratio": last.get("hv_ratio"),
        "igd": last.get("igd"),
        # run-wide, from the checkpointed state: every process of a resumed run counted
        "llm_calls": usage["calls"],
        "prompt_tokens": usage["prompt_tokens"],
        "completion_tokens": usage["completion_tokens"],
        "llm_usage": usage,
        **_costs(rt.config, usage, state),
        "designer_fallbacks": len(state.get("fallbacks", [])),
        "heuristics_in_kb": len(state.get("heuristics", [])),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    if last.get("constraint"):
        summary["constrained"] = {
            "constraint": last["constraint"],
            "feasible": last.get("feasible"),
            "front_size": last.get("front_constrained_size"),
            "hv_ratio": last.get("hv_ratio_constrained"),
            "igd": last.get("igd_constrained"),
            "note": "front of the cells that satisfy the constraint; HV ratio and IGD "
            "against the exact front of the space's cells that satisfy it",
        }
    if rt.config.reuse_evaluations:
        summary["reused_evaluations"] = reuse_summary(rt.reused)
    if ev.accuracy_name == "zero-cost":
        summary["zero_cost_predictor"] = ev.accuracy_source.describe()
    if ev.backend.predicted_metrics:
        summary["predicted_hardware"] = predicted_hardware(ev, cands, state.get("front", []))
    if ev.has_truth:
        predicted = " and ".join(ev.truth_columns())
        summary["hv_ratio_note"] = (
            f"front chosen on predicted {predicted}; HV ratio and IGD use the true "
            f"{predicted} of its members. *_true_selection: the front of all evaluated "
            f"cells chosen on true values (what the search covered)"
        )
        archs = [c["arch"] for c in cands]
        true_rows = [ev.true_metrics(c["arch"], c["metrics"]) for c in cands]
        hv, igd = ev.indicators(archs, true_rows)
        summary["hv_ratio_true_selection"], summary["igd_true_selection"] = hv, igd
    from agentnas.graph.llm_usage import llm_usage

    summary.update(llm_usage(rt.run_dir, rt.llm.is_llm))
    write_json_atomic(rt.run_dir / "summary.json", summary)
    return summary


def _costs(cfg: Any, usage: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """Tokens (and USD, with a price table) per role, the total cost, the caps in force,
    the caps reached (the offline policy went on after them) and the run's wall time."""
    caps = Caps.of(cfg)
    roles = {}
    for role, u in sorted(((state.get("llm_usage_split") or {}).get("roles") or {}).items()):
        row: dict[str, Any] = {"tokens_in": u.get("prompt_tokens", 0),
                               "tokens_out": u.get("completion_tokens", 0), **u}  # fmt: skip
        cost = caps.cost(u)
        if cost is not None:
            row["cost_usd"] = round(cost, 6)
        roles[role] = row
    out: dict[str, Any] = {
        "tokens_in": usage["prompt_tokens"],
        "tokens_out": usage["completion_tokens"],
        "llm_usage_by_role": roles,
        "wall_s": round(float(state.get("wall_s") or 0.0), 3),
    }
    cost = caps.cost(usage)
    if cost is not None:
        out["cost_usd"] = round(cost, 6)
        out["prices_usd_per_million"] = {"input": cfg.price_in, "output": cfg.price_out}
    limits = {k: getattr(cfg, k) for k in CAP_FIELDS if getattr(cfg, k) is not None}
    if limits:
        out["caps"] = limits
    if state.get("caps_reached"):
        out["caps_reached"] = state["caps_reached"]
    return out


def predicted_hardware(ev: Any, cands: list[Candidate], front: list[str]) -> dict[str, Any]:
    """What summary.json says of a partial table: how each metric was predicted, how many
    evaluations were predicted, the reference fronts are scored against, and the front
    cells whose values are predicted (to measure next)."""
    backend = ev.backend

    def is_predicted(arch: str) -> bool:
        return "predicted" in backend.metric_sources(arch).values()

    predicted = [c["arch"] for c in cands if is_predicted(c["arch"])]
    to_measure = [a for a in front if is_predicted(a)]
    reference = (
        f"the device's full table {backend.reference}: exact front, true values of predicted cells"
        if backend.reference is not None
        else "none: a partial table has no exact front (HV ratio and IGD are not known; "
        "give --backend-option reference=FULL.csv to score against the full table)"
    )
    return {
        "metrics": list(backend.predicted_metrics),
        **backend.prediction_notes(),
        "evaluations_predicted": len(predicted),
        "reference": reference,
        "front_to_measure": to_measure,
    }


ROUND_COLUMNS = (
    "round",
    "evaluations",
    "new_evaluations",
    "front_size",
    "hv_ratio",
    "igd",
    "constraint",
    "llm_calls",
    "prompt_tokens",
    "completion_tokens",
    "fallbacks",
    "seconds",
    "tokens_in",
    "tokens_out",
)
"""``rounds.csv`` layout. ``evaluations``, ``llm_calls``, ``prompt_tokens`` and
``completion_tokens`` are totals so far; ``new_evaluations`` is what the round added;
``constraint`` is what was in force while the round was designed ("" = none);
``tokens_in`` / ``tokens_out`` are the round's own tokens (its Designers, its Reflector,
the steering after it; round 0: the Partitioner), followed by ``cost_usd`` when the run
has a price table. Other slices add columns after these."""


def write_rounds(
    path: Path,
    history: list[dict[str, Any]],
    split: dict[str, Any] | None = None,
    cfg: Any = None,
) -> None:
    """One row per round of ``history`` (RoundStats dicts, oldest first; a round given
    twice keeps its last row), with each round's tokens from ``split`` (the state's
    ``llm_usage_split``) and, when ``cfg`` has prices, their cost. Keys beyond
    :data:`ROUND_COLUMNS` become extra columns."""
    by_round: dict[int, dict[str, Any]] = {}
    for h in history:
        by_round[int(h["round"])] = h
    rows = [by_round[r] for r in sorted(by_round)]
    caps = Caps.of(cfg) if cfg is not None else Caps()
    priced = ["cost_usd"] if caps.priced else []
    extra = sorted({k for h in rows for k in h} - set(ROUND_COLUMNS) - set(priced))
    header = [*ROUND_COLUMNS, *priced, *extra]
    spent = (split or {}).get("rounds") or {}
    out, before = [], 0
    for h in rows:
        u = spent.get(str(h["round"])) or {}
        row = {
            **h,
            "new_evaluations": h["evaluations"] - before,
            "tokens_in": int(u.get("prompt_tokens", 0)),
            "tokens_out": int(u.get("completion_tokens", 0)),
        }
        if priced:
            row["cost_usd"] = round(caps.cost(u) or 0.0, 6)
        before = h["evaluations"]
        out.append(["" if row.get(k) is None else row.get(k, "") for k in header])
    write_csv_atomic(path, header, out)


def constraint_text(constraints: Any) -> str:
    """The constraints in force as one cell of ``rounds.csv`` (``latency_ms < 3``; several
    joined by ``; ``). Accepts strings or dicts with metric/op/value."""
    if not constraints:
        return ""
    items = constraints if isinstance(constraints, list | tuple) else [constraints]
    words = []
    for c in items:
        if isinstance(c, dict):
            metric = c.get("metric") or c.get("objective") or "?"
            op = c.get("op") or c.get("operator") or "?"
            words.append(f"{metric} {op} {c.get('value', c.get('bound', '?'))}")
        else:
            words.append(str(c))
    return "; ".join(words)
