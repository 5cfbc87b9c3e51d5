"""One place that turns an architecture into the metrics a search optimises.

Accuracy comes from an accuracy source (the table oracle, or the zero-cost predictor) or,
for physical backends that train and simulate candidates themselves (optical MZI), from
the backend's ``robust_accuracy``. Latency/energy/MZI count come from the hardware
backend; params/FLOPs from the space's complexity features. When the space has ground
truth (NB201), :meth:`Evaluator.true_metrics` gives the table values, so fronts found with
a predictor are still scored (HV ratio, IGD) on true accuracy against the exact front.

A batch goes through an executor (:mod:`agentnas.tools.executor`) in two halves:
:meth:`Evaluator.measure` is the expensive, pure part (the backend's simulation or lookup,
the zero-cost proxies) and runs on a worker, rebuilt there from :class:`EvalJob`;
:meth:`Evaluator.complete` (the predictor, complexity features) runs here. Both depend
only on the architecture and the settings, so every executor gives the same numbers.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from agentnas.tools.accuracy import get_accuracy_source
from agentnas.tools.errors import UserError
from agentnas.tools.exact_front import SPACES_WITH_EXACT_FRONT
from agentnas.tools.hardware.base import HardwareBackend
from agentnas.tools.hardware.electronic import ElectronicBackend
from agentnas.tools.hardware.registry import get_backend, list_backends, takes_option
from agentnas.tools.metrics import hv_ratio, igd, pareto_indices
from agentnas.tools.objectives import Objective, parse_objectives, to_min_matrix
from agentnas.tools.spaces.base import SearchSpace
from agentnas.tools.spaces.registry import as_space, resolve_dataset


@dataclass(frozen=True)
class EvalJob:
    """What a worker needs to rebuild an :class:`Evaluator` (the settings) and, for Ray,
    the data it reads (shipped once through the object store by :meth:`with_data`)."""

    space: str
    dataset: str | None
    hardware: str
    objectives: tuple[str, ...]
    accuracy: str
    backend_options: tuple[tuple[str, Any], ...] = ()
    # (batch size, seed, proxy names) of the zero-cost predictor's proxies
    proxy_batch: tuple[int, int, tuple[str, ...]] | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def key(self) -> tuple[Any, ...]:
        return (
            self.space,
            self.dataset,
            self.hardware,
            self.objectives,
            self.accuracy,
            self.backend_options,
        )

    def with_data(self) -> EvalJob:
        """This job carrying the arrays its evaluations read (for the object store)."""
        data: dict[str, Any] = {}
        if self.space == "nb201":
            from agentnas.tools.benchmark_tables import load_nb201

            data["nb201"] = load_nb201()
        if self.proxy_batch is not None:
            from agentnas.tools.proxies.data import shipped_images

            data["cifar10"] = shipped_images()
        if self.space == "photonic-mlp" and self.dataset:
            from agentnas.tools.photonic.datasets import load_dataset

            data["photonic"] = load_dataset(self.dataset)
        return replace(self, data=data)


_WORKER_EVALUATORS: dict[tuple[Any, ...], Evaluator] = {}


def worker_evaluator(job: EvalJob) -> Evaluator:
    """The evaluator of ``job`` in this process, built once (data installed first)."""
    key = job.key()
    if key not in _WORKER_EVALUATORS:
        if "nb201" in job.data:
            from agentnas.tools.benchmark_tables import preload_nb201

            preload_nb201(job.data["nb201"])
        if "cifar10" in job.data:
            from agentnas.tools.proxies.data import preload_images

            preload_images(job.data["cifar10"])
        if "photonic" in job.data:
            from agentnas.tools.photonic.datasets import preload_dataset

            preload_dataset(job.data["photonic"])
        _WORKER_EVALUATORS[key] = Evaluator(
            job.space,
            job.dataset,
            job.hardware,
            job.objectives,
            "table" if job.accuracy == "zero-cost" else job.accuracy,  # predicted here
            dict(job.backend_options),
        )
    return _WORKER_EVALUATORS[key]


def measure_task(job: EvalJob, arch: str) -> dict[str, Any]:
    """Executor task: the expensive half of one evaluation, on a worker."""
    return worker_evaluator(job).measure(arch, job.proxy_batch)


class Evaluator:
    def __init__(
        self,
        space: SearchSpace | str,
        dataset: str | None,
        hardware: str | HardwareBackend,
        objectives: Sequence[str],
        accuracy: str = "table",
        backend_options: dict[str, Any] | None = None,
    ) -> None:
        """``hardware``: a backend name (built with ``backend_options``, plus the run's
        dataset for spaces whose backend trains candidates) or a ready backend."""
        self.space = as_space(space)
        self.space_name = name = self.space.name
        # what a worker needs to rebuild this evaluator (names, not objects)
        self.settings = {
            "space": space if isinstance(space, str) else name,
            "dataset": dataset,
            "hardware": hardware if isinstance(hardware, str) else hardware.name,
            "objectives": tuple(objectives),
            "accuracy": accuracy,
            "backend_options": tuple(sorted((backend_options or {}).items())),
        }
        self.dataset = dataset = resolve_dataset(space, dataset)
        self.objectives: list[Objective] = parse_objectives(list(objectives))
        # spaces without tables train candidates inside the backend, on the run's dataset
        if isinstance(hardware, HardwareBackend):
            self.backend = hardware
            hardware = hardware.name
        else:
            options = dict(backend_options or {})
            if not self.space.has_accuracy_table and takes_option(hardware, "dataset"):
                options.setdefault("dataset", dataset)
            self.backend = get_backend(hardware, **options)
        if name not in self.backend.spaces:
            fitting = [b.name for b in list_backends() if name in b.spaces and b.available]
            raise UserError(
                f"hardware '{hardware}' evaluates {', '.join(self.backend.spaces)} "
                f"architectures, not '{name}'; for '{name}' use: {', '.join(fitting) or 'none'}"
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
            if self.space.has_accuracy_table and accuracy != "table"
            else None
        )
        # the same network's energy on electronic references (UH-NAS compares them), for
        # spaces the electronic models can score
        self.references = {}
        if not isinstance(self.backend, ElectronicBackend):
            for device in ("cpu", "gpu"):
                ref = get_backend(f"electronic:{device}")
                if name in ref.spaces:
                    self.references[device] = ref
        self._exact: Any = None
        self._lock = threading.Lock()

    # -- metrics -----------------------------------------------------------------------
    def evaluate(self, arch: str) -> dict[str, float]:
        """All metrics of one architecture (accuracy %, backend metrics, complexity)."""
        return self.complete(arch, self.measure(arch))

    @property
    def expensive(self) -> bool:
        """Whether an evaluation is real work worth a process pool (a simulator that
        trains candidates, zero-cost proxies); measured CPU latency stays serial, since
        parallel measurements would disturb each other."""
        return self.accuracy_name == "zero-cost" or "robust_accuracy" in self.backend.metrics

    def job(self) -> EvalJob:
        """Settings a worker rebuilds this evaluator from (the zero-cost predictor is
        loaded or fitted here first: it fixes the proxies' image batch)."""
        batch = None
        source = self.accuracy_source
        if self.accuracy_name == "zero-cost" and source is not None:
            source.model  # noqa: B018  (load or fit now)
            batch = (int(source.batch_size), int(source.seed), tuple(source.proxy_names))
        return EvalJob(**self.settings, proxy_batch=batch)

    def evaluate_many(self, archs: Sequence[str], executor: Any = None) -> list[Any]:
        """One :class:`~agentnas.tools.executor.Outcome` per architecture, in order; its
        value is the metrics dict. ``executor``: a live executor or a spec (None: local)."""
        from agentnas.tools.executor import LocalExecutor, run_tasks

        if executor is None:
            executor = LocalExecutor()
        if isinstance(executor, LocalExecutor):  # in-process: no job rebuilt, same numbers
            outcomes = executor.map(lambda _ctx, a: self.measure(a, self._batch()), archs)
        else:
            outcomes = run_tasks(executor, measure_task, archs, self.job())
        done = []
        for arch, o in zip(archs, outcomes, strict=True):
            if o.ok:
                try:
                    o = replace(o, value=self.complete(arch, o.value))
                except UserError as exc:
                    o = replace(o, ok=False, value=None, error=str(exc), kind="invalid")
            done.append(o)
        return done

    def _batch(self) -> tuple[int, int, tuple[str, ...]] | None:
        source = self.accuracy_source
        if self.accuracy_name != "zero-cost" or source is None:
            return None
        source.model  # noqa: B018
        return (int(source.batch_size), int(source.seed), tuple(source.proxy_names))

    def measure(
        self, arch: str, proxy_batch: tuple[int, int, tuple[str, ...]] | None = None
    ) -> dict[str, Any]:
        """The expensive, pure half of an evaluation: backend metrics (and the same
        network's CPU/GPU energy), plus the zero-cost proxies when ``proxy_batch`` is set."""
        arch = self.space.validate(arch)
        metrics = dict(self.backend.evaluate(arch))
        for device, ref in self.references.items():
            metrics[f"ref_{device}_energy_mj"] = float(ref.evaluate(arch)["energy_mj"])
        out: dict[str, Any] = {"metrics": metrics}
        if proxy_batch is not None:
            from agentnas.tools.proxies.scoring import score_cell

            size, seed, names = proxy_batch
            out["proxies"] = score_cell(arch, names, batch_size=size, seed=seed)
        return out

    def complete(self, arch: str, measured: dict[str, Any]) -> dict[str, float]:
        """Metrics of ``arch`` from :meth:`measure`'s result (accuracy, complexity)."""
        arch = self.space.validate(arch)
        metrics = dict(measured["metrics"])
        source = self.accuracy_source
        if source is None:
            metrics["accuracy"] = float(metrics["robust_accuracy"])
        elif "proxies" in measured and hasattr(source, "predict_from"):
            metrics["accuracy"] = float(source.predict_from(arch, measured["proxies"]))
        else:
            metrics["accuracy"] = float(source.accuracy(arch))
        if any(o.source == "complexity" for o in self.objectives):
            feats = self.space.features(arch)
            for o in self.objectives:
                if o.source == "complexity":
                    key = o.metric.removesuffix("_m")
                    if key not in feats:
                        raise UserError(f"space '{self.space_name}' has no '{key}' feature")
                    metrics[o.metric] = float(feats[key])
        return metrics

    @property
    def has_truth(self) -> bool:
        """True when a searched value is predicted and its true value is known: accuracy
        from the zero-cost predictor (the table has it), or a partial table's predicted
        hardware metrics with the device's full table as reference."""
        return bool(self.truth_columns())

    def truth_columns(self) -> list[str]:
        """Metrics whose true value :meth:`true_metrics` substitutes (``true_<metric>``
        columns of front.csv): accuracy when predicted, hardware metrics a partial table
        predicts when it has a reference."""
        cols = ["accuracy"] if self._truth is not None else []
        if self.backend.reference is not None:
            cols += list(self.backend.predicted_metrics)
        return cols

    def front_digest(self, front_rows: Sequence[dict[str, float]]) -> dict[str, float]:
        """What a round's table shows of an optical front: best robust accuracy (%),
        lowest energy (nJ), mean degradation (pp), fewest MZIs; ``{}`` elsewhere.

        A figure is shown only where every front row has its metric: a user backend may
        report robust accuracy without the photonic simulator's energy or MZI count."""
        if not front_rows or "robust_accuracy" not in self.backend.metrics:
            return {}
        rows = list(front_rows)

        def has(key: str) -> bool:
            return all(key in r for r in rows)

        digest: dict[str, float] = {"robust_accuracy_pct": max(r["robust_accuracy"] for r in rows)}
        if has("energy_mj"):
            digest["energy_nj"] = min(r["energy_mj"] for r in rows) * 1e6
        if has("degradation"):
            digest["degradation_pp"] = sum(r["degradation"] for r in rows) / len(rows)
        if has("mzi_count"):
            digest["mzi_count"] = min(r["mzi_count"] for r in rows)
        return digest

    def true_metrics(self, arch: str, metrics: dict[str, float]) -> dict[str, float]:
        """Metrics with predicted values replaced by ground truth where it is known:
        accuracy from the table, hardware metrics from a partial table's reference."""
        out = {**metrics, **self.backend.reference_metrics(arch)}
        if self._truth is not None:
            out["accuracy"] = float(self._truth.accuracy(arch))
        return out

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
                enumerable = self.space_name in SPACES_WITH_EXACT_FRONT and all(
                    self.backend.all_values(m) is not None for m in hw
                )
                if enumerable:
                    from agentnas.tools.exact_front import exact_front

                    self._exact = exact_front(
                        self.space_name, self.dataset, self.objectives, self.backend
                    )
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
