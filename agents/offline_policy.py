"""The offline policy: plays Designer and Reflector (and, in :mod:`partitioner`, the
Partitioner) by rule, with no LLM. Labelled ``"offline policy (no LLM)"`` everywhere.

Designer, per partition and round (deterministic in (seed, round, partition id), whatever
the thread scheduling):

1. Bases: the partition's Pareto parents and front, plus the global front's members from
   any partition ("migration": their one-edit neighbours that fall inside this partition
   are often its best cells). Candidates are every one-edit neighbour of a base (local
   search), a few two-edit mutations, and uniform crossovers between bases — all legal,
   novel, inside the partition and (NB201) not degenerate.
2. Each objective of each candidate is predicted by an additive op-effect model fitted on
   every evaluated cell (:mod:`agentnas.agents.surrogate`: NB201 path/structure features
   and op priors; accuracy modelled as log error rate), with a bootstrap spread.
3. All candidates are ranked together by the hypervolume their optimistic prediction
   (mean + ``KAPPA`` spreads) adds to the global front (then the partition's front, then
   the smallest dominance gap); the winner's predicted point joins the front so the next
   child goes elsewhere, and the Reflector's rules nudge the ranking. The operator
   recorded is the child's origin (mutation / crossover / seed). The former rule (a
   seeded coin forcing crossover or mutation, p=0.5) was dropped: one ranking measured
   better (see below).

Measured (graph loop replica, 100 evaluations, 10 rounds, K=6, seeds 0..7, HV ratio
mean on Eyeriss+FPGA): former policy 0.914; + one ranking 0.923; + log-error accuracy
target 0.936; + migration 0.951; front-weighted allocation (graph/allocation.py) gave
+0.00..0.006, within noise.

Reflector: :mod:`agentnas.agents.offline_reflector` (re-exported here), which also owns the
rule tags this Designer reads (:func:`parse_rule`, :func:`edit_tokens`).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from agentnas.agents import claim_use as cu
from agentnas.agents import lookup_costs as lc
from agentnas.agents import surrogate as sg
from agentnas.agents.hard_rules import RuleJudge, violated
from agentnas.agents.offline_reflector import (
    RULE_TAG,
    edit_tokens,
    parse_rule,
    reflect_offline,
)
from agentnas.agents.schemas import (
    DesignerContext,
    HeuristicView,
    Proposal,
    ScoredArch,
)
from agentnas.tools.spaces.base import EnumerableSpace

__all__ = [
    "RULE_TAG",
    "design_offline",
    "edit_tokens",
    "fallback_children",
    "parse_rule",
    "reflect_offline",
    "rule_judge",
    "stable_rng",
]

# how far heuristics in words scale a candidate's expected gain: soft (a candidate that
# breaks a fresh rule, confidence 0.5, keeps a quarter of its gain; one with evidence
# against it keeps more), never a veto — hard rules are the steering's constraints
WORDS_WEIGHT = 1.5
WORDS_FLOOR = 0.05


Lookup = Callable[[str], Mapping[str, float]]  # cheap metrics of a cell before evaluating it


def stable_rng(*parts: object) -> random.Random:
    """A generator seeded by its arguments' text only (no hash randomisation, no order
    of thread scheduling)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


# ---------------------------------------------------------------- designer


def _rule_support(
    rules: list[tuple[HeuristicView, str]], tokens: list[str]
) -> tuple[float, list[str]]:
    """Net support in [-1, 1] of the rules an edit follows, and the positive ones' ids."""
    score, used = 0.0, []
    for h, token in rules:
        if token in tokens:
            weight = (h.evidence_for + 1) / (h.evidence_for + h.evidence_against + 2)
            score += weight if h.polarity == "positive" else -weight
            if h.polarity == "positive":
                used.append(h.id)
    return max(-1.0, min(1.0, score)), used


