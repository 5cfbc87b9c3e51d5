"""The offline Reflector: heuristics from a round's parent → child edits, by rule (no LLM).

It compares each child with its parent edit by edit, in the words the space's
vocabulary gives (NB201: which op went onto which edge; photonic-mlp: which complexity
feature went up or down) and writes the
consistent effects as heuristics in a fixed template ending in a machine-readable tag
``[rule p2: e3<-0=skip_connect]`` that the offline Designer parses; existing rules gain
evidence for or against; rules contradicted far more than supported are retired.

The tags are the contract with the offline Designer (:mod:`agentnas.agents.offline_policy`),
which parses them with :func:`parse_rule` and matches them with :func:`edit_tokens`.

On spaces of one op per slot (NB201, :class:`~agentnas.tools.spaces.base.SlotSpace`)
the Reflector writes structured claims instead of tagged rules
(:func:`claim_observations`): every child that differs from its single parent in one or
two edges is an observation "op A instead of op B on edge e changed objective o by d";
the round's observations of one (edge, A, B, objective) become one claim with its mean
effect and count, which the graph pools with the same claim from earlier rounds, runs and
devices (:func:`agentnas.graph.knowledge.apply_reflection`). Accuracy claims are marked
hardware-independent; cost claims hold for the device they were measured on.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from agentnas.agents import surrogate as sg
from agentnas.agents.schemas import (
    Claim,
    HeuristicView,
    NewHeuristic,
    Outcome,
    ReflectorContext,
    Revision,
)
from agentnas.tools.objectives import Objective, is_maximized
from agentnas.tools.spaces.base import SlotSpace

RULE_TAG = re.compile(r"\[rule p(?P<part>\d+|\*): (?P<token>[^\]]+)\]")


# ---------------------------------------------------------------- edits and rules


def edit_tokens(space: Any, parent: str, child: str) -> list[str]:
    """What changed from ``parent`` to ``child``, in the space's vocabulary
    (:meth:`~agentnas.tools.spaces.base.SearchSpace.edit_tokens`: ``e3<-0=skip_connect``
    per NB201 edge, ``<feature> up|down`` per complexity feature elsewhere)."""
    return space.edit_tokens(parent, child)


def parse_rule(h: HeuristicView) -> tuple[int | None, str] | None:
    """(partition or None for all, token) of a rule the offline Reflector wrote, else None."""
    m = RULE_TAG.search(h.text)
    if not m:
        return None
    part = None if m["part"] == "*" else int(m["part"])
    return (h.partition if h.partition is not None else part), m["token"].strip()


def _verdict(o: Outcome, objectives: Sequence[Objective]) -> int:
    """+1 Pareto-better than the parent (or on the global front), −1 worse in every
    objective that changed, 0 a trade-off."""
    better = worse = 0
    for obj in objectives:
        d = o.deltas.get(obj.metric)
        if d is None or abs(d) < 1e-12:
            continue
        if (d > 0) == (obj.direction == "max"):
            better += 1
        else:
            worse += 1
    if o.on_front or (better and not worse):
        return 1
    if worse and not better:
        return -1
    return 0


# An edit that cuts a cell's last live path costs up to 80 accuracy points: that is the
# cell's structure (which the surrogate models by its path features), not the op's effect
# elsewhere. Each observation is clipped to this many points (a near-front edit moves
# accuracy by 0.1-1 point), so one disconnection cannot dominate a claim's mean.
ACCURACY_CLIP = 2.0
MAX_EDITS = 2  # children further from their parent say too little about any one edit
RETIRE_AFTER = 12  # observations before an inconsistent measured claim is retired


def claim_observations(
    ctx: ReflectorContext, space: Any
) -> dict[tuple[str, str, str, str], list[float]]:
    """(edge, op, instead_of, objective) -> the round's per-edit changes of the objective,
    canonical so that ``op < instead_of`` (the reverse edit counts with its sign flipped)."""
    out: dict[tuple[str, str, str, str], list[float]] = defaultdict(list)
    slots = tuple(space.vocabulary().slots) if space is not None else ()
    for o in ctx.outcomes:
        if len(o.parents) != 1:
            continue
        try:
            a, b = sg.slot_ops(space, o.parents[0]), sg.slot_ops(space, o.child)
        except Exception:  # a parent from another space or a malformed record
            continue
        if a is None or b is None:
            continue
        edits = [(e, x, y) for e, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if not edits or len(edits) > MAX_EDITS:
            continue
        for e, old, new in edits:
            op, instead, sign = (new, old, 1.0) if new < old else (old, new, -1.0)
            for obj in ctx.objectives:
                m = obj.metric
                d = o.deltas.get(m)
                if d is None:
                    continue
                if obj.direction == "max":  # see ACCURACY_CLIP
                    clip = ACCURACY_CLIP * (1.0 if o.child_metrics.get(m, 0.0) > 1.0 else 0.01)
                    d = max(-clip, min(clip, d))
                out[(slots[e], op, instead, m)].append(sign * d / len(edits))
    return out


def _objective_name(metric: str) -> str:
    """The claim's objective word for a metric (``latency_ms`` -> ``latency``)."""
    return "accuracy" if is_maximized(metric) else metric.removesuffix("_ms").removesuffix("_mj")


