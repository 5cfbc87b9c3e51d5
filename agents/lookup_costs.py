"""What the backend's instant hardware lookup tells the offline Designer before it spends
an evaluation: the designs it refuses as infeasible, dropped from the candidates.

A simulator such as the optical MZI backend computes a design's hardware metrics in well
under a millisecond and refuses designs past its physical limits (the laser power
ceiling), while training a design costs seconds; ranking a design that cannot be built
wastes an evaluation, which a small budget cannot spare. Backends that refuse nothing
(tables) leave every candidate where it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

Lookup = Callable[[str], Mapping[str, float]]


def refused_by_lookup(lookup: Lookup | None, archs: Iterable[str]) -> set[str]:
    """The archs the lookup refuses as infeasible (an error of ``kind == "infeasible"``);
    any other error leaves the design to the evaluation, which reports it."""
    refused: set[str] = set()
    if lookup is None:
        return refused
    for a in archs:
        try:
            lookup(a)
        except Exception as exc:  # only an infeasible refusal counts
            if getattr(exc, "kind", None) == "infeasible":
                refused.add(a)
    return refused
