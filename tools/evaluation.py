"""One place that turns an architecture into the metrics a search optimises.

Accuracy comes from an accuracy source (the table oracle, or the zero-cost predictor) or,
for physical backends that train and simulate candidates themselves (optical MZI), from
the backend's ``robust_accuracy``. Latency/energy/MZI count come from the hardware
backend; params/FLOPs from the space's complexity features. When the space has ground
truth (NB201), :meth:`Evaluator.true_metrics` gives the table values, so fronts found with
a predictor are still scored (HV ratio, IGD) on true accuracy against the exact front.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from agentnas.tools.accuracy import get_accuracy_source
from agentnas.tools.errors import UserError
from agentnas.tools.hardware.registry import get_backend, list_backends
from agentnas.tools.metrics import hv_ratio, igd, pareto_indices
from agentnas.tools.objectives import Objective, parse_objectives, to_min_matrix
from agentnas.tools.spaces.registry import get_space, resolve_dataset


class Evaluator:
    def __init__(
        self,
        space: str,
        dataset: str | None,
        hardware: str,
        objectives: Sequence[str],
        accuracy: str = "table",
        backend_options: dict[str, Any] | None = None,
    ) -> None:
        self.space_name = space
        self.space = get_space(space)
        self.dataset = dataset = resolve_dataset(space, dataset)
        self.objectives: list[Objective] = parse_objectives(list(objectives))
        # spaces without tables train candidates inside the backend, on the run's dataset
        options = dict(backend_options or {})
        if space != "nb201" and not hardware.startswith("electronic"):
            options.setdefault("dataset", dataset)
        self.backend = get_backend(hardware, **options)
        if space not in self.backend.spaces:
            fitting = [b.name for b in list_backends() if space in b.spaces and b.available]
            raise UserError(
                f"hardware '{hardware}' evaluates {', '.join(self.backend.spaces)} "
                f"architectures, not '{space}'; for '{space}' use: {', '.join(fitting)}"
            )
        hw_metrics = [o.metric for o in self.objectives if o.source == "hardware"]
        self.backend.require(hw_metrics)
        if accuracy == "backend" or (
            accuracy == "table" and "robust_accuracy" in self.backend.metrics
        ):
            accuracy = "backend"
            self.accuracy_source = None
        else:
            self.accuracy_source = get_accuracy_source(accuracy, dataset)
        self.accuracy_name = accuracy
        self._truth = (
            get_accuracy_source("table", dataset)
            if space == "nb201" and accuracy != "table"
            else None
        )
        # the same network's energy on electronic references (UH-NAS compares them)
        self.references = (
            {d: get_backend(f"electronic:{d}") for d in ("cpu", "gpu")}
            if space == "photonic-mlp" and not hardware.startswith("electronic")
            else {}
        )
        self._exact: Any = None
        self._lock = threading.Lock()

    # -- metrics -----------------------------------------------------------------------
    def evaluate(self, arch: str) -> dict[str, float]:
        """All metrics of one architecture (accuracy %, backend metrics, complexity)."""
        arch = self.space.validate(arch)
        metrics = dict(self.backend.evaluate(arch))
        for device, ref in self.references.items():
            metrics[f"ref_{device}_energy_mj"] = float(ref.evaluate(arch)["energy_mj"])
        if self.accuracy_source is None:
            metrics["accuracy"] = float(metrics["robust_accuracy"])
        else:
            metrics["accuracy"] = float(self.accuracy_source.accuracy(arch))
        if any(o.source == "complexity" for o in self.objectives):
            feats = self.space.features(arch)
            for o in self.objectives:
                if o.source == "complexity":
                    key = o.metric.removesuffix("_m")
                    if key not in feats:
                        raise UserError(f"space '{self.space_name}' has no '{key}' feature")
                    metrics[o.metric] = float(feats[key])
        return metrics

    def true_metrics(self, arch: str, metrics: dict[str, float]) -> dict[str, float]:
        """Metrics with accuracy replaced by ground truth where the space has it."""
        if self._truth is None:
            return metrics
        return {**metrics, "accuracy": float(self._truth.accuracy(arch))}

    # -- fronts and indicators -----------------------------------------------------------
    def min_matrix(self, rows: Sequence[dict[str, float]]) -> np.ndarray:
        return to_min_matrix(rows, self.objectives)

    def front_indices(self, rows: Sequence[dict[str, float]]) -> list[int]:
        """Indices of the non-dominated rows (all members of tied points are kept)."""
        if not rows:
            return []
        return sorted(int(i) for i in pareto_indices(self.min_matrix(rows)))

    def exact_front(self) -> Any:
        """The exact front when the space is enumerable with table data, else None."""
        with self._lock:
            if self._exact is None:
                hw = [o.metric for o in self.objectives if o.source == "hardware"]
                enumerable = self.space_name == "nb201" and all(
                    self.backend.all_values(m) is not None for m in hw
                )
                if enumerable:
                    from agentnas.tools.exact_front import exact_front

                    self._exact = exact_front("nb201", self.dataset, self.objectives, self.backend)
                else:
                    self._exact = False
            return self._exact or None

    def indicators(
        self, archs: Sequence[str], rows: Sequence[dict[str, float]]
    ) -> tuple[float | None, float | None]:
        """(HV ratio, IGD) of the front of ``rows`` against the exact front, on true
        metrics; (None, None) when the space has no exact front."""
        exact = self.exact_front()
        if exact is None or not rows:
            return None, None
        front = self.front_indices(rows)
        true_rows = [self.true_metrics(archs[i], rows[i]) for i in front]
        F = self.min_matrix(true_rows)
        return hv_ratio(F, exact.F), igd(F, exact.F)