PATTERN_MIN_SHARE = 0.2  # rarer ops on a front's edge make no front-pattern claim


def front_patterns(ctx: ReflectorContext, space: Any) -> list[NewHeuristic]:
    """Per partition and edge, the ops its Pareto archive's cells carry, as front-pattern
    claims (:data:`agentnas.memory.claim.FRONT`): "partition 2's front cells put
    skip_connect on edge 3<-0 (80% of 5)". Patterns of ops on edges, not cells."""
    from agentnas.memory.claim import FRONT, describe

    by_part: dict[int, list[tuple[str, ...]]] = defaultdict(list)
    slots = tuple(space.vocabulary().slots) if isinstance(space, SlotSpace) else ()
    for s in ctx.front:
        ops = sg.slot_ops(space, s.arch)
        if ops is not None and s.partition is not None:
            by_part[s.partition].append(ops)
    add = []
    for part, cells in sorted(by_part.items()):
        n = len(cells)
        for e, label in enumerate(slots):
            counts: dict[str, int] = defaultdict(int)
            for ops in cells:
                counts[ops[e]] += 1
            for op, k in sorted(counts.items()):
                if k / n < PATTERN_MIN_SHARE:
                    continue
                claim = Claim(
                    op=op, edges=(label,), objective=FRONT, direction="up", effect=k / n,
                    evidence=n, devices=(ctx.hardware,),
                    datasets=(ctx.dataset,) if ctx.dataset else (), source="reflector",
                    hardware_independent=True,
                )  # fmt: skip
                add.append(NewHeuristic(
                    text=describe(claim), claim=claim, partition=part, polarity="positive",
                    evidence_for=k, evidence_against=n - k,
                ))  # fmt: skip
    return add


def reflect_claims(ctx: ReflectorContext, space: Any) -> tuple[list[NewHeuristic], list[str]]:
    """This round's claims (one per observed key, evidence = its observations) and the
    ids of measured claims to retire (many observations, no consistent sign)."""
    from agentnas.memory.claim import describe

    add = []
    for (edge, op, instead, obj), values in claim_observations(ctx, space).items():
        mean = sum(values) / len(values)
        if abs(mean) < 1e-12:
            continue
        up = mean > 0
        claim = Claim(
            op=op, instead_of=instead, edges=(edge,), objective=_objective_name(obj),
            direction="up" if up else "down", effect=mean, evidence=len(values),
            devices=(ctx.hardware,), datasets=(ctx.dataset,) if ctx.dataset else (),
            source="reflector", hardware_independent=is_maximized(obj),
        )  # fmt: skip
        agree = sum(1 for v in values if (v > 0) == up and abs(v) > 1e-12)
        add.append(NewHeuristic(
            text=describe(claim), claim=claim, partition=None,
            polarity="positive" if claim.good(is_maximized(obj)) else "negative",
            evidence_for=agree, evidence_against=len(values) - agree,
        ))  # fmt: skip
    add.sort(key=lambda h: (-(h.claim.evidence if h.claim else 0), h.text))
    add = [*front_patterns(ctx, space), *add]
    retire = [
        h.id
        for h in ctx.heuristics
        if h.claim is not None and h.claim.effect is not None and h.claim.objective != "front"
        and h.evidence_for + h.evidence_against >= RETIRE_AFTER
        and h.evidence_for < 1.5 * h.evidence_against
    ]  # fmt: skip
    return add[: ctx.max_new_claims], retire


