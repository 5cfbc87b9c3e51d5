"""The facts behind :mod:`agentnas.graph.why` answers and their wording.

Each ``*_facts``/``*_limits`` function gathers JSON-ready facts from a
:class:`~agentnas.graph.run_record.RunRecord`; each ``*_text`` function words them. Numbers
are shown with 4 significant digits, in the objectives' units.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from agentnas.graph.run_record import RunRecord
from agentnas.tools.objectives import Objective

MAX_TREE_LINES = 40
"""Lineage lines shown in a text answer (the JSON holds every ancestor)."""


def num(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def metrics_text(record: RunRecord, metrics: dict[str, Any]) -> str:
    """Objectives first (``accuracy 93.37 %``), then other metrics."""
    names = [o.metric for o in record.objectives]
    units = {o.metric: o.unit for o in record.objectives}
    keys = names + sorted(k for k in metrics if k not in names)
    return ", ".join(
        f"{k} {num(metrics[k])}" + (f" {units[k]}" if units.get(k) else "")
        for k in keys
        if k in metrics
    )


def cell_facts(record: RunRecord, cell: dict[str, Any]) -> dict[str, Any]:
    """One cell with what the question needs: its heuristics' texts, its front label,
    its change against its best parent (per objective, natural units)."""
    label = record.front_label(cell["arch"])
    parents = [record.by_arch[p] for p in cell["parents"] if p in record.by_arch]
    return {
        **cell,
        "evaluated": True,
        "front": label,
        "heuristics_used": [
            {"id": h, "text": record.heuristics.get(h, "(text not in the trace)")}
            for h in cell["heuristics_used"]
        ],
        "delta_vs_best_parent": _deltas(cell, parents, record.objectives),
    }


def _deltas(
    cell: dict[str, Any], parents: list[dict[str, Any]], objectives: list[Objective]
) -> dict[str, float]:
    out = {}
    for o in objectives:
        vals = [p["metrics"][o.metric] for p in parents if o.metric in p["metrics"]]
        if vals and o.metric in cell["metrics"]:
            best = max(vals) if o.direction == "max" else min(vals)
            out[o.metric] = float(cell["metrics"][o.metric]) - float(best)
    return out


def _node_line(record: RunRecord, arch: str) -> str:
    c = record.by_arch.get(arch)
    if c is None:
        return f"{arch} (not evaluated in this run)"
    label = record.front_label(arch)
    who = "seed" if c["operator"] == "seed" else f"{c['operator']} by {c['designer']}"
    line = f"{arch} r{c['round']} p{c['partition']} {who}; {metrics_text(record, c['metrics'])}"
    if label:
        line += f" [{label}]"
    if c["operator"] != "seed" and c["rationale"]:
        line += f"; why: {c['rationale']}"
    return line


def lineage_lines(record: RunRecord, arch: str) -> list[str]:
    """The lineage tree under the cell, one ancestor per line; an ancestor reached a
    second time (crossover of relatives) is named, not expanded again."""
    lines: list[str] = []
    seen: set[str] = {arch}

    def walk(a: str, prefix: str) -> None:
        parents = (record.by_arch.get(a) or {}).get("parents") or []
        for i, p in enumerate(parents):
            if len(lines) >= MAX_TREE_LINES:
                return
            last = i == len(parents) - 1
            branch = "└─ " if last else "├─ "
            if p in seen:
                lines.append(f"{prefix}{branch}{p} (shown above)")
                continue
            seen.add(p)
            lines.append(prefix + branch + _node_line(record, p))
            walk(p, prefix + ("   " if last else "│  "))

    walk(arch, "    ")
    if len(lines) >= MAX_TREE_LINES:
        lines.append("    … (more ancestors in --json)")
    return lines


def range_text(part: dict[str, Any]) -> str:
    lo, hi = part.get("low"), part.get("high")
    return f"= {num(lo)}" if lo == hi else f"in {num(lo)}–{num(hi)}"


# --------------------------------------------------------------------------- partitions


def _best(record: RunRecord, cells: list[dict[str, Any]], o: Objective) -> dict[str, Any] | None:
    have = [c for c in cells if o.metric in c["metrics"]]
    if not have:
        return None
    # ties on this objective go to the cell better on the others (front.csv order)
    return min(have, key=lambda c: (float(c["metrics"][o.metric]) * o.sign, record.sort_key(c)))


def _stalled_since(record: RunRecord, pid: int) -> int | None:
    """The last round that changed the partition's own front (None: never recorded)."""
    last, prev = None, None
    for r in record.rounds:
        members = tuple(sorted((r.get("archives") or {}).get(str(pid), [])))
        if members != prev:
            last = int(r["round"])
        prev = members
    return last


def _steering_of(record: RunRecord, pid: int) -> list[str]:
    out = []
    for e in record.events_of("steer"):
        c = e.get("command") or {}
        parts = c.get("partitions") or []
        if parts and c.get("action") in ("focus", "freeze", "unfreeze"):
            verb = c["action"]
            mark = "includes" if pid in parts else "leaves out"
            out.append(f"{verb} {parts} after round {e.get('round')} {mark} p{pid}")
    return out