def _support(
    space: Any,
    rules: list[tuple[HeuristicView, str]],
    words: list[tuple[HeuristicView, Any]],
    parent: str | None,
    arch: str,
    objectives: Sequence[str],
) -> tuple[float, list[str]]:
    """Net support of the heuristics in words for one candidate: claims judge the cell's
    ops per slot (and its edit) on spaces they apply to (:func:`_claims_apply`), tagged
    rules of other spaces the edit from its parent."""
    if words:
        pops = sg.slot_ops(space, parent) if parent else None
        slots = space.vocabulary().slots
        return cu.word_support(words, pops, sg.slot_ops(space, arch) or (), objectives, slots)
    if rules and parent:
        return _rule_support(rules, edit_tokens(space, parent, arch))
    return 0.0, []


def _with_claims(heuristics: Sequence[HeuristicView], space: str) -> list[HeuristicView]:
    """Heuristics with their claim; one in words only (an LLM's, a legacy tagged rule)
    gets the claim its text makes, when it names an operation."""
    from agentnas.memory.claim import claim_for_text

    out = []
    for h in heuristics:
        if h.claim is None:
            claim = claim_for_text(space, h.text, h.polarity, "user")
            if claim is not None:
                h = h.model_copy(update={"claim": claim})
        out.append(h)
    return out


def _backing(
    space: Any, rules: list[tuple[HeuristicView, str]], words: list[tuple[HeuristicView, Any]],
    pattern: Any, ops_v: Sequence[str], origin: tuple[list[str], str], arch: str,
    objectives: Sequence[str],
) -> tuple[float, list[str]]:  # fmt: skip
    """Net support in [-1, 1] of every heuristic for one candidate (words, tagged rules
    and how typical it is of the front pattern), and the ids of those it follows."""
    parent = origin[0][0] if origin[0] else None
    support, used = _support(space, rules, words, parent, arch, objectives)
    if pattern is not None:
        typical = cu.pattern_support(pattern, sg.slot_ops(space, arch) or (), ops_v)
        support = max(-1.0, min(1.0, support + typical))
    return support, used


def _claims_apply(space: Any, arch: str) -> bool:
    """Claims name an op in a slot of the space's vocabulary: they apply to spaces of one
    op per slot (:class:`~agentnas.tools.spaces.base.SlotSpace`) that name their slots."""
    return sg.slot_ops(space, arch) is not None and bool(space.vocabulary().slots)


PATTERN_SAMPLES = 150  # candidates drawn from the front pattern per Designer call


def _pattern(space: Any, views: Sequence[HeuristicView], ctx: DesignerContext, arch: str) -> Any:
    """The front pattern of this partition from the claims, or None."""
    if not _claims_apply(space, arch):
        return None
    return cu.front_pattern(views, ctx.partition.id, space.vocabulary(), ctx.dataset)


def _priors(
    views: Sequence[HeuristicView], objectives: Sequence[str], ctx: DesignerContext, space: Any
) -> dict[str, Any]:
    """Objective -> per (slot, op) prior values from the measured claims."""
    vocab = space.vocabulary()
    out = {}
    for o in objectives:
        got = cu.op_priors(views, o, vocab, ctx.dataset)
        if got is not None:
            out[o] = got
    return out


def _inside(space: Any, ctx: DesignerContext, arch: str) -> bool:
    return ctx.partition.contains(space.features(arch), ctx.plan)


# the members of a partition of an enumerable space, by (space, partition, plan): the same
# few partitions are asked for every round, and a pass over the space costs seconds
_MEMBERS: dict[tuple[str, str, str], list[str]] = {}


def _members(space: Any, ctx: DesignerContext) -> list[str]:
    plan = ";".join(p.model_dump_json() for p in ctx.plan)
    key = (type(space).__qualname__ + ":" + ctx.space, ctx.partition.model_dump_json(), plan)
    members = _MEMBERS.get(key)
    if members is None:  # Designers run in threads: work on a local, store it once made
        members = [a for a in space.enumerate() if _inside(space, ctx, a)]
        if len(_MEMBERS) > 64:
            _MEMBERS.clear()
        _MEMBERS[key] = members
    return members


