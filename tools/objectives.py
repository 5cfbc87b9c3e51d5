"""Objectives by name, with their direction and unit, and the minimisation convention.

Every front, indicator and baseline in agentnas works on a *minimisation matrix* ``F``
(one row per architecture, one column per objective): objectives to maximise (accuracy)
are negated, so "smaller is better" holds in every column. :func:`to_min_matrix` builds
``F`` from metric dicts and :func:`to_natural` turns it back into the user's units.

Where each value comes from is part of the objective:

- ``accuracy`` — an :class:`~agentnas.tools.accuracy.AccuracySource` (test accuracy, %).
- ``latency`` / ``energy`` / ``mzi_count`` — the hardware backend's metrics
  (``latency_ms``, ``energy_mj``, ``mzi_count``).
- ``params`` / ``flops`` — complexity of the network itself (millions, CIFAR-10 head),
  from the shipped NB201 table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from agentnas.tools.errors import UserError

Direction = Literal["max", "min"]
Source = Literal["accuracy", "hardware", "complexity"]


@dataclass(frozen=True)
class Objective:
    """One objective: ``name`` as the user types it, ``metric`` as the key in metric dicts
    (carrying its unit), whether it is maximised, and where its values come from."""

    name: str
    metric: str
    direction: Direction
    unit: str
    source: Source

    @property
    def sign(self) -> float:
        """Factor that turns the natural value into a value to minimise."""
        return -1.0 if self.direction == "max" else 1.0

    @property
    def label(self) -> str:
        """Column header, e.g. ``latency_ms (min)``."""
        return f"{self.metric} ({self.direction})"


OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in (
        Objective("accuracy", "accuracy", "max", "%", "accuracy"),
        Objective("latency", "latency_ms", "min", "ms", "hardware"),
        Objective("energy", "energy_mj", "min", "mJ", "hardware"),
        Objective("params", "params_m", "min", "M", "complexity"),
        Objective("flops", "flops_m", "min", "M", "complexity"),
        Objective("mzi_count", "mzi_count", "min", "", "hardware"),
    )
}
# Metrics a backend reports that are not objectives of their own, with their direction:
# claims, deltas and prompts may name them (robustness of optical designs).
OTHER_METRICS: dict[str, Direction] = {
    "robust_accuracy": "max",
    "clean_accuracy": "max",
    "robust_accuracy_std": "min",
    "degradation": "min",
}


def objective_of(name: str) -> Objective | None:
    """The objective called ``name`` or measured as ``name`` (``latency``/``latency_ms``)."""
    found = OBJECTIVES.get(name)
    if found is not None:
        return found
    return next((o for o in OBJECTIVES.values() if o.metric == name), None)


def is_maximized(name: str) -> bool:
    """Whether the objective or metric ``name`` is maximised: the direction the registry
    gives it (:data:`OBJECTIVES` by name or metric, then :data:`OTHER_METRICS`); a metric
    neither knows (a user backend's) is a cost and is minimised."""
    found = objective_of(name)
    if found is not None:
        return found.direction == "max"
    return OTHER_METRICS.get(name) == "max"


DEFAULT_OBJECTIVES = "accuracy,latency"
MIN_OBJECTIVES, MAX_OBJECTIVES = 2, 3


def parse_objectives(spec: str | Sequence[str] | Sequence[Objective]) -> list[Objective]:
    """``"accuracy,latency"`` (or a list of names / objectives) -> 2 or 3 distinct objectives.

    Metric names (``latency_ms``) are accepted as aliases of objective names (``latency``).
    """
    if isinstance(spec, str):
        names = [s.strip() for s in spec.split(",") if s.strip()]
    else:
        names = [s.name if isinstance(s, Objective) else str(s).strip() for s in spec]
    by_metric = {o.metric: o for o in OBJECTIVES.values()}
    out: list[Objective] = []
    for name in names:
        obj = OBJECTIVES.get(name) or by_metric.get(name)
        if obj is None:
            raise UserError(
                f"unknown objective '{name}'; valid objectives: {', '.join(OBJECTIVES)}"
            )
        if obj in out:
            raise UserError(f"objective '{obj.name}' is given twice in '{','.join(names)}'")
        out.append(obj)
    if not MIN_OBJECTIVES <= len(out) <= MAX_OBJECTIVES:
        raise UserError(
            f"give {MIN_OBJECTIVES} or {MAX_OBJECTIVES} objectives separated by commas "
            f"(e.g. '{DEFAULT_OBJECTIVES}'); got {len(out)}; valid: {', '.join(OBJECTIVES)}"
        )
    return out


def signs(objectives: Sequence[Objective]) -> np.ndarray:
    return np.array([o.sign for o in objectives], dtype=float)


def to_min_matrix(
    rows: Sequence[Mapping[str, float]], objectives: Sequence[Objective]
) -> np.ndarray:
    """Metric dicts (keys = ``Objective.metric``) -> minimisation matrix (n, k)."""
    try:
        natural = np.array([[float(r[o.metric]) for o in objectives] for r in rows], dtype=float)
    except KeyError as exc:
        raise UserError(f"an evaluation lacks the metric {exc.args[0]!r}") from None
    return natural.reshape(len(rows), len(objectives)) * signs(objectives)


def to_natural(F: np.ndarray, objectives: Sequence[Objective]) -> np.ndarray:
    """Minimisation matrix -> values in the objectives' own units (accuracy positive)."""
    return np.asarray(F, dtype=float) * signs(objectives)


def to_dicts(F: np.ndarray, objectives: Sequence[Objective]) -> list[dict[str, float]]:
    """Minimisation matrix -> one ``{metric: natural value}`` dict per row."""
    nat = to_natural(F, objectives)
    return [{o.metric: float(v) for o, v in zip(objectives, row, strict=True)} for row in nat]