def partition_limits(
    record: RunRecord, part: dict[str, Any], cells: list[dict[str, Any]]
) -> list[str]:
    """What holds the partition back, each a fact the run recorded."""
    pid, size = int(part["id"]), int(part.get("size") or 0)
    limits = []
    for o in record.objectives:
        mine, run = _best(record, cells, o), _best(record, record.cells, o)
        if mine is None or run is None or mine["arch"] == run["arch"]:
            continue
        gap = abs(float(mine["metrics"][o.metric]) - float(run["metrics"][o.metric]))
        if gap == 0:
            continue
        limits.append(
            f"its best {o.metric} is {num(float(mine['metrics'][o.metric]))}, the run's best "
            f"{num(float(run['metrics'][o.metric]))} (p{run['partition']}; {num(gap)} "
            f"{o.unit} behind): its range of {part.get('feature') or record.partition_feature} "
            f"({range_text(part)}) bounds it"
        )
    if size and len(cells) >= size:
        limits.append(f"exhausted: all {size} of its cells are evaluated")
    stalled = _stalled_since(record, pid)
    last_round = int(record.rounds[-1]["round"]) if record.rounds else 0
    if stalled is not None and stalled < last_round:
        limits.append(f"its own front last changed in round {stalled} (of {last_round})")
    flagged = sum(1 for c in cells if c["status"] != "ok")
    if flagged:
        limits.append(f"{flagged} of its cells are flagged (constraint, failed or infeasible)")
    limits += _steering_of(record, pid)
    return limits


def partition_text(
    record: RunRecord, part: dict[str, Any], cells: list[dict[str, Any]], limits: list[str]
) -> tuple[str, dict[str, Any]]:
    pid, size = int(part["id"]), int(part.get("size") or 0)
    front = set(record.front)
    archive = (record.rounds[-1].get("archives") or {}).get(str(pid), []) if record.rounds else []
    by_round = Counter(c["round"] for c in cells)
    best = {o.metric: _best(record, cells, o) for o in record.objectives}
    feature = part.get("feature") or record.partition_feature
    share = len(cells) / len(record.cells) if record.cells else 0.0
    lines = [
        f"partition p{pid}: {feature} {range_text(part)}"
        + (f" ({size} cells in the space)" if size else ""),
        f"  evaluations: {len(cells)}"
        + (f" of its {size} cells" if size else "")
        + f", {share:.0%} of the run's {len(record.cells)}; by round: "
        + (", ".join(f"r{r} {n}" for r, n in sorted(by_round.items())) or "none"),
    ]
    for metric, c in best.items():
        if c is not None:
            lines.append(f"  best {metric}: {_node_line(record, c['arch'])}")
    on_front = [record.front_label(a) for a in archive if a in front]
    lines.append(
        f"  its own front: {len(archive)} cell(s), {len(on_front)} on the run's front"
        + (f" ({', '.join(on_front)})" if on_front else "")
    )
    lines.append("  what limits it:" if limits else "  what limits it: nothing recorded")
    lines += [f"   - {x}" for x in limits]
    data = {
        "partition": part,
        "evaluations": len(cells),
        "evaluations_by_round": {str(r): n for r, n in sorted(by_round.items())},
        "best": {m: (c["arch"] if c else None) for m, c in best.items()},
        "best_metrics": {m: (c["metrics"] if c else None) for m, c in best.items()},
        "archive": archive,
        "on_run_front": on_front,
        "limits": limits,
    }
    return "\n".join(lines), data


# --------------------------------------------------------------------------- rounds


def _round_event(record: RunRecord, rnd: int) -> dict[str, Any]:
    return next(r for r in record.rounds if int(r["round"]) == rnd)


def _designer_notes(record: RunRecord, rnd: int) -> list[dict[str, Any]]:
    out = []
    for e in record.events_of("agent_attempt"):
        key = e.get("key") or {}
        if e.get("role") != "designer" or key.get("round") != rnd:
            continue
        answer = (e.get("answer") or {}).get("content") or ""
        out.append(
            {
                "partition": key.get("partition"),
                "by": e.get("label"),
                "errors": e.get("errors") or [],
                "said": str(answer)[:300],
            }
        )
    return out


def _steers_before(record: RunRecord, rnd: int) -> list[dict[str, Any]]:
    """Steering applied at the boundary before round ``rnd`` (written with round rnd-1)."""
    return [
        e.get("command") or {}
        for e in record.events_of("steer")
        if e.get("round") is not None and int(e["round"]) == rnd - 1
    ]


def _kb_after(record: RunRecord, rnd: int) -> list[dict[str, Any]]:
    return [
        ch
        for e in record.events_of("kb_changes")
        if e.get("round") == rnd
        for ch in (e.get("changes") or [])
    ]


