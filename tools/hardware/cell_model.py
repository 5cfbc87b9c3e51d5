"""A hardware metric of every NB201 cell, predicted from the cells a user measured.

Latency (and energy) on a device is close to a sum of one term per (edge, operation), so
a ridge regression on the one-hot operation-per-edge encoding, fitted on a few dozen
measured cells, ranks the remaining cells well (``shared/docs/facts.md``). Devices differ
in what they actually run: some execute every edge as written, others (a runtime that
prunes dead branches, a benchmark that measured one member per isomorphism class and
copied it to the rest) execute a reduced graph. So three encodings of a cell are tried:

- ``edges``: the operation on each of the 6 edges as written;
- ``live edges``: an edge that carries no signal from the input to the output counts as
  ``none`` (what a runtime that removes dead branches executes);
- ``isomorphism class``: the edges of the class representative (what a table that copied
  one measured member to its whole class holds);

and the one with the lowest 5-fold cross-validated mean absolute error on the measured
cells is kept (scikit-learn ``RidgeCV``, its penalty chosen on the same cells). Predictions
are clipped at 0 (a latency or energy is never negative). Everything is seeded and
deterministic: the same measured cells give the same predictions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from agentnas.tools.spaces.nb201 import EDGES, N_CELLS, OPS, all_cells, live_ops, to_op_indices

MIN_MEASURED = 10  # fewer cells than this cannot fix 24 free (edge, operation) terms
ALPHAS = tuple(float(a) for a in np.logspace(-3, 2, 11))
CV_FOLDS = 5


@dataclass(frozen=True)
class CellModel:
    """What was fitted, for the run's summary: the encoding kept, its cross-validated mean
    absolute error (the metric's unit) and the cells it was fitted on."""

    metric: str
    encoding: str
    cv_mae: float
    n_measured: int

    def describe(self) -> str:
        return (
            f"ridge on one-hot operations per edge ({self.encoding}), fitted on "
            f"{self.n_measured} measured cells, 5-fold CV mean abs. error {self.cv_mae:.4g}"
        )


@cache
def encodings() -> dict[str, np.ndarray]:
    """Each encoding's (15,625, 6) operation-index matrix, rows in benchmark order."""
    from agentnas.tools.benchmark_tables import load_nb201

    edges = np.array([to_op_indices(c) for c in all_cells()], dtype=np.int64)
    live = np.array([live_ops(tuple(row)) for row in edges.tolist()], dtype=np.int64)
    iso = edges[load_nb201().iso_class]
    out = {"edges": edges, "live edges": live, "isomorphism class": iso}
    for matrix in out.values():
        matrix.flags.writeable = False
    return out


def _pipeline():
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    categories = [list(range(len(OPS)))] * len(EDGES)
    encoder = OneHotEncoder(categories=categories, sparse_output=False)  # dense: 30 columns
    return make_pipeline(encoder, RidgeCV(alphas=ALPHAS))


def predict_all(
    metric: str, indices: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, CellModel]:
    """Predicted ``metric`` of all 15,625 cells (benchmark order) from the measured
    ``values`` at benchmark ``indices``, and the model kept. Needs MIN_MEASURED cells."""
    from sklearn.model_selection import KFold, cross_val_score

    indices = np.asarray(indices, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if len(indices) < MIN_MEASURED:
        raise ValueError(f"need at least {MIN_MEASURED} measured cells, got {len(indices)}")
    folds = KFold(n_splits=min(CV_FOLDS, len(indices)), shuffle=True, random_state=0)
    best: tuple[float, str] | None = None
    for name, matrix in encodings().items():
        scores = cross_val_score(
            _pipeline(), matrix[indices], values, cv=folds, scoring="neg_mean_absolute_error"
        )
        mae = float(-scores.mean())
        if best is None or mae < best[0] - 1e-12:
            best = (mae, name)
    assert best is not None
    mae, name = best
    matrix = encodings()[name]
    model = _pipeline().fit(matrix[indices], values)
    predicted = np.clip(model.predict(matrix), 0.0, None)
    assert predicted.shape == (N_CELLS,)
    return predicted, CellModel(metric, name, mae, len(indices))
