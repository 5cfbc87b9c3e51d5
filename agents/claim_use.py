"""How the offline Designer acts on the knowledge base's claims (pure).

Two uses, so that no evidence counts twice:

- **measured claims** (``effect`` set: "nor_conv_3x3 instead of skip_connect on edge 1<-0
  raised accuracy by +0.8, mean of 14 edits") become prior means of the surrogate's
  op-per-slot weights (:func:`op_priors`): the ridge shrinks towards what earlier rounds,
  runs and devices measured instead of towards zero, with a strength that grows with the
  claim's evidence. With little data in this run the prior speaks; with much, the data.
- **claims in words** (no effect: a user's "avoid avg_pool_3x3 on the edges into the
  output node", a legacy tagged rule) nudge the ranking of candidates that follow or break
  them (:func:`word_support`), weighted by their Laplace confidence.

Claims speak the space's vocabulary (:class:`~agentnas.tools.spaces.base.Vocabulary`):
an operation of ``operations`` on one of ``slots`` (NB201: an op on a cell edge), so they act
on spaces of one operation per slot (:class:`~agentnas.tools.spaces.base.SlotSpace`).
Claims from another dataset count half; latency claims only reach this module when they
were learnt on this device (the graph filters them, :func:`agentnas.graph.knowledge.transfers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agentnas.agents.schemas import HeuristicView
from agentnas.memory.claim import Claim
from agentnas.tools.objectives import is_maximized
from agentnas.tools.spaces.base import Vocabulary

OTHER_DATASET_WEIGHT = 0.5
PRIOR_RIDGE = 0.5  # shrinks the per-slot op values of :func:`op_priors` towards zero
EVIDENCE_CAP = 60  # evidence beyond this adds no more prior strength to one column


def _weight(h: HeuristicView, dataset: str) -> float:
    c = h.claim
    if c is None or c.evidence <= 0:
        return 0.0
    same = not dataset or not c.datasets or dataset in c.datasets
    return float(c.evidence) * (1.0 if same else OTHER_DATASET_WEIGHT)


def op_priors(
    heuristics: Sequence[HeuristicView], metric: str, vocab: Vocabulary, dataset: str = ""
) -> tuple[np.ndarray, np.ndarray] | None:
    """Per (slot, op) prior value of ``metric`` (in its own unit, centred per slot) and its
    evidence, from the measured claims about ``metric``; None when there are none.

    Each claim "A instead of B on slot e: effect d, n edits" is the equation
    ``v[e,A] - v[e,B] = d`` with weight n; a small ridge fixes each slot's free offset."""
    ops, slots = vocab.operations, vocab.slots
    n_e, n_o = len(slots), len(ops)
    rows: list[np.ndarray] = []
    rhs: list[float] = []
    wts: list[float] = []
    evidence = np.zeros((n_e, n_o))
    for h in heuristics:
        c = h.claim
        w = _weight(h, dataset)
        if c is None or c.effect is None or w <= 0 or not c.applies_to(metric):
            continue
        if c.instead_of is None or c.op not in ops or c.instead_of not in ops:
            continue
        for edge in c.edges or slots:
            if edge not in slots:
                continue
            e = slots.index(edge)
            row = np.zeros(n_e * n_o)
            row[e * n_o + ops.index(c.op)] += 1.0
            row[e * n_o + ops.index(c.instead_of)] -= 1.0
            rows.append(row)
            rhs.append(abs(c.effect) * (1.0 if c.direction == "up" else -1.0))
            wts.append(w)
            evidence[e, ops.index(c.op)] += w
            evidence[e, ops.index(c.instead_of)] += w
    if not rows:
        return None
    a, b, w = np.array(rows), np.array(rhs), np.sqrt(np.array(wts))
    lhs = (a * w[:, None] ** 2).T @ a + PRIOR_RIDGE * np.eye(a.shape[1])
    v = np.linalg.solve(lhs, (a * w[:, None] ** 2).T @ b).reshape(n_e, n_o)
    v -= v.mean(axis=1, keepdims=True)
    return v, np.minimum(evidence, EVIDENCE_CAP)


def word_claims(
    heuristics: Sequence[HeuristicView], partition: int
) -> list[tuple[HeuristicView, Claim]]:
    """Claims without a measured effect that apply to ``partition``."""
    return [
        (h, h.claim)
        for h in heuristics
        if h.claim is not None
        and h.claim.effect is None
        and (h.partition is None or h.partition == partition)
    ]