def round_facts(record: RunRecord, rnd: int) -> dict[str, Any]:
    """What round ``rnd`` added and changed, with the reasons the run recorded."""
    now = _round_event(record, rnd)
    prev = next((r for r in reversed(record.rounds) if int(r["round"]) < rnd), None)
    new = [c for c in record.cells if c["round"] == rnd]
    before, after = set(prev["front"]) if prev else set(), set(now.get("front") or [])
    allocation = {
        str(e.get("partition")): e.get("n_children")
        for e in record.events_of("design_context")
        if e.get("round") == rnd
    }
    return {
        "round": rnd,
        "evaluations_before": prev["evaluations"] if prev else 0,
        "evaluations_after": now.get("evaluations"),
        "new_cells": [c["arch"] for c in new],
        "by_partition": {
            str(k): v
            for k, v in sorted(
                Counter(c["partition"] for c in new).items(), key=lambda kv: str(kv[0])
            )
        },
        "by_operator": dict(Counter(c["operator"] for c in new)),
        "allocation": allocation,
        "front_before": len(before),
        "front_after": len(after),
        "entered_front": [a for a in now.get("front") or [] if a not in before],
        "left_front": sorted(before - after),
        "hv_ratio_before": prev.get("hv_ratio") if prev else None,
        "hv_ratio_after": now.get("hv_ratio"),
        "igd_before": prev.get("igd") if prev else None,
        "igd_after": now.get("igd"),
        "steering_before": _steers_before(record, rnd),
        "kb_changes_after": _kb_after(record, rnd),
        "designers": _designer_notes(record, rnd),
        "fallbacks": [e for e in record.events_of("designer_fallback") if e.get("round") == rnd],
        "partitions_chosen": _partitions_note(record) if rnd == 0 else None,
        "best_new": {
            o.metric: (best["arch"] if (best := _best(record, new, o)) else None)
            for o in record.objectives
        },
    }


def _partitions_note(record: RunRecord) -> dict[str, Any]:
    e = next(iter(record.events_of("partitions")), {})
    return {
        "feature": e.get("feature"),
        "rationale": e.get("rationale"),
        "decided_by": e.get("decided_by"),
    }


def _change(name: str, a: Any, b: Any) -> str:
    if a is None:
        return f"{name} {num(b)}"
    if b is None:
        return f"{name} {num(a)} → –"
    return f"{name} {num(a)} → {num(b)} ({float(b) - float(a):+.4g})"


def _steer_words(c: dict[str, Any]) -> str:
    fields = [f"{k}={v}" for k, v in c.items() if k != "action" and v not in (None, "", [], 0)]
    return f"{c.get('action', '?')}" + (f" ({', '.join(fields)})" if fields else "")


def round_text(record: RunRecord, f: dict[str, Any]) -> str:
    rnd = f["round"]
    lines = [
        f"round r{rnd}: {len(f['new_cells'])} new cell(s), evaluations "
        f"{f['evaluations_before']} → {f['evaluations_after']}; by partition "
        + (", ".join(f"p{k} {v}" for k, v in f["by_partition"].items()) or "none")
        + "; by operator "
        + (", ".join(f"{k} {v}" for k, v in f["by_operator"].items()) or "none"),
        f"  front {f['front_before']} → {f['front_after']} members; "
        + _change("HV ratio", f["hv_ratio_before"], f["hv_ratio_after"])
        + "; "
        + _change("IGD", f["igd_before"], f["igd_after"]),
    ]
    for metric, arch in f["best_new"].items():
        if arch is not None:
            lines.append(f"  best new {metric}: {_node_line(record, arch)}")
    if rnd == 0 and f["partitions_chosen"]:
        p = f["partitions_chosen"]
        lines.append(f"  partitions on {p['feature']} by {p['decided_by']}: {p['rationale']}")
    for a in f["entered_front"]:
        lines.append(f"  entered the front: {_node_line(record, a)}")
    for a in f["left_front"]:
        lines.append(f"  left the front: {a}")
    if f["steering_before"]:
        lines.append(
            "  steering before it: " + "; ".join(_steer_words(c) for c in f["steering_before"])
        )
    if f["allocation"]:
        lines.append(
            "  budget: " + ", ".join(f"p{k} {v}" for k, v in f["allocation"].items()) + " children"
        )
    for d in f["designers"]:
        lines.append(f"  designer p{d['partition']} ({d['by']}): {d['said']}")
    for fb in f["fallbacks"]:
        lines.append(f"  fallback in p{fb.get('partition')}: {fb.get('reason')}")
    if f["kb_changes_after"]:
        counts = Counter(ch.get("action") for ch in f["kb_changes_after"])
        lines.append(
            "  knowledge base after it: "
            + ", ".join(f"{n} {a}" for a, n in counts.items())
            + "; e.g. "
            + str(f["kb_changes_after"][0].get("text", ""))[:200]
        )
    return "\n".join(lines)
