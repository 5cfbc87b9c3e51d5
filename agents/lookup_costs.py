"""What the backend's instant hardware lookup tells the offline Designer before it spends
an evaluation: the designs it refuses as infeasible (dropped from the candidates) and the
exact values of the objectives it gives (taken instead of the model's prediction).

A simulator such as the optical MZI backend computes a design's hardware metrics in well
under a millisecond, for the run's own dataset shapes, and refuses designs past its
physical limits (the laser power ceiling), while training a design costs seconds; ranking
a design that cannot be built, or by a predicted cost when the exact one is at hand,
wastes evaluations that a small budget cannot spare. Table backends give their table's
value the same way; a backend with no lookup leaves everything to the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

Lookup = Callable[[str], Mapping[str, float]]


def look_up(
    lookup: Lookup | None, archs: Iterable[str], objectives: Sequence[str]
) -> tuple[dict[str, dict[str, float]], set[str]]:
    """(arch -> the objectives' values the lookup gives, the archs it refuses as
    infeasible: an error of ``kind == "infeasible"``). Any other error leaves the design
    to the model and to the evaluation, which reports it."""
    known: dict[str, dict[str, float]] = {}
    refused: set[str] = set()
    if lookup is None:
        return known, refused
    for a in archs:
        try:
            got = lookup(a)
        except Exception as exc:  # only an infeasible refusal counts
            if getattr(exc, "kind", None) == "infeasible":
                refused.add(a)
            continue
        values = {o: float(got[o]) for o in objectives if o in got}
        if values:
            known[a] = values
    return known, refused


def with_known(
    pred: np.ndarray, std: np.ndarray, cands: Sequence[str],
    known: Mapping[str, Mapping[str, float]], objectives: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """``pred``/``std`` (n_cands, n_obj) with every looked-up value exact (spread 0)."""
    pred, std = pred.copy(), std.copy()
    for i, a in enumerate(cands):
        for j, o in enumerate(objectives):
            v = known.get(a, {}).get(o)
            if v is not None:
                pred[i, j], std[i, j] = v, 0.0
    return pred, std
