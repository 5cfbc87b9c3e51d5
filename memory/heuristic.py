"""A design heuristic: one natural-language rule with its scope and its evidence.

The Reflector writes heuristics after each round ("cells with at most one nor_conv_3x3
stay under 5 ms on fpga"), Designers read the ones whose scope matches their
(space, hardware, partition). Evidence counts say how often a round's children supported
or contradicted the rule; :func:`confidence` turns them into one number.

This module is pure: the model, its validation, and the mapping to and from Chroma
metadata (which only holds str/int/float/bool values, never ``None``).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agentnas.memory.claim import Claim, claim_from_json, claim_to_json, describe, pool
from agentnas.tools.objectives import is_maximized

Polarity = Literal["positive", "negative"]
Status = Literal["active", "retired"]

ALL_PARTITIONS = -1
"""How "applies to every partition" (``partition=None``) is stored in Chroma metadata."""

METADATA_KEYS = (
    "space",
    "hardware",
    "partition",
    "polarity",
    "evidence_for",
    "evidence_against",
    "created_round",
    "last_round",
    "status",
    "source",
)


class Scope(BaseModel):
    """Where a heuristic applies: one search space on one hardware backend, and either
    one partition (index >= 0) or all of them (``None``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    space: str = Field(min_length=1, description="search space name, e.g. 'nb201'")
    hardware: str = Field(min_length=1, description="backend name, e.g. 'hwnasbench:fpga'")
    partition: int | None = Field(default=None, ge=0, description="None = every partition")

    @field_validator("space", "hardware")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    def label(self) -> str:
        """Short human form, e.g. ``nb201 / hwnasbench:fpga / p2`` or ``… / all``."""
        part = "all" if self.partition is None else f"p{self.partition}"
        return f"{self.space} / {self.hardware} / {part}"


class Heuristic(BaseModel):
    """One design rule. ``polarity`` says whether following the text is recommended
    ("positive": do this) or warned against ("negative": avoid this)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    scope: Scope
    polarity: Polarity = "positive"
    evidence_for: int = Field(default=0, ge=0, description="rounds/children that supported it")
    evidence_against: int = Field(default=0, ge=0, description="ones that contradicted it")
    created_round: int = Field(default=0, ge=0)
    last_round: int = Field(default=0, ge=0, description="round it was last added/revised/retired")
    status: Status = "active"
    source: str = Field(default="user", description="who wrote it, e.g. 'reflector:openai:gpt-4.1'")
    # what the search can act on (memory.claim); None: words only (no operation named)
    claim: Claim | None = None

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value


def confidence(heuristic: Heuristic) -> float:
    """Laplace-smoothed share of supporting evidence, in (0, 1): 0.5 with no evidence,
    towards 1 as support accumulates, towards 0 as contradictions do."""
    support = heuristic.evidence_for
    total = heuristic.evidence_for + heuristic.evidence_against
    return (support + 1) / (total + 2)


def merge_into(
    old: Heuristic,
    evidence_for: int,
    evidence_against: int,
    claim: Claim | None,
    round_: int,
    status: Status = "active",
) -> Heuristic:
    """The one rule for learning a heuristic the KB already holds (the same claim from a
    Reflector, a twin text a user adds, another run's contribution to a shared KB):
    ``old`` gets ``status`` (active again, unless a run retired it), ``last_round`` =
    ``round_``, the new evidence added (counted against ``claim``'s direction when it has
    one; no count falls below 0); when both carry a claim about the same thing
    (:meth:`Claim.key`) the two are pooled, so contradicting evidence revises a measured
    claim's direction, polarity and wording instead of adding an opposite twin
    (:func:`revised_claim`)."""
    update: dict[str, Any] = {"last_round": round_, "status": status}
    if old.claim is None or claim is None or old.claim.key() != claim.key():
        update["evidence_for"] = max(0, old.evidence_for + evidence_for)
        update["evidence_against"] = max(0, old.evidence_against + evidence_against)
        return old.model_copy(update=update)
    agree = claim.direction == old.claim.direction
    f = evidence_for if agree else evidence_against
    a = evidence_against if agree else evidence_for
    return old.model_copy(update={**update, **revised_claim(old, pool(old.claim, claim), f, a)})


def revised_claim(
    old: Heuristic, pooled: Claim, more_for: int, more_against: int
) -> dict[str, Any]:
    """Fields of ``old`` after its claim became ``pooled`` with ``more_for`` /
    ``more_against`` observations (counted against the old direction). A measured claim
    whose mean effect changed sign swaps its counts, flips its polarity and is reworded;
    a claim in a user's words keeps its words and direction and only gains evidence."""
    f = max(0, old.evidence_for + more_for)
    a = max(0, old.evidence_against + more_against)
    assert old.claim is not None
    update: dict[str, Any] = {"claim": pooled, "evidence_for": f, "evidence_against": a}
    if pooled.effect is not None:
        if pooled.direction != old.claim.direction:
            update["evidence_for"], update["evidence_against"] = a, f
        good = pooled.good(is_maximized(pooled.objective))
        update["polarity"] = "positive" if good else "negative"
        if pooled.source != "user":
            update["text"] = describe(pooled)
    return update


def revised(
    old: Heuristic,
    *,
    text: str | None = None,
    evidence_for_delta: int = 0,
    evidence_against_delta: int = 0,
    round_: int | None = None,
    polarity: Polarity | None = None,
    claim: Claim | None = None,
    clamp: bool = False,
) -> Heuristic:
    """The one rule for editing a heuristic in place (a Reflector's or a user's revision,
    ``agentnas kb revise``): the given wording, polarity and claim replace the old, the
    evidence deltas are added, ``last_round`` becomes ``round_`` (kept when None). A count
    that would fall below zero is clamped at 0 (``clamp``: a Reflector's delta counts what
    it saw) or refused with ValueError (a user's edit). The result is validated."""
    f = old.evidence_for + evidence_for_delta
    a = old.evidence_against + evidence_against_delta
    if not clamp and (f < 0 or a < 0):
        raise ValueError(
            f"would leave negative evidence ({f} for, {a} against); counts must stay >= 0"
        )
    update: dict[str, Any] = {"evidence_for": max(0, f), "evidence_against": max(0, a)}
    given = {"last_round": round_, "text": text, "polarity": polarity, "claim": claim}
    update.update({k: v for k, v in given.items() if v is not None})
    return Heuristic.model_validate({**old.model_dump(), **update})


def retired(old: Heuristic, round_: int) -> Heuristic:
    """``old`` retired at ``round_`` (kept and exported, never retrieved): the one rule for
    a Reflector's, a steering command's and a user's ``kb retire``."""
    return old.model_copy(update={"status": "retired", "last_round": round_})


_TOKEN = re.compile(r"[\w.>-]+")


def technical_tokens(text: str) -> tuple[str, ...]:
    """The tokens of ``text`` that carry numbers or names (digits, ``_`` or ``->``), in
    order: ``("nor_conv_3x3", "1", "5")`` for "at most 1 nor_conv_3x3 under 5 ms".

    Sentence embeddings barely see numbers or word order (all-MiniLM-L6-v2 puts "replace
    nor_conv_3x3 with nor_conv_1x1" at cosine distance 0.001 from the reverse, and
    "at most 1" at 0.01 from "at most 2"), so two texts count as the same rule only when
    these tokens agree as well.
    """
    tokens = (t.strip(".-") for t in _TOKEN.findall(text.lower()))
    return tuple(t for t in tokens if t and (any(c.isdigit() for c in t) or "_" in t or "->" in t))


def heuristic_id(text: str, scope: Scope, polarity: Polarity) -> str:
    """Deterministic id (``h`` + 8 hex digits) from text, scope and polarity: the same
    rule learnt by two runs with the same seed gets the same id, which keeps traces of
    reproducible runs identical."""
    part = ALL_PARTITIONS if scope.partition is None else scope.partition
    key = f"{scope.space}\n{scope.hardware}\n{part}\n{polarity}\n{text.strip()}"
    return "h" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]


def to_metadata(heuristic: Heuristic) -> dict[str, str | int]:
    """Flatten to Chroma metadata (the text is stored as the document, the id as the id;
    the claim, when there is one, as JSON under ``claim``: Chroma holds no ``None``)."""
    partition = heuristic.scope.partition
    extra = {} if heuristic.claim is None else {"claim": claim_to_json(heuristic.claim)}
    return {
        **extra,
        "space": heuristic.scope.space,
        "hardware": heuristic.scope.hardware,
        "partition": ALL_PARTITIONS if partition is None else partition,
        "polarity": heuristic.polarity,
        "evidence_for": heuristic.evidence_for,
        "evidence_against": heuristic.evidence_against,
        "created_round": heuristic.created_round,
        "last_round": heuristic.last_round,
        "status": heuristic.status,
        "source": heuristic.source,
    }


def from_metadata(id_: str, text: str, metadata: dict[str, Any]) -> Heuristic:
    """Inverse of :func:`to_metadata`. Raises ``ValueError`` (pydantic) on a record that
    was not written by it."""
    partition = int(metadata["partition"])
    return Heuristic(
        id=id_,
        text=text,
        scope=Scope(
            space=str(metadata["space"]),
            hardware=str(metadata["hardware"]),
            partition=None if partition == ALL_PARTITIONS else partition,
        ),
        polarity=metadata["polarity"],
        evidence_for=int(metadata["evidence_for"]),
        evidence_against=int(metadata["evidence_against"]),
        created_round=int(metadata["created_round"]),
        last_round=int(metadata["last_round"]),
        status=metadata["status"],
        source=str(metadata["source"]),
        claim=claim_from_json(str(metadata["claim"])) if metadata.get("claim") else None,
    )


def scope_filter(
    space: str | None,
    hardware: str | None,
    partition: int | None,
    *,
    general_only: bool,
    active_only: bool,
) -> dict[str, Any] | None:
    """Chroma ``where`` filter for heuristics that apply to (space, hardware, partition).

    ``None`` for space or hardware puts no condition on it. ``partition=P`` matches P and
    every-partition heuristics; ``partition=None`` matches only every-partition ones when
    ``general_only`` (a query about no particular partition), else any partition.
    """
    conditions: list[dict[str, Any]] = []
    if space is not None:
        conditions.append({"space": space})
    if hardware is not None:
        conditions.append({"hardware": hardware})
    if partition is not None:
        conditions.append({"partition": {"$in": [partition, ALL_PARTITIONS]}})
    elif general_only:
        conditions.append({"partition": ALL_PARTITIONS})
    if active_only:
        conditions.append({"status": "active"})
    # Chroma rejects "$and" with fewer than two clauses.
    if not conditions:
        return None
    if len(conditions) == 1:
        return conditions[0]
    return {"$and": conditions}