def _sample_inside(space: Any, ctx: DesignerContext, rng: random.Random, n: int) -> list[str]:
    if isinstance(space, EnumerableSpace):
        pool = _members(space, ctx)
        return rng.sample(pool, min(n, len(pool)))
    out: list[str] = []
    for _ in range(50 * n):
        a = space.sample(rng, 1)[0]
        if _inside(space, ctx, a):
            out.append(a)
            if len(out) >= n:
                break
    return out


def _points(items: Sequence[ScoredArch], objectives: Sequence[str]) -> np.ndarray:
    return sg.to_min(np.array([[s.metrics[o] for o in objectives] for s in items]), objectives)


Pools = dict[str, tuple[list[str], str]]  # candidate arch -> (parents, how it was made)


def _candidate_pools(
    space: Any,
    ctx: DesignerContext,
    rng: random.Random,
    data: list[ScoredArch],
    in_part: list[ScoredArch],
    parents: list[ScoredArch],
    ok: Any,
    pattern: Any,
    ops_v: Sequence[str],
) -> tuple[Pools, Pools, Pools]:
    """Mutation, crossover, front-pattern and (when those are few) random-seed
    candidates, drawn in a fixed order from ``rng`` so a run is reproducible."""
    objs = ctx.objective_metrics
    mutation: Pools = {}
    crossover: Pools = {}
    if in_part:
        pts = _points(in_part, objs)
        front = [in_part[i] for i in np.flatnonzero(sg.nondominated(pts))]
        # migration: the global front's members (any partition) are bases too, since their
        # one-edit neighbours that cross into this partition are often its best cells
        # (see the module docstring)
        g_all = [data[i] for i in np.flatnonzero(sg.nondominated(_points(data, objs)))]
        base = sorted(
            {s.arch: s for s in [*front, *parents, *g_all]}.values(), key=lambda s: s.arch
        )
        for s in base:
            for nb in space.neighbours(s.arch):
                if ok(nb):
                    mutation.setdefault(nb, ([s.arch], "one-edit neighbour"))
            for _ in range(6):
                child = space.mutate(s.arch, rng, k=2)
                if ok(child):
                    mutation.setdefault(child, ([s.arch], "two-edit mutation"))
        pairs = [(a, b) for i, a in enumerate(base) for b in base[i + 1 :]]
        rng.shuffle(pairs)
        for a, b in pairs[:40]:
            for _ in range(4):
                child = space.crossover(a.arch, b.arch, rng)
                if ok(child):
                    crossover.setdefault(child, ([a.arch, b.arch], "crossover"))
    seeds = _seed_pool(space, ctx, rng, ok, pattern, ops_v, mutation, crossover)
    return mutation, crossover, seeds


def _seed_pool(
    space: Any, ctx: DesignerContext, rng: random.Random, ok: Any, pattern: Any,
    ops_v: Sequence[str], mutation: Pools, crossover: Pools,
) -> Pools:  # fmt: skip
    """Cells drawn from the front-pattern claims, and random cells of the partition when
    the edits found few candidates."""
    seeds: Pools = {}
    if pattern is not None:  # cells typical of this partition's front elsewhere
        for ops in cu.sample_pattern(pattern, ops_v, rng, PATTERN_SAMPLES):
            a = space.from_slot_ops(ops)
            if ok(a) and a not in mutation and a not in crossover:
                seeds.setdefault(a, ([], "sampled from the front-pattern claims"))
    if len(mutation) + len(crossover) < 4 * ctx.n_children:
        for a in _sample_inside(space, ctx, rng, 300):
            if ok(a):
                seeds.setdefault(a, ([], "random seed inside the partition"))
    return seeds


