"""The front under the user's constraints, and the range of a metric over the space.

When a constraint is in force the reported front is the front of the evaluated cells that
satisfy it, and its HV ratio / IGD are measured against the *exact constrained front*: the
Pareto front of every cell of the space that satisfies the constraint (NB201 with table
data: all 15,625 cells scored by one vector lookup, as :mod:`agentnas.tools.exact_front`
does for the unconstrained front). The unconstrained figures stay next to them.

:func:`metric_range` says what the space can achieve at all, so an impossible constraint
("latency under 0.1 ms" on a device whose fastest cell takes 0.4 ms) is answered with the
best achievable value instead of being applied.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from agentnas.tools.metrics import hv_ratio, igd, pareto_indices

_CMP = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_CACHE: dict[tuple[Any, ...], np.ndarray | None] = {}


def _all_values(evaluator: Any, metric: str) -> np.ndarray | None:
    """Natural values of ``metric`` for every cell in benchmark order, or None."""
    if evaluator.exact_front() is None:
        return None
    from agentnas.tools.exact_front import objective_matrix

    for j, o in enumerate(evaluator.objectives):
        if o.metric == metric:
            F = objective_matrix(evaluator.dataset, evaluator.objectives, evaluator.backend)
            return F[:, j] * o.sign
    values = evaluator.backend.all_values(metric)
    return None if values is None else np.asarray(values, dtype=float)


def metric_range(evaluator: Any, metric: str) -> tuple[float, float] | None:
    """(lowest, highest) ``metric`` over the whole space, when the space is enumerable
    with table data for it; None otherwise (then only the cells seen so far tell)."""
    values = _all_values(evaluator, metric)
    if values is None or not len(values):
        return None
    return float(np.min(values)), float(np.max(values))


def exact_constrained_front(evaluator: Any, constraints: Sequence[Any]) -> np.ndarray | None:
    """Minimisation matrix of the exact front of the cells satisfying ``constraints``
    (possibly empty), or None when the space has no exact front or a constrained metric
    has no value for every cell."""
    key = (
        evaluator.space_name, evaluator.dataset, getattr(evaluator.backend, "name", ""),
        tuple(o.name for o in evaluator.objectives),
        tuple((c.metric, c.op, c.value) for c in constraints),
    )  # fmt: skip
    if key in _CACHE:
        return _CACHE[key]
    if evaluator.exact_front() is None:
        return None
    from agentnas.tools.exact_front import objective_matrix

    F = objective_matrix(evaluator.dataset, evaluator.objectives, evaluator.backend)
    mask = np.ones(len(F), dtype=bool)
    for c in constraints:
        values = _all_values(evaluator, c.metric)
        if values is None:
            _CACHE[key] = None
            return None
        mask &= _CMP[c.op](values, c.value)
    sub = F[mask]
    out = sub[pareto_indices(sub)] if len(sub) else sub
    _CACHE[key] = out
    return out


def constrained_indicators(
    evaluator: Any,
    archs: Sequence[str],
    rows: Sequence[dict[str, float]],
    constraints: Sequence[Any],
) -> tuple[float | None, float | None]:
    """(HV ratio, IGD) of the front of ``rows`` (cells that satisfy the constraints
    already) against the exact constrained front, on true metrics; (None, None) when
    there is no exact constrained front (or it is empty)."""
    exact = exact_constrained_front(evaluator, constraints)
    if exact is None or not len(exact) or not rows:
        return None, None
    front = evaluator.front_indices(rows)
    true_rows = [evaluator.true_metrics(archs[i], rows[i]) for i in front]
    F = evaluator.min_matrix(true_rows)
    return hv_ratio(F, exact), igd(F, exact)
