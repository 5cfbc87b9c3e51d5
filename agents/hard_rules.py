"""Hard rules the user sets while steering, and how every Designer is held to them.

Two kinds, both pure data that the graph keeps in its checkpointed state and hands to every
Designer (offline policy and LLM alike):

- :class:`Constraint` — a bound on one metric (``latency_ms < 3``, ``energy_mj <= 5``,
  ``accuracy >= 93``). A child whose metric is *known* (the backend's cheap hardware
  lookup, the same one the LLM Designer may call as a tool) or *predicted* (the offline
  policy's additive model, :mod:`agentnas.agents.surrogate`; latency is nearly additive in
  the ops, see ``shared/docs/facts.md``) to break it is not proposed. Evaluated cells that
  break it stay in ``candidates.csv`` with status ``constraint`` and leave the reported
  front.
- :class:`OpRule` — ``avoid`` an operation (optionally on some edges: "near the output"
  = the edges into the output node, ``3<-0``, ``3<-1``, ``3<-2`` on NB201) or ``prefer``
  it (every child carries it on at least one of those edges).

:class:`RuleJudge` is the one place that says why a child is refused; the offline policy
filters its candidate pools with it and :func:`agentnas.agents.validation.validate_children`
sends its reasons back to an LLM Designer verbatim.
"""

from __future__ import annotations

import operator as _op
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

Comparison = Literal["<", "<=", ">", ">="]
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": _op.lt,
    "<=": _op.le,
    ">": _op.gt,
    ">=": _op.ge,
}
UNITS = {"latency_ms": "ms", "energy_mj": "mJ", "accuracy": "%", "params_m": "M", "flops_m": "M"}


class Constraint(BaseModel):
    """``metric op value`` in the metric's own unit (``latency_ms`` in ms, …)."""

    metric: str = Field(min_length=1)
    op: Comparison
    value: float

    def holds(self, metrics: Mapping[str, float]) -> bool | None:
        """True/False when ``metrics`` carry the metric, None when they do not."""
        v = metrics.get(self.metric)
        return None if v is None else _COMPARE[self.op](float(v), self.value)

    @property
    def upper(self) -> bool:
        """Whether it bounds the metric from above (``<``, ``<=``)."""
        return self.op in ("<", "<=")

    def text(self) -> str:
        unit = UNITS.get(self.metric, "")
        return f"{self.metric} {self.op} {self.value:g}" + (f" {unit}" if unit else "")


class OpRule(BaseModel):
    """``avoid`` or ``prefer`` an operation, on ``edges`` (labels such as ``3<-2``; empty
    = every edge)."""

    kind: Literal["avoid", "prefer"]
    op: str = Field(min_length=1)
    edges: list[str] = Field(default_factory=list)

    def text(self) -> str:
        noun = "edges" if any("<-" in e for e in self.edges) else "slots"
        where = f" on {noun} {', '.join(self.edges)}" if self.edges else ""
        return f"{self.kind} {self.op}{where}"


def violated(metrics: Mapping[str, float], constraints: Sequence[Constraint]) -> list[Constraint]:
    """The constraints that ``metrics`` break (a missing metric breaks nothing)."""
    return [c for c in constraints if c.holds(metrics) is False]


def status_of(metrics: Mapping[str, float], constraints: Sequence[Constraint]) -> str:
    """``candidates.csv`` status of an evaluated cell: ``ok`` or ``constraint``."""
    return "constraint" if violated(metrics, constraints) else "ok"


def op_at_edges(space: Any, arch: str | None) -> dict[str, str] | None:
    """Slot label -> choice of one architecture, or None for spaces without named slots
    (``arch=None``: {} when the space has them, None when not): what a
    :class:`~agentnas.tools.spaces.base.SlotView` reports, keyed by its vocabulary's slots."""
    slot_ops = getattr(space, "slot_ops", None)  # SlotView, without a per-call protocol check
    if not callable(slot_ops):
        return None
    if arch is None:
        return {}
    return dict(zip(space.vocabulary().slots, slot_ops(arch), strict=True))