def _follows(
    claim: Claim, parent: Sequence[str] | None, child: Sequence[str], slots: Sequence[str]
) -> bool:
    """Whether ``child`` carries the claim's op in one of its slots (replacing
    ``instead_of`` of the parent, for a swap claim)."""
    for e in claim.edges or slots:
        if e not in slots:
            continue
        i = slots.index(e)
        if child[i] != claim.op:
            continue
        if claim.instead_of is None or (parent is not None and parent[i] == claim.instead_of):
            return True
    return False


def word_support(
    claims: Sequence[tuple[HeuristicView, Claim]],
    parent: Sequence[str] | None,
    child: Sequence[str],
    objectives: Sequence[str],
    slots: Sequence[str],
) -> tuple[float, list[str]]:
    """Net support in [-1, 1] of the claims ``child`` follows (+confidence for a claim
    whose following is recommended, −confidence otherwise) and the recommended ones' ids;
    ``parent`` and ``child`` are ops in ``slots`` order."""
    score, used = 0.0, []
    for h, c in claims:
        if not _follows(c, parent, child, slots):
            continue
        metric = next((m for m in objectives if c.applies_to(m)), None)
        good = c.good(is_maximized(metric) if metric else True)
        weight = (h.evidence_for + 1) / (h.evidence_for + h.evidence_against + 2)
        score += weight if good else -weight
        if good:
            used.append(h.id)
    return max(-1.0, min(1.0, score)), used


PATTERN_SMOOTHING = 2.0  # pseudo-cells spread evenly over the ops of every slot


def front_pattern(
    heuristics: Sequence[HeuristicView], partition: int, vocab: Vocabulary, dataset: str = ""
) -> tuple[np.ndarray, float] | None:
    """Per (slot, op) probability that a front cell of ``partition`` carries the op there,
    from the front-pattern claims (smoothed towards uniform), and the evidence behind it
    (front cells seen, all sources); None without such claims."""
    ops, slots = vocab.operations, vocab.slots
    counts = np.zeros((len(slots), len(ops)))
    seen = np.zeros(len(slots))
    for h in heuristics:
        c = h.claim
        if c is None or c.objective != "front" or h.partition != partition or c.effect is None:
            continue
        if c.op not in ops or not c.edges or c.edges[0] not in slots:
            continue
        e = slots.index(c.edges[0])
        w = _weight(h, dataset)
        counts[e, ops.index(c.op)] += c.effect * w
        seen[e] = max(seen[e], w)
    if not seen.any():
        return None
    probs = (counts + PATTERN_SMOOTHING / len(ops)) / (
        counts.sum(axis=1, keepdims=True) + PATTERN_SMOOTHING
    )
    return probs, float(seen.mean())


def pattern_support(
    pattern: tuple[np.ndarray, float], cell: Sequence[str], ops: Sequence[str]
) -> float:
    """How typical ``cell`` is of the front pattern, in [-1, 1]: the mean probability of
    its ops, against uniform (1/len(ops)), scaled by how much evidence the pattern has."""
    probs, evidence = pattern
    mean = float(np.mean([probs[e, ops.index(op)] for e, op in enumerate(cell)]))
    base = 1.0 / len(ops)
    trust = evidence / (evidence + PATTERN_SMOOTHING * 5)
    return max(-1.0, min(1.0, (mean - base) / (1.0 - base) * 2.0 * trust))


def sample_pattern(
    pattern: tuple[np.ndarray, float], ops: Sequence[str], rng: Any, n: int
) -> list[tuple[str, ...]]:
    """``n`` cells (ops in slot order) drawn slot by slot from the front pattern's
    probabilities."""
    probs, _ = pattern
    n_edges = probs.shape[0]
    # the draws in the order of a cell-by-cell, slot-by-slot loop, then one search per slot
    u = np.array([rng.random() for _ in range(n * n_edges)]).reshape(n, n_edges)
    picks = np.empty((n, n_edges), dtype=int)
    for e in range(n_edges):
        p = probs[e]
        picks[:, e] = np.minimum(np.searchsorted(np.cumsum(p), u[:, e] * p.sum()), len(p) - 1)
    return [tuple(ops[i] for i in row) for row in picks.tolist()]
