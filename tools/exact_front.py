"""The exact Pareto front of NAS-Bench-201 for any (dataset, objectives, backend).

NB201 has only 15,625 cells, so the true front is found by scoring every one: accuracy
from the shipped table (the oracle, 200-epoch test accuracy, %), hardware metrics from the
backend (one vector lookup for table backends via ``all_values``; otherwise
``evaluate_many`` over all cells, which for a measuring backend is slow but still exact),
params/FLOPs from the shipped table. Isomorphic cells are separate rows with their own
measured values, so the front counts cells; cells with identical objective vectors are
all on it (see :mod:`agentnas.tools.metrics`).

Both the full objective matrix and the front are cached in memory per
(space, dataset, objectives, backend name): baselines and the HV ratio reuse them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from agentnas.tools.accuracy import TableAccuracy
from agentnas.tools.benchmark_tables import DATASETS, load_nb201
from agentnas.tools.errors import UserError
from agentnas.tools.hardware.base import HardwareBackend
from agentnas.tools.metrics import ideal_nadir, pareto_indices
from agentnas.tools.objectives import Objective, parse_objectives, to_natural
from agentnas.tools.spaces.nb201 import N_CELLS, all_cells

SPACES_WITH_EXACT_FRONT: tuple[str, ...] = ("nb201",)

_Key = tuple[str, str, tuple[str, ...], str]
_MATRIX_CACHE: dict[_Key, np.ndarray] = {}
_FRONT_CACHE: dict[_Key, ExactFront] = {}


@dataclass(frozen=True)
class ExactFront:
    """The true front: members' benchmark indices and cell strings, their minimisation
    matrix ``F`` (accuracy negated) and the front's ``ideal``/``nadir`` in that space."""

    space: str
    dataset: str
    objectives: tuple[Objective, ...]
    backend: str
    indices: np.ndarray  # int, benchmark index of each member
    cells: tuple[str, ...]
    F: np.ndarray  # (n_members, n_objectives), minimisation convention
    ideal: np.ndarray
    nadir: np.ndarray

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def n_distinct(self) -> int:
        """Distinct objective vectors on the front (duplicates come from isomorphic or
        identically-measured cells)."""
        return len(np.unique(self.F, axis=0))

    def natural(self) -> np.ndarray:
        """``F`` in the objectives' own units (accuracy in %, positive)."""
        return to_natural(self.F, self.objectives)


def _key(space: str, dataset: str, objectives: Sequence[Objective], backend) -> _Key:
    return (space, dataset, tuple(o.name for o in objectives), getattr(backend, "name", ""))


def _table_column(obj: Objective, dataset: str) -> np.ndarray | None:
    """Values shipped in the repo's tables (accuracy, params, FLOPs), or None."""
    if obj.source == "accuracy":
        return TableAccuracy(dataset).all_values()
    if obj.source == "complexity":
        return load_nb201().params_m if obj.name == "params" else load_nb201().flops_m
    return None


def _needs_backend(obj: Objective, backend: HardwareBackend | None) -> None:
    """Refuse an objective that neither the tables nor ``backend`` can back."""
    if obj.source == "complexity" and (backend is None or obj.metric not in backend.metrics):
        raise UserError(
            f"objective '{obj.name}' needs {obj.metric}, which this checkout's NB201 "
            "table does not ship; use accuracy, latency or energy"
        )
    if backend is None:
        raise UserError(f"objective '{obj.name}' needs a hardware backend (--hardware)")
    backend.require([obj.metric])


def _column(obj: Objective, dataset: str, backend: HardwareBackend | None) -> np.ndarray:
    table = _table_column(obj, dataset)
    if table is not None:
        return table
    _needs_backend(obj, backend)
    values = backend.all_values(obj.metric)
    if values is None and obj.metric in backend.predicted_metrics:
        raise UserError(
            f"'{backend.name}' predicts {obj.metric} for the cells it does not hold, so it "
            "has no exact front; give the device's full table as reference "
            "(--backend-option reference=FULL.csv) to score against one"
        )
    if values is None:  # a measuring/simulating backend: evaluate every cell
        values = np.array([m[obj.metric] for m in backend.evaluate_many(all_cells())])
    values = np.asarray(values, dtype=float)
    if values.shape != (N_CELLS,) or not np.all(np.isfinite(values)):
        raise UserError(
            f"backend '{backend.name}' did not give a finite {obj.metric} for all "
            f"{N_CELLS} NB201 cells"
        )
    return values