def vocabulary(space: Any) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(operations, edge labels, output edges) a rule may name in ``space``, from the
    space's :class:`~agentnas.tools.spaces.base.Vocabulary` (its slots and its "near the
    output" position); empty tuples for spaces without per-edge operations."""
    if op_at_edges(space, None) is None:  # rules could not be checked: none may be set
        return (), (), ()
    vocab_of = getattr(space, "vocabulary", None)
    if callable(vocab_of):
        vocab = vocab_of()
        if vocab.slots:
            out = vocab.slots_at("near the output") or (vocab.slots[-1],)
            return tuple(vocab.operations), tuple(vocab.slots), tuple(out)
    return (), (), ()


def input_slots(space: Any) -> tuple[str, ...]:
    """The slots "near the input" means in ``space`` (NB201: the edges out of node 0);
    empty where the space names no such position."""
    if not vocabulary(space)[1]:
        return ()
    vocab_of = getattr(space, "vocabulary", None)
    if callable(vocab_of):
        found = vocab_of().slots_at("near the input")
        if found:
            return tuple(found)
    return tuple(e for e in vocabulary(space)[1] if e.endswith("<-0"))


def rule_violation(space: Any, arch: str, rules: Sequence[OpRule]) -> str | None:
    """Why ``arch`` breaks one of ``rules`` (None when it keeps them all)."""
    if not rules:
        return None
    ops = op_at_edges(space, arch)
    if ops is None:
        return None
    for r in rules:
        edges = r.edges or list(ops)
        hits = [e for e in edges if ops.get(e) == r.op]
        if r.kind == "avoid" and hits:
            return f"breaks the user's rule '{r.text()}': {r.op} on edge {hits[0]}"
        if r.kind == "prefer" and not hits:
            return f"breaks the user's rule '{r.text()}': no {r.op} on {', '.join(edges)}"
    return None


class RuleJudge:
    """Says why a proposed child may not be evaluated under the user's hard rules.

    ``lookup`` gives metrics that are cheap to know before evaluating (the hardware
    backend's table); ``predict`` (arch list -> metric dicts) is the fallback for metrics
    the lookup does not give. A metric neither gives is not judged."""

    def __init__(
        self,
        space: Any,
        constraints: Sequence[Constraint] = (),
        rules: Sequence[OpRule] = (),
        lookup: Callable[[str], Mapping[str, float]] | None = None,
        predict: Callable[[Sequence[str]], Sequence[Mapping[str, float]]] | None = None,
    ) -> None:
        self.space = space
        self.constraints = list(constraints)
        self.rules = list(rules)
        self.lookup = lookup
        self.predict = predict

    def __bool__(self) -> bool:
        return bool(self.constraints or self.rules)

    def _known(self, arch: str) -> dict[str, float]:
        if self.lookup is None or not self.constraints:
            return {}
        try:
            return {k: float(v) for k, v in self.lookup(arch).items()}
        except Exception:  # a lookup that cannot answer leaves the judgement to the model
            return {}

    def refusals(self, archs: Sequence[str]) -> dict[str, str]:
        """arch -> reason, for the ``archs`` that break a rule or a constraint."""
        out: dict[str, str] = {}
        for a in archs:
            why = rule_violation(self.space, a, self.rules)
            if why:
                out[a] = why
        rest = [a for a in archs if a not in out]
        if not self.constraints or not rest:
            return out
        known = {a: self._known(a) for a in rest}
        unknown = [a for a in rest if any(c.metric not in known[a] for c in self.constraints)]
        guessed = dict(zip(unknown, self.predict(unknown), strict=True)) if (
            self.predict and unknown) else {}  # fmt: skip
        for a in rest:
            for c in self.constraints:
                if c.metric in known[a]:
                    value, how = known[a][c.metric], "known"
                elif c.metric in guessed.get(a, {}):
                    value, how = guessed[a][c.metric], "predicted"
                else:
                    continue
                if not _COMPARE[c.op](float(value), c.value):
                    out[a] = f"breaks the constraint {c.text()}: {how} {c.metric}={value:.4g}"
                    break
        return out

    def why(self, arch: str) -> str | None:
        return self.refusals([arch]).get(arch)