class _Ranking:
    """Candidates placed in the objective space normalised by the evaluated cells' range,
    with the global and the partition's fronts to measure hypervolume gains against."""

    def __init__(
        self, pred_min: np.ndarray, data: list[ScoredArch], in_part: list[ScoredArch], objs: Any,
        ok_data: list[ScoredArch], ok_part: list[ScoredArch],
    ) -> None:  # fmt: skip
        # normalise by the evaluated cells' range (predictions when nothing is known yet)
        ref_pts = _points(data, objs) if data else pred_min
        lo, hi = ref_pts.min(axis=0), ref_pts.max(axis=0)
        span = np.where(hi - lo > 1e-12, hi - lo, 1.0)
        self.norm = (pred_min - lo) / span
        self.ref = np.full(len(objs), 1.1)
        empty = np.empty((0, len(objs)))
        # the fronts grown are those of the cells that keep the user's constraints
        ok_pts = ((_points(ok_data, objs) - lo) / span) if ok_data else empty
        self.g_front = ok_pts[sg.nondominated(ok_pts)] if len(ok_pts) else empty
        p_pts = ((_points(ok_part, objs) - lo) / span) if ok_part else empty
        self.p_front = p_pts[sg.nondominated(p_pts)] if len(p_pts) else p_pts

    def baseline(self) -> tuple[float, float]:
        return sg.hypervolume(self.g_front, self.ref), sg.hypervolume(self.p_front, self.ref)

    def score(self, i: int, hv0: tuple[float, float]) -> tuple[float, float]:
        """(hypervolume gain, or 0 and minus the dominance gap when there is none)."""
        pt, g, pf = self.norm[i], self.g_front, self.p_front
        g_hv = sg.hypervolume(np.vstack([g, pt]), self.ref) - hv0[0] if len(g) else 1.0
        p_hv = sg.hypervolume(np.vstack([pf, pt]), self.ref) - hv0[1] if len(pf) else 1.0
        gain = g_hv + 0.05 * p_hv
        if gain <= 1e-12:
            return 0.0, -sg.dominance_gap(pt, pf if len(pf) else g)
        return gain, 0.0

    def believe(self, i: int) -> None:
        """Take the prediction of a chosen candidate as measured, for the next pick."""
        self.g_front = np.vstack([self.g_front, self.norm[i]])
        self.p_front = np.vstack([self.p_front, self.norm[i]])


def rule_judge(
    ctx: DesignerContext, space: Any, data: Sequence[ScoredArch], lookup: Lookup | None,
    seed: int = 0,
) -> RuleJudge:  # fmt: skip
    """The judge of the user's hard rules for this Designer: metrics ``lookup`` knows
    (the backend's cheap table) are checked as known; the others are predicted by the
    additive model fitted on the evaluated cells that carry them."""
    metrics = sorted({c.metric for c in ctx.constraints})

    def predict(archs: Sequence[str]) -> list[dict[str, float]]:
        out: list[dict[str, float]] = [{} for _ in archs]
        for m in metrics:
            fit = [s for s in data if m in s.metrics]
            if not fit:
                continue
            pred, _ = sg.predict_objectives(space, fit, list(archs), [m], seed=seed)
            for row, v in zip(out, pred[:, 0], strict=True):
                row[m] = float(v)
        return out

    return RuleJudge(space, ctx.constraints, ctx.rules, lookup=lookup, predict=predict)


def _feasible(items: Sequence[ScoredArch], ctx: DesignerContext) -> list[ScoredArch]:
    """Evaluated cells that satisfy the user's constraints (all of them without any)."""
    return [s for s in items if not violated(s.metrics, ctx.constraints)]


def _keep_rules(
    ctx: DesignerContext, space: Any, rng: random.Random, data: list[ScoredArch],
    lookup: Lookup | None, pools: tuple[Any, Any, Any], ok: Any,
) -> dict[str, str]:  # fmt: skip
    """Drop from ``pools`` (in place) every candidate known or predicted to break the
    user's rules; when they empty the neighbourhood, look for keepers anywhere in the
    partition. Returns the refused candidates (and the cost floor, when refused)."""
    judge = rule_judge(ctx, space, data, lookup, seed=ctx.seed)
    if not judge:
        return {}
    mutation, crossover, seeds = pools
    floor = space.cost_floor()
    every = sorted({*mutation, *crossover, *seeds})
    refused = judge.refusals([*every, floor] if floor is not None else every)
    for pool in pools:
        for a in [a for a in pool if a in refused]:
            del pool[a]
    if len(mutation) + len(crossover) + len(seeds) < 4 * ctx.n_children:
        extra = [a for a in _sample_inside(space, ctx, rng, 300) if ok(a) and a not in refused]
        more = judge.refusals(extra)
        refused.update(more)
        for a in extra:
            if a not in more:
                seeds.setdefault(a, ([], "random seed inside the partition (user rules)"))
    return refused


