"""The structured claim behind a heuristic: what the search can act on, next to the words.

A heuristic's text is for people and LLMs; its :class:`Claim` is for the offline Designer
and for merging: *which* operation on *which* edges (optionally: instead of which other
operation), *which* objective, *which* direction, how large the effect was measured, on
how many observations, on which devices and datasets, who said it, and whether it is
hardware-independent (accuracy structure is the same on every device, so accuracy claims
travel to new hardware; latency claims hold for the device they were measured on).

A claim speaks of operations, edges and patterns (``avg_pool_3x3`` on the edges into the
output node), never of single cells: per-cell metrics are evaluation reuse, not knowledge.

Pure: the model, its identity (:meth:`Claim.key`), words → claim (:func:`parse_claim`),
claim → words (:func:`describe`) and evidence pooling (:func:`pool`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Direction = Literal["up", "down"]
ClaimSource = Literal["reflector", "user", "imported"]
ANY_OBJECTIVE = "any"
"""A claim about overall merit (the user's "avoid X"): ``up`` = better, ``down`` = worse."""
FRONT = "front"
"""A pattern of Pareto-optimal cells: ``effect`` is the share of a partition's front
cells that carry ``op`` on the edge (``evidence`` = front cells seen). Within one
partition the front is mostly the accuracy ranking, the same on every device."""


class Claim(BaseModel):
    """``op`` placed on one of ``edges`` (every edge when empty), in place of
    ``instead_of`` when given, moves ``objective`` ``direction`` by ``effect`` (the mean
    change per edit, in the objective's own unit; ``None`` when nobody measured it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    op: str = Field(min_length=1)
    instead_of: str | None = None
    edges: tuple[str, ...] = ()
    objective: str = ANY_OBJECTIVE
    direction: Direction = "up"
    effect: float | None = None
    evidence: int = Field(default=0, ge=0, description="observations behind the effect")
    devices: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    source: ClaimSource = "user"
    hardware_independent: bool = False

    @field_validator("edges", "devices", "datasets")
    @classmethod
    def _sorted_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(value)))

    def key(self) -> str:
        """Identity for merging: two claims with the same key speak of the same thing
        (they may disagree on direction and effect: that is evidence, not a new claim)."""
        return f"{self.op}|{self.instead_of or ''}|{','.join(self.edges)}|{self.objective}"

    def good(self, maximized: bool) -> bool:
        """Whether following the claim (placing ``op``) is recommended."""
        if self.objective in (ANY_OBJECTIVE, FRONT) or maximized:
            return self.direction == "up"
        return self.direction == "down"

    def applies_to(self, metric: str) -> bool:
        """Whether the claim is about ``metric`` (``accuracy`` covers ``robust_accuracy``;
        ``latency`` covers ``latency_ms``)."""
        return self.objective not in (ANY_OBJECTIVE, FRONT) and (
            metric == self.objective or self.objective in metric
        )


def claim_id(space: str, hardware: str, partition: int | None, claim: Claim) -> str:
    """Deterministic heuristic id of a claim: the same claim learnt twice (two rounds, two
    runs) gets the same id and merges. Hardware-independent claims ignore the hardware, so
    one learnt on eyeriss and on fpga is one heuristic with both devices as evidence."""
    hw = "*" if claim.hardware_independent else hardware
    part = -1 if partition is None else partition
    digest = hashlib.sha1(f"claim\n{space}\n{hw}\n{part}\n{claim.key()}".encode()).hexdigest()
    return "c" + digest[:8]


def claim_to_json(claim: Claim) -> str:
    return json.dumps(claim.model_dump(mode="json"), sort_keys=True)


def claim_from_json(text: str) -> Claim:
    """Inverse of :func:`claim_to_json`; raises ``ValueError`` on anything else."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"claim is not JSON: {exc}") from None
    return Claim.model_validate(data)


# ------------------------------------------------------------------ evidence pooling


def pool(old: Claim, new: Claim) -> Claim:
    """One claim from two observations of the same key: evidence-weighted mean effect,
    direction from its sign (contradicting evidence revises the direction rather than
    adding a second, opposite claim), devices and datasets united."""
    if old.key() != new.key():
        raise ValueError(f"cannot pool claims with different keys: {old.key()} / {new.key()}")
    n = old.evidence + new.evidence
    if old.effect is None or new.effect is None:
        effect = old.effect if new.effect is None else new.effect
        direction = old.direction if new.effect is None else new.direction
    else:
        effect = (old.effect * old.evidence + new.effect * new.evidence) / max(n, 1)
        direction = old.direction if effect == 0 else ("up" if effect > 0 else "down")
    return old.model_copy(
        update={
            "effect": effect,
            "direction": direction,
            "evidence": n,
            "devices": tuple(sorted({*old.devices, *new.devices})),
            "datasets": tuple(sorted({*old.datasets, *new.datasets})),
            "hardware_independent": old.hardware_independent and new.hardware_independent,
        }
    )


# ------------------------------------------------------------------ claim -> words


def _fmt(value: float) -> str:
    return f"{value:+.3g}"


def describe(claim: Claim) -> str:
    """The claim in one sentence, with its evidence."""
    where = (
        f"on edge {claim.edges[0]}"
        if len(claim.edges) == 1
        else (f"on edges {', '.join(claim.edges)}" if claim.edges else "on any edge")
    )
    if claim.objective == FRONT:
        seen = ", ".join([*claim.devices, *claim.datasets]) or "no device yet"
        return (
            f"Pareto-optimal cells of this partition carry {claim.op} on edge "
            f"{', '.join(claim.edges)} ({claim.effect or 0:.0%} of {claim.evidence} front "
            f"cells; seen on {seen})"
        )
    what = f"{claim.op} instead of {claim.instead_of}" if claim.instead_of else claim.op
    verb = "raised" if claim.direction == "up" else "lowered"
    size = f" by {_fmt(claim.effect)}" if claim.effect is not None else ""
    seen = ", ".join([*claim.devices, *claim.datasets]) or "no device yet"
    return (
        f"{what} {where} {verb} {claim.objective}{size} "
        f"(mean of {claim.evidence} edits; seen on {seen})"
    )


# ------------------------------------------------------------------ words -> claim

_NEGATIVE = re.compile(
    r"\b(avoid|avoids|don'?t|do not|never|no more|hurts?|hurting|worse|bad|harms?|lowers?|"
    r"reduces?|drops?|loses?|decreases?|degrades?|penali[sz]e|against)\b"
)
_POSITIVE = re.compile(
    r"\b(prefer|use|add|put|place|helps?|better|good|raises?|improves?|increases?|boosts?|"
    r"favou?r|keep)\b"
)
_RULE_TAG = re.compile(r"\[rule p(?:\d+|\*): e(?P<edge>\d<-\d)=(?P<op>[\w]+)\]")
_EDGE = re.compile(r"\b(\d)\s*<-\s*(\d)\b")
_INSTEAD = re.compile(r"(?P<a>[\w]+)\s+(?:instead of|rather than|over)\s+(?P<b>[\w]+)")
_REPLACE = re.compile(r"replac\w*\s+(?P<b>[\w]+)\s+(?:with|by)\s+(?P<a>[\w]+)")

# how people name NB201's operations; the space's own names always work
OP_ALIASES = {
    "avg_pool": "avg_pool_3x3", "average pool": "avg_pool_3x3", "avgpool": "avg_pool_3x3",
    "pooling": "avg_pool_3x3", "conv3x3": "nor_conv_3x3", "3x3 conv": "nor_conv_3x3",
    "conv_3x3": "nor_conv_3x3", "conv1x1": "nor_conv_1x1", "1x1 conv": "nor_conv_1x1",
    "conv_1x1": "nor_conv_1x1", "skip": "skip_connect", "identity": "skip_connect",
    "residual": "skip_connect", "zero": "none",
}  # fmt: skip


def _normalise_ops(text: str, ops: Sequence[str]) -> str:
    """Aliases replaced by the space's op names (longest alias first)."""
    out = text
    for alias in sorted(OP_ALIASES, key=len, reverse=True):
        target = OP_ALIASES[alias]
        if target in ops:
            out = re.sub(rf"\b{re.escape(alias)}\b(?!_)", target, out)
    return out


def _ops_in(text: str, ops: Sequence[str]) -> list[str]:
    # "none" is an English word too: only as an op when it cannot be anything else
    found = [(m.start(), op) for op in ops for m in re.finditer(rf"\b{re.escape(op)}\b", text)]
    return [op for _, op in sorted(found) if op != "none" or "none op" in text]


def _edges_in(text: str, edges: Sequence[str]) -> tuple[str, ...]:
    explicit = [f"{a}<-{b}" for a, b in _EDGE.findall(text)]
    chosen = [e for e in explicit if e in edges]
    out_node = max(int(e.split("<-")[0]) for e in edges)
    if re.search(
        r"(into|to|entering|feeding|of) the output( node)?|output node'?s? (in|edge)", text
    ):
        chosen += [e for e in edges if int(e.split("<-")[0]) == out_node]
    if re.search(r"(from|out of|leaving) the input( node)?|input node'?s? (out|edge)", text):
        chosen += [e for e in edges if e.endswith("<-0")]
    for node in re.findall(r"into node (\d)", text):
        chosen += [e for e in edges if e.split("<-")[0] == node]
    return tuple(sorted(set(chosen)))


def _objective_in(text: str) -> str:
    for word, objective in (
        ("accura", "accuracy"), ("error", "accuracy"), ("latency", "latency"),
        ("faster", "latency"), ("slower", "latency"), ("energy", "energy"),
    ):  # fmt: skip
        if word in text:
            return objective
    return ANY_OBJECTIVE


def parse_claim(
    text: str,
    ops: Sequence[str],
    edges: Sequence[str],
    *,
    polarity: str = "positive",
    source: ClaimSource = "user",
) -> Claim | None:
    """The claim a sentence makes about ``ops`` on ``edges`` (labels like ``3<-0``), or
    None when it names no operation ("prefer deep cells" stays words only).

    Understands the offline Reflector's legacy tags (``[rule p1: e3<-0=skip_connect]``),
    "avoid/prefer OP on the edges into the output node / from the input node / on edge
    3<-1", "OP instead of OP2", "replace OP2 with OP", "OP hurts accuracy", "OP is
    slower". The direction comes from the words, else from ``polarity``."""
    low = _normalise_ops(text.lower(), ops)
    tag = _RULE_TAG.search(text)
    if tag and tag["op"] in ops and tag["edge"] in edges:
        down = polarity == "negative"
        return Claim(op=tag["op"], edges=(tag["edge"],), direction="down" if down else "up",
                     source=source)  # fmt: skip
    named = _ops_in(low, ops)
    if not named:
        return None
    op, instead = named[0], None
    swap = _INSTEAD.search(low) or _REPLACE.search(low)
    if swap and swap["a"] in ops and swap["b"] in ops and swap["a"] != swap["b"]:
        op, instead = swap["a"], swap["b"]
    objective = _objective_in(low)
    worded = _NEGATIVE.search(low) or _POSITIVE.search(low)
    negative = bool(_NEGATIVE.search(low)) if worded else polarity == "negative"
    if objective == "latency" and ("faster" in low or "slower" in low):
        up = "slower" in low
    elif objective in ("latency", "energy"):
        # "costs latency" / "raises latency" vs "cuts latency"; "avoid" says it costs
        up = negative or bool(re.search(r"\b(costs?|raises?|increases?|adds?)\b", low))
        up = up and not re.search(r"\b(cuts?|saves?|reduces?|lowers?)\b", low)
    else:
        up = not negative
    return Claim(
        op=op, instead_of=instead, edges=_edges_in(low, edges), objective=objective,
        direction="up" if up else "down", source=source,
        hardware_independent=objective == "accuracy",
    )  # fmt: skip


def space_vocabulary(space: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(ops, edge labels) of a cell space whose heuristics can carry claims, else None."""
    if space != "nb201":
        return None
    from agentnas.tools.spaces.nb201 import EDGES, OPS

    return OPS, tuple(f"{a}<-{b}" for a, b in EDGES)


def claim_for_text(space: str, text: str, polarity: str, source: ClaimSource) -> Claim | None:
    """:func:`parse_claim` with the vocabulary of ``space`` (None for other spaces)."""
    vocab = space_vocabulary(space)
    if vocab is None:
        return None
    return parse_claim(text, vocab[0], vocab[1], polarity=polarity, source=source)


def as_dict(claim: Claim | None) -> dict[str, Any] | None:
    return None if claim is None else claim.model_dump(mode="json")
