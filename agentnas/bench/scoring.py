"""Reference fronts and scores of a bench, computed from the kept points.

Each device gets one reference front that every method is scored against:

- the **exact front** when the space is enumerable with table data for every objective
  (NB201 on HW-NAS-Bench, HW-NAS-Bench-360, a full user table);
- otherwise (a partial table, the photonic space) the non-dominated set of the **union of
  every method's evaluated points in this bench plus a long NSGA-II run** (its budget and
  seed written in ``results.md``). HV ratio against it can reach 1 only for a method that
  found all of it, and falls when another method (or the long run) finds better points,
  so it is a relative figure; IGD is measured in the same normalised space.

A run's front is chosen on the metrics it searched on (a zero-cost search keeps what it
believed best) and scored on true metrics (table accuracy), as
:meth:`~agentnas.tools.evaluation.Evaluator.indicators` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agentnas.bench.jobs import read_points
from agentnas.bench.spec import BenchSpec, Job, slug
from agentnas.tools.errors import UserError
from agentnas.tools.metrics import hv_ratio, igd, pareto_front, pareto_indices

CURVE_STEP = 10  # evaluations between two points of the HV-vs-evaluations curves


@dataclass(frozen=True)
class Reference:
    device: str
    F: np.ndarray  # minimisation matrix of the reference front
    kind: str  # "exact" | "union"
    description: str


def reference_budget(spec: BenchSpec, device: str) -> int:
    """The long NSGA-II run's budget where no exact front exists: 5x the largest run
    (at least 500) on tables, 2x on the photonic simulator (each evaluation trains)."""
    if spec.reference_budget is not None:
        return spec.reference_budget
    largest = max(j.budget for j in spec.jobs() if j.device == device)
    return 2 * largest if device.startswith("optical-mzi") else max(500, 5 * largest)


def reference_folder(spec: BenchSpec, device: str) -> Path:
    return Path(spec.out) / "runs" / "reference" / slug(device)


def true_values(metrics: dict[str, float]) -> dict[str, float]:
    """A point's metrics with each ``true_<metric>`` (a predicted accuracy's or a partial
    table's predicted latency's true value) in place of the prediction."""
    true = {k.removeprefix("true_"): v for k, v in metrics.items() if k.startswith("true_")}
    return {**metrics, **true} if true else metrics


def true_matrix(ev: Any, metrics: list[dict[str, float]]) -> np.ndarray:
    """Minimisation matrix on true metrics (``true_<metric>`` replaces a prediction)."""
    rows = [true_values(m) for m in metrics]
    return ev.min_matrix(rows) if rows else np.zeros((0, len(ev.objectives)))


def exact_or_none(ev: Any) -> Any:
    """The device's exact front, or None where the space or table does not give one
    (a table that holds only some cells refuses to enumerate them)."""
    try:
        return ev.exact_front()
    except UserError:
        return None


def build_reference(spec: BenchSpec, device: str, ev: Any, jobs: list[Job]) -> Reference:
    exact = exact_or_none(ev)
    if exact is not None:
        of = f" of the reference {ev.backend.reference}" if ev.backend.reference else ""
        return Reference(
            device,
            exact.F,
            "exact",
            f"exact front{of} of all {ev.space.size:,} cells ({len(exact)})",
        )
    parts = []
    for job in jobs:
        folder = job.folder(Path(spec.out))
        if (folder / "points.csv").exists():
            parts.append(true_matrix(ev, read_points(folder)[1]))
    ref = reference_folder(spec, device)
    long_run = f"NSGA-II@{reference_budget(spec, device)} (seed 0)"
    if (ref / "points.csv").exists():
        parts.append(true_matrix(ev, read_points(ref)[1]))
        extra = f"plus {long_run}"
    else:
        extra = f"(the long {long_run} run is missing)"
    F = pareto_front(np.vstack(parts)) if parts else np.zeros((0, len(ev.objectives)))
    F = np.unique(F, axis=0)
    return Reference(
        device,
        F,
        "union",
        f"no exact front: union of every method's evaluated points {extra}, "
        f"{len(F)} non-dominated points",
    )


def front_of(ev: Any, metrics: list[dict[str, float]], n: int | None = None) -> np.ndarray:
    """True-metric rows of the front chosen (on searched metrics) among the first ``n``."""
    metrics = metrics[:n]
    if not metrics:
        return np.zeros((0, len(ev.objectives)))
    idx = pareto_indices(ev.min_matrix(metrics))
    return true_matrix(ev, [metrics[i] for i in idx])


def front_members(
    ev: Any, archs: list[str], metrics: list[dict[str, float]]
) -> tuple[list[str], list[dict[str, float]]]:
    """Architectures and true metrics of the front chosen on searched metrics."""
    if not metrics:
        return [], []
    idx = [int(i) for i in pareto_indices(ev.min_matrix(metrics))]
    true = [true_values(metrics[i]) for i in idx]
    return [archs[i] for i in idx], true


def score(ev: Any, metrics: list[dict[str, float]], ref: Reference) -> tuple[float, float]:
    """(HV ratio, IGD) of the run's final front against the device's reference."""
    if len(ref.F) == 0:
        return float("nan"), float("nan")
    F = front_of(ev, metrics)
    return hv_ratio(F, ref.F), igd(F, ref.F)


def curve(ev: Any, metrics: list[dict[str, float]], ref: Reference) -> list[tuple[int, float]]:
    """HV ratio after every :data:`CURVE_STEP` evaluations (and at the end)."""
    n = len(metrics)
    marks = [*range(CURVE_STEP, n, CURVE_STEP), n] if n else []
    return [(k, hv_ratio(front_of(ev, metrics, k), ref.F)) for k in marks if len(ref.F)]