def _check(space: str, dataset: str, backend: HardwareBackend | None) -> None:
    if dataset not in DATASETS:
        raise UserError(f"unknown dataset '{dataset}'; available: {', '.join(DATASETS)}")
    if space not in SPACES_WITH_EXACT_FRONT:
        raise UserError(
            f"an exact front needs an enumerable space; '{space}' is not one of "
            f"{', '.join(SPACES_WITH_EXACT_FRONT)}"
        )
    if backend is not None and space not in backend.spaces:
        raise UserError(
            f"backend '{backend.name}' cannot evaluate space '{space}'; it supports "
            f"{', '.join(backend.spaces)}"
        )


def objective_matrix(
    dataset: str = "cifar10",
    objectives: str | Sequence[str] | Sequence[Objective] = "accuracy,latency",
    backend: HardwareBackend | None = None,
    space: str = "nb201",
) -> np.ndarray:
    """Minimisation matrix (15,625, k) of every cell, rows in benchmark index order."""
    objs = parse_objectives(objectives)
    _check(space, dataset, backend)
    key = _key(space, dataset, objs, backend)
    if key not in _MATRIX_CACHE:
        cols = [_column(o, dataset, backend) * o.sign for o in objs]
        matrix = np.column_stack(cols).astype(float)
        matrix.flags.writeable = False
        _MATRIX_CACHE[key] = matrix
    return _MATRIX_CACHE[key]


def objective_lookup(
    dataset: str = "cifar10",
    objectives: str | Sequence[str] | Sequence[Objective] = "accuracy,latency",
    backend: HardwareBackend | None = None,
    space: str = "nb201",
) -> Callable[[int], np.ndarray]:
    """Minimisation row of one cell by benchmark index, for searches that visit few cells.

    With table data for every objective this is a row of :func:`objective_matrix`; a
    measuring/simulating backend is asked only for the cells actually looked up."""
    objs = parse_objectives(objectives)
    _check(space, dataset, backend)
    tables = [_table_column(o, dataset) for o in objs]
    for o, t in zip(objs, tables, strict=True):
        if t is None:
            _needs_backend(o, backend)
    if all(
        t is not None or backend.all_values(o.metric) is not None
        for o, t in zip(objs, tables, strict=True)
    ):
        matrix = objective_matrix(dataset, objs, backend, space)
        return lambda i: matrix[i]
    cells = all_cells()
    sign = np.array([o.sign for o in objs])

    def lookup(i: int) -> np.ndarray:
        measured = backend.evaluate(cells[i])
        row = [measured[o.metric] if t is None else t[i] for o, t in zip(objs, tables, strict=True)]
        return np.array(row, dtype=float) * sign

    return lookup


def exact_front(
    space: str = "nb201",
    dataset: str = "cifar10",
    objectives: str | Sequence[str] | Sequence[Objective] = "accuracy,latency",
    backend: HardwareBackend | None = None,
) -> ExactFront:
    """The exact front over all cells, members sorted by the first objective (best first),
    ties by the next ones, then by index."""
    objs = parse_objectives(objectives)
    key = _key(space, dataset, objs, backend)
    if key not in _FRONT_CACHE:
        F_all = objective_matrix(dataset, objs, backend, space)
        idx = pareto_indices(F_all)
        order = np.lexsort((idx, *F_all[idx].T[::-1]))
        idx = idx[order]
        F = F_all[idx]
        ideal, nadir = ideal_nadir(F)
        cells = all_cells()
        _FRONT_CACHE[key] = ExactFront(
            space=space,
            dataset=dataset,
            objectives=tuple(objs),
            backend=getattr(backend, "name", ""),
            indices=idx,
            cells=tuple(cells[i] for i in idx),
            F=F,
            ideal=ideal,
            nadir=nadir,
        )
    return _FRONT_CACHE[key]
