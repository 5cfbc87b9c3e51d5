"""The offline Reflector: heuristics from a round's parent → child edits, by rule (no LLM).

It compares each child with its parent edit by edit (NB201: which op went onto
which edge; other spaces: which complexity feature went up or down) and writes the
consistent effects as heuristics in a fixed template ending in a machine-readable tag
``[rule p2: e3<-0=skip_connect]`` that the offline Designer parses; existing rules gain
evidence for or against; rules contradicted far more than supported are retired.

The tags are the contract with the offline Designer (:mod:`agentnas.agents.offline_policy`),
which parses them with :func:`parse_rule` and matches them with :func:`edit_tokens`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from agentnas.agents import surrogate as sg
from agentnas.agents.schemas import (
    HeuristicView,
    NewHeuristic,
    Outcome,
    ReflectorContext,
    Revision,
    maximized,
)

RULE_TAG = re.compile(r"\[rule p(?P<part>\d+|\*): (?P<token>[^\]]+)\]")
NB201_EDGE_LABELS = ("1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2")


# ---------------------------------------------------------------- edits and rules


def edit_tokens(space: Any, parent: str, child: str) -> list[str]:
    """What changed from ``parent`` to ``child``: ``e3<-0=skip_connect`` per NB201 edge, or
    ``<feature> up|down`` per complexity feature for other spaces."""
    a, b = sg.nb201_ops(space, parent), sg.nb201_ops(space, child)
    if a is not None and b is not None:
        return [
            f"e{NB201_EDGE_LABELS[e]}={y}"
            for e, (x, y) in enumerate(zip(a, b, strict=False))
            if x != y
        ]
    fa, fb = space.features(parent), space.features(child)
    return [f"{k} {'up' if fb[k] > fa[k] else 'down'}" for k in sorted(fa) if fb.get(k) != fa[k]]


def parse_rule(h: HeuristicView) -> tuple[int | None, str] | None:
    """(partition or None for all, token) of a rule the offline Reflector wrote, else None."""
    m = RULE_TAG.search(h.text)
    if not m:
        return None
    part = None if m["part"] == "*" else int(m["part"])
    return (h.partition if h.partition is not None else part), m["token"].strip()


def _verdict(o: Outcome, objectives: Sequence[str]) -> int:
    """+1 Pareto-better than the parent (or on the global front), −1 worse in every
    objective that changed, 0 a trade-off."""
    better = worse = 0
    for obj in objectives:
        d = o.deltas.get(obj)
        if d is None or abs(d) < 1e-12:
            continue
        if (d > 0) == maximized(obj):
            better += 1
        else:
            worse += 1
    if o.on_front or (better and not worse):
        return 1
    if worse and not better:
        return -1
    return 0


def reflect_offline(
    ctx: ReflectorContext, space: Any
) -> tuple[list[NewHeuristic], list[Revision], list[str], dict[str, Any]]:
    """Heuristics from the round's statistics (see the module docstring)."""
    stats: dict[tuple[int, str], dict[str, Any]] = defaultdict(
        lambda: {"n": 0, "better": 0, "worse": 0, "delta": defaultdict(float)}
    )
    for o in ctx.outcomes:
        if not o.parents:
            continue
        try:
            tokens = edit_tokens(space, o.parents[0], o.child)
        except Exception:  # a parent from another space or a malformed record
            continue
        v = _verdict(o, ctx.objectives)
        for t in tokens:
            s = stats[(o.partition, t)]
            s["n"] += 1
            s["better"] += v > 0
            s["worse"] += v < 0
            for k, d in o.deltas.items():
                s["delta"][k] += d
    # evidence for existing rules
    revise: list[Revision] = []
    retire: list[str] = []
    existing = set()
    for h in ctx.heuristics:
        rule = parse_rule(h)
        if rule is None:
            continue
        part, token = rule
        existing.add((part, token))
        d_for = d_against = 0
        for (p, t), s in stats.items():
            if t == token and (part is None or part == p):
                good, bad = (s["better"], s["worse"])
                if h.polarity == "negative":
                    good, bad = bad, good
                d_for += good
                d_against += bad
        if d_for or d_against:
            revise.append(
                Revision(id=h.id, evidence_for_delta=d_for, evidence_against_delta=d_against)
            )
        f, a = h.evidence_for + d_for, h.evidence_against + d_against
        if a >= 2 * f + 3:
            retire.append(h.id)
    # new rules: consistent effects, strongest first
    ranked = []
    for (p, t), s in stats.items():
        net = s["better"] - s["worse"]
        if net == 0 or (p, t) in existing or (None, t) in existing:
            continue
        ranked.append((-abs(net), -s["n"], p, t, s))
    ranked.sort(key=lambda r: r[:4])
    add = []
    for _, _, p, t, s in ranked[: ctx.max_new]:
        positive = s["better"] > s["worse"]
        what = t.replace("=", " to ", 1) if t.startswith("e") and "=" in t else t
        what = f"setting edge {what[1:]}" if t.startswith("e") and "=" in t else f"{what}"
        means = ", ".join(f"{k} {v / s['n']:+.3g}" for k, v in sorted(s["delta"].items()))
        add.append(NewHeuristic(
            text=(
                f"In partition {p}, {what} {'helped' if positive else 'hurt'}: "
                f"{s['better']} of {s['n']} children Pareto-better than their parent, "
                f"{s['worse']} worse (mean change {means}). [rule p{p}: {t}]"
            ),
            polarity="positive" if positive else "negative", partition=p,
            evidence_for=max(s["better"], s["worse"]),
            evidence_against=min(s["better"], s["worse"]),
        ))  # fmt: skip
    summary = {
        "content": (
            f"offline policy: {len(ctx.outcomes)} outcomes, {len(stats)} (partition, edit) "
            f"statistics; {len(add)} new rules, {len(revise)} evidence updates, "
            f"{len(retire)} retired"
        ),
        "tool_calls": [],
    }
    return add, revise, retire, summary