def _cost_floor_probe(
    space: Any, ctx: DesignerContext, taken: set[str], data: list[ScoredArch]
) -> Proposal | None:
    """The space's cost floor (NB201: the all-none cell, ≈0 ms on pixel3/raspi4, on their
    exact fronts), probed once if this partition holds it and no degenerate cell is known."""
    floor = space.cost_floor()
    if (
        floor is not None and floor not in taken
        and _inside(space, ctx, floor) and not any(space.is_degenerate(s.arch) for s in data)
        and ctx.n_children >= 2
    ):  # fmt: skip
        return Proposal(
            arch=floor, operator="seed", parents=[],
            rationale="cost-floor probe: the all-none cell bounds the front's lowest cost",
        )  # fmt: skip
    return None


def design_offline(
    ctx: DesignerContext, space: Any, lookup: Lookup | None = None
) -> tuple[list[Proposal], dict[str, Any]]:
    """Children for one partition and round, plus a summary of the decision for the trace.

    Under the user's hard rules (``ctx.constraints``, ``ctx.rules``) candidates known or
    predicted to break one are dropped before ranking, and the fronts the ranking grows
    are those of the cells that satisfy the constraints, so the search improves the
    constrained front."""
    rng = stable_rng("design", ctx.seed, ctx.round, ctx.partition.id)
    objs = ctx.objective_metrics
    seen: dict[str, ScoredArch] = {}
    for s in [*ctx.history, *ctx.parents]:
        if all(o in s.metrics for o in objs):
            seen.setdefault(s.arch, s)
    data = sorted(seen.values(), key=lambda s: s.arch)  # input order must not matter
    taken = set(ctx.evaluated) | set(seen)
    taken_canon = {space.canonical(a) for a in taken} if ctx.dedupe_isomorphic else None
    in_part = [s for s in data if _inside(space, ctx, s.arch)]
    parents = [s for s in ctx.parents if s.arch in seen and _inside(space, ctx, s.arch)]

    def ok(a: str) -> bool:
        if a in taken or not _inside(space, ctx, a) or space.is_degenerate(a):
            return False
        return taken_canon is None or space.canonical(a) not in taken_canon

    views = _with_claims(ctx.heuristics, ctx.space)
    any_arch = next(iter(sorted(taken)), None)
    pattern = _pattern(space, views, ctx, any_arch) if any_arch is not None else None
    ops_v = space.vocabulary().operations if pattern is not None else ()
    mutation, crossover, seeds = _candidate_pools(
        space, ctx, rng, data, in_part, parents, ok, pattern, ops_v
    )
    refused = _keep_rules(ctx, space, rng, data, lookup, (mutation, crossover, seeds), ok)
    # what the instant hardware lookup knows: designs it refuses (past a simulator's
    # physical limits) go, the costs it gives are exact
    known, unbuildable = lc.look_up(lookup, sorted({*mutation, *crossover, *seeds}), objs)
    for pool in (mutation, crossover, seeds):
        for a in unbuildable & pool.keys():
            del pool[a]
    # --- the op-effect model, fitted on every evaluated cell we were shown
    cands = sorted({*mutation, *crossover, *seeds})
    if not cands:
        why = f" ({len(refused)} refused by the user's rules)" if refused else ""
        content = f"no legal, novel candidate inside the partition{why}"
        return [], {"content": content, "candidates": 0, "refused": len(refused)}
    claims = _claims_apply(space, cands[0])
    priors = _priors(views, objs, ctx, space) if claims else None
    pred, std = sg.predict_objectives(
        space, data, cands, objs, seed=rng.randrange(2**32), priors=priors, extra=ctx.reused
    )
    pred, std = lc.with_known(pred, std, cands, known, objs)
    # optimism in the face of uncertainty: judge each candidate by its bootstrap upper
    # bound (KAPPA spreads), so cells unlike anything evaluated still get tried
    ranking = _Ranking(
        sg.to_min(pred, objs) - sg.KAPPA * std, data, in_part, objs,
        _feasible(data, ctx), _feasible(in_part, ctx),
    )  # fmt: skip
    rules = [] if claims else [
        (h, r[1]) for h in ctx.heuristics
        if (r := parse_rule(h)) is not None and r[0] in (None, ctx.partition.id)
    ]  # fmt: skip
    words = cu.word_claims(views, ctx.partition.id) if claims else []
    index = {a: i for i, a in enumerate(cands)}
    probe = _cost_floor_probe(space, ctx, taken | set(refused), data)
    chosen: list[Proposal] = [probe] if probe is not None else []
    notes = ["probe: cost-floor cell"] if probe is not None else []

    # one ranking over every pool; the operator recorded is the candidate's origin (a
    # one-edit neighbour counts as a mutation)
    origin = {**seeds, **crossover, **mutation}
    ops_of = {a: "mutation" for a in mutation}
    ops_of.update({a: "crossover" for a in crossover if a not in mutation})
    ops_of.update({a: "seed" for a in seeds if a not in mutation and a not in crossover})
    # what the heuristics say of a candidate does not change while children are picked
    backing = {a: _backing(space, rules, words, pattern, ops_v, origin[a], a, objs) for a in origin}
    used_c: set[str] = set()
    while len(chosen) < ctx.n_children:
        ranked = []
        hv0 = ranking.baseline()
        for a in sorted(origin):
            if a in used_c:
                continue
            gain, gap = ranking.score(index[a], hv0)
            support, used = backing[a]
            gain *= max(WORDS_FLOOR, 1.0 + WORDS_WEIGHT * support)
            ranked.append(((gain, gap + 0.1 * support, rng.random()), a, used))
        if not ranked:
            break
        (gain, _, _), arch, used = max(ranked)
        used_c.add(arch)
        ranking.believe(index[arch])
        chosen.append(
            _proposal(
                space, arch, ops_of[arch], origin[arch], used, gain, pred[index[arch]], ctx,
                len(data),
            )
        )  # fmt: skip
    summary = {
        "content": (
            f"offline policy: {len(mutation)} mutation, {len(crossover)} crossover, "
            f"{len(seeds)} seed candidates"
            + (f" ({len(refused)} refused by the user's rules)" if refused else "")
            + f"; {len(parents)} parents, {len(in_part)} evaluated "
            f"cells in partition {ctx.partition.id}; chose {len(chosen)} by predicted "
            "hypervolume gain" + (f"; {'; '.join(notes)}" if notes else "")
        ),
        "tool_calls": [],
    }
    return chosen, summary