def _edit_stats(ctx: ReflectorContext, space: Any) -> dict[tuple[int, str], dict[str, Any]]:
    """(partition, edit token) -> children count, Pareto-better / worse counts, summed
    objective changes, and per objective the counts of rises and falls."""
    stats: dict[tuple[int, str], dict[str, Any]] = defaultdict(
        lambda: {"n": 0, "better": 0, "worse": 0, "delta": defaultdict(float),
                 "up": defaultdict(int), "down": defaultdict(int)}
    )  # fmt: skip
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
                s["up"][k] += d > 1e-12
                s["down"][k] += d < -1e-12
    return stats


def _matches(
    h: HeuristicView, slots: Sequence[str]
) -> tuple[int | None, set[str], Claim | None] | None:
    """(partition, edit tokens, claim) an existing words-level rule is judged on: a
    legacy ``[rule …]`` tag, or a claim without a measured effect (a user's words; one
    that names no slot speaks of every slot of the space)."""
    if h.claim is not None and h.claim.effect is None:
        edges = h.claim.edges or slots
        return h.partition, {f"e{e}={h.claim.op}" for e in edges}, h.claim
    rule = parse_rule(h)
    if rule is None:
        return None
    return rule[0], {rule[1]}, None


def _rule_evidence(
    ctx: ReflectorContext, stats: dict[tuple[int, str], dict[str, Any]], slots: Sequence[str]
) -> tuple[list[Revision], list[str], set[tuple[int | None, str]]]:
    """Evidence for the rules already in the KB that are judged by edits (tagged rules,
    claims in a user's words): children that made the edit and came out better or worse
    (overall, or in the claim's objective). Contradicted far more than supported: retired."""
    revise: list[Revision] = []
    retire: list[str] = []
    existing: set[tuple[int | None, str]] = set()
    for h in ctx.heuristics:
        match = _matches(h, slots)
        if match is None:
            continue
        part, tokens, claim = match
        existing |= {(part, t) for t in tokens}
        d_for = d_against = 0
        for (p, t), s in stats.items():
            if t not in tokens or (part is not None and part != p):
                continue
            metric = next(
                (o.metric for o in ctx.objectives if claim and claim.applies_to(o.metric)), None
            )
            if metric is not None and claim is not None:
                up, down = s["up"][metric], s["down"][metric]
                good, bad = (up, down) if claim.direction == "up" else (down, up)
            else:
                good, bad = s["better"], s["worse"]
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
    return revise, retire, existing


def reflect_offline(
    ctx: ReflectorContext, space: Any
) -> tuple[list[NewHeuristic], list[Revision], list[str], dict[str, Any]]:
    """Heuristics from the round's statistics (see the module docstring)."""
    stats = _edit_stats(ctx, space)
    slots = space.vocabulary().slots if space is not None else ()
    revise, retire, existing = _rule_evidence(ctx, stats, slots)
    if isinstance(space, SlotSpace):  # one op per slot: claims about op X on edge e
        add, retire_claims = reflect_claims(ctx, space)
        summary = {
            "content": (
                f"offline policy: {len(ctx.outcomes)} outcomes; {len(add)} claims observed "
                f"(op instead of op on an edge, per objective), {len(revise)} evidence "
                f"updates of rules in words, {len(retire) + len(retire_claims)} retired"
            ),
            "tool_calls": [],
        }
        return add, revise, [*retire, *retire_claims], summary
    # other spaces: tagged rules on complexity features, consistent effects first
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
