"""Checks every agent answer goes through before the graph sees it: partitions (cover,
disjoint, non-empty, k groups) and children (legal, novel, inside the partition).

Pure functions: the reasons they return are sent back to the model verbatim, so each one
says what was wrong with which child and what is accepted.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from agentnas.agents.schemas import ChildAnswer, Partition, Proposal


class PartitionError(ValueError):
    """A partition plan that does not split the space properly; the message says why."""


def histogram_values(histogram: Mapping[str, int]) -> list[tuple[float, int]]:
    """(value, count) pairs of a feature histogram, ascending by value."""
    return sorted((float(v), int(c)) for v, c in histogram.items())


def validate_partitions(
    partitions: Sequence[Partition], histogram: Mapping[str, int], k: int | None = None
) -> None:
    """Raise :class:`PartitionError` unless the ranges are disjoint, each holds at least one
    value of ``histogram``, together they hold every value, and (when the histogram has at
    least k values) there are exactly k of them."""
    values = histogram_values(histogram)
    if not partitions:
        raise PartitionError("no partitions given")
    if k is not None and len(values) >= k and len(partitions) != k:
        raise PartitionError(f"expected {k} partitions, got {len(partitions)}")
    ranges = sorted(partitions, key=lambda p: (p.low, p.high))
    for p in ranges:
        if p.low > p.high:
            raise PartitionError(f"partition {p.id}: low {p.low:g} > high {p.high:g}")
    for a, b in itertools.pairwise(ranges):
        if b.low <= a.high:
            raise PartitionError(
                f"partitions {a.id} [{a.low:g}, {a.high:g}] and {b.id} [{b.low:g}, {b.high:g}]"
                " overlap"
            )
    for p in ranges:
        if not any(p.low <= v <= p.high for v, _ in values):
            raise PartitionError(
                f"partition {p.id} [{p.low:g}, {p.high:g}] holds no value of "
                f"{p.feature} (values: {', '.join(f'{v:g}' for v, _ in values)})"
            )
    missing = [v for v, _ in values if not any(p.low <= v <= p.high for p in ranges)]
    if missing:
        raise PartitionError(
            f"values {', '.join(f'{v:g}' for v in missing)} of {ranges[0].feature} are in no "
            "partition"
        )


def check_child(
    arch: str,
    *,
    space: Any,
    partitions: Sequence[Partition] | None,
    partition: Partition,
    taken: set[str],
    taken_canonical: set[str] | None,
) -> tuple[str | None, str | None]:
    """Normalised arch and ``None``, or ``None`` and the reason it is refused.

    ``taken`` holds evaluated cells and children accepted so far (exact strings);
    ``taken_canonical`` (isomorphism classes) only when isomorphic cells are deduplicated.
    """
    try:
        norm = space.validate(arch)
    except Exception as exc:  # UserError from the space, or anything odd a model sent
        return None, f"illegal: {exc}"
    if norm in taken:
        return None, "not novel: this cell was already evaluated or proposed"
    if taken_canonical is not None and space.canonical(norm) in taken_canonical:
        return None, "not novel: isomorphic to a cell already evaluated or proposed"
    feats = space.features(norm)
    if not partition.contains(feats, partitions or ()):
        v = feats.get(partition.feature)
        return None, (
            f"outside partition {partition.id}: needs {partition.feature} in "
            f"[{partition.low:g}, {partition.high:g}], this cell has {v}"
        )
    return norm, None


def validate_children(
    children: Iterable[ChildAnswer],
    *,
    space: Any,
    partition: Partition,
    evaluated: Iterable[str],
    dedupe_isomorphic: bool,
    operator: str,
    heuristics_used: Sequence[str],
    known_heuristics: set[str],
    limit: int,
    plan: Sequence[Partition] = (),
    judge: Any = None,
) -> tuple[list[Proposal], list[str]]:
    """Accepted proposals (at most ``limit``) and one reason per refused child. ``plan``:
    every partition of the run, for the membership rule (:meth:`Partition.contains`).
    ``judge`` (:class:`~agentnas.agents.hard_rules.RuleJudge`) holds children to the
    user's constraints and avoid/prefer rules; its reasons go back to the model."""
    taken = set(evaluated)
    taken_canonical = None
    if dedupe_isomorphic:
        taken_canonical = set()
        for a in taken:
            try:
                taken_canonical.add(space.canonical(a))
            except Exception:
                continue
    used = [h for h in heuristics_used if h in known_heuristics]
    errors = [f"unknown heuristic id {h!r} ignored" for h in heuristics_used if h not in used]
    accepted: list[Proposal] = []
    for i, child in enumerate(children, 1):
        norm, why = check_child(
            child.arch,
            space=space,
            partitions=plan,
            partition=partition,
            taken=taken,
            taken_canonical=taken_canonical,
        )
        if not why and judge is not None:
            why = judge.why(norm)
        if why:
            errors.append(f"child {i} {child.arch!r}: {why}")
            continue
        assert norm is not None
        if len(accepted) >= limit:
            errors.append(f"child {i}: more children than the {limit} asked for; ignored")
            continue
        taken.add(norm)
        if taken_canonical is not None:
            taken_canonical.add(space.canonical(norm))
        accepted.append(
            Proposal(
                arch=norm,
                operator=operator if operator in ("mutation", "crossover") else "mutation",
                parents=list(child.parents),
                rationale=child.rationale,
                heuristics_used=used,
            )
        )
    return accepted, errors