def _proposal(
    space: Any, arch: str, op: str, origin: tuple[list[str], str], used: list[str],
    gain: float, predicted: np.ndarray, ctx: DesignerContext, n_fit: int,
) -> Proposal:  # fmt: skip
    """A chosen candidate with its rationale: how it was made, the edits, the prediction."""
    parents_of, how = origin
    guess = ", ".join(f"{o}≈{predicted[j]:.4g}" for j, o in enumerate(ctx.objective_metrics))
    edits = ", ".join(edit_tokens(space, parents_of[0], arch)) if parents_of else ""
    return Proposal(
        arch=arch, operator=op, parents=list(parents_of), heuristics_used=used,
        rationale=f"{how}{' (' + edits + ')' if edits else ''}; predicted {guess}; "
        f"expected hypervolume gain {gain:.4f} (op-effect model on {n_fit} cells)",
    )  # fmt: skip


def fallback_children(
    ctx: DesignerContext, space: Any, have: Sequence[Proposal], n: int,
    lookup: Lookup | None = None,
) -> list[Proposal]:  # fmt: skip
    """``n`` more children from the offline operator, novel w.r.t. ``have`` too; their
    operator is prefixed ``fallback-`` so the trace shows who designed them."""
    sub = ctx.model_copy(
        update={"n_children": n, "evaluated": [*ctx.evaluated, *(p.arch for p in have)]}
    )
    children, _ = design_offline(sub, space, lookup)
    return [c.model_copy(update={"operator": f"fallback-{c.operator}"}) for c in children]
