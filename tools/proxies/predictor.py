"""Zero-cost accuracy predictor: extremely randomised trees over proxies + the cell's graph.

An extra-trees regressor (scikit-learn ``ExtraTreesRegressor``) maps zero-cost proxies of
a cell and its graph features to its test accuracy (%); it is fitted on a small
calibration set of cells whose accuracy is known (default 150 drawn from the shipped
NAS-Bench-201 table) and then predicts any cell from its proxies and its graph alone.
Proxies are always measured on the CIFAR-10 network and the shipped CIFAR-10 images;
``dataset`` only picks the accuracy column the model learns (CIFAR-10, CIFAR-100 or
ImageNet16-120), so one proxy cache serves all three.

Features: the proxies in :data:`MODEL_PROXIES` (trees are invariant to monotone
transforms, so log or rank transforms change nothing) and the cell's graph features
(:mod:`agentnas.tools.proxies.cell_encoding`: live operation counts and what lies on each
input → output path), which cost nothing. ``grasp`` (a Hessian-vector product) and
``zen`` (two more passes) are left out of the default: together they cost more than the
other eleven proxies. Which model and features: ``scripts/predictor_tau.py`` measures
held-out Kendall τ from the shipped proxies; on 150 labelled cells extra trees ranked
better than the XGBoost model used before, and graph features better than op counts.
A degenerate cell (no open input → output path: its output is constant) is predicted at
chance accuracy and left out of the fit; the table is not read for it.

A saved model is JSON: what it was fitted on (cells, their proxies) and with what seed;
loading refits the trees (deterministic, well under a second), so no pickled object is
ever read. Written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agentnas.tools.atomic_io import write_text_atomic
from agentnas.tools.benchmark_tables import DATASETS, load_nb201
from agentnas.tools.errors import UserError
from agentnas.tools.proxies.cell_encoding import ENCODING_FEATURES, encoding_features
from agentnas.tools.proxies.proxies import PROXIES, check_proxy_names
from agentnas.tools.spaces.nb201 import (
    N_CELLS,
    all_cells,
    cell_to_index,
    is_degenerate,
    normalize,
)

MODEL_PROXIES: tuple[str, ...] = tuple(p for p in PROXIES if p not in ("grasp", "zen"))
FEATURES: tuple[str, ...] = (*MODEL_PROXIES, *ENCODING_FEATURES)  # the default feature set
CLASSES: dict[str, int] = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
MODEL_FORMAT = 2
TREE_PARAMS: dict[str, object] = {"n_estimators": 500, "max_features": 0.5, "n_jobs": 1}


def split_cells(n_calib: int, n_test: int = 0, seed: int = 0) -> tuple[list[str], list[str]]:
    """Disjoint seeded calibration and test cells from all 15,625.

    Calibration cells are the first ``n_calib`` of one seeded permutation and test cells
    its last ``n_test``, so the test set does not move when ``n_calib`` changes.
    """
    if n_calib < 10 or n_test < 0 or n_calib + n_test > N_CELLS:
        raise UserError(
            f"need 10 <= n_calib and n_calib + n_test <= {N_CELLS}; got {n_calib}, {n_test}"
        )
    perm = np.random.default_rng(seed).permutation(N_CELLS)
    cells = all_cells()
    calib = [cells[i] for i in perm[:n_calib]]
    test = [cells[i] for i in perm[N_CELLS - n_test :]] if n_test else []
    return calib, test


def true_accuracy(cells: Sequence[str], dataset: str = "cifar10") -> np.ndarray:
    """Table test accuracy (%, 200 epochs, mean of seeds) of each cell."""
    if dataset not in DATASETS:
        raise UserError(f"unknown dataset '{dataset}'; available: {', '.join(DATASETS)}")
    acc = load_nb201().accuracy(dataset, 200)
    return np.array([acc[cell_to_index(c)] for c in cells], dtype=np.float64)


def feature_matrix(
    cells: Sequence[str],
    proxies: Sequence[dict[str, float]],
    proxy_names: Sequence[str] = MODEL_PROXIES,
) -> np.ndarray:
    """One row per cell: the named proxies, then the cell's graph features."""
    rows = []
    for cell, values in zip(cells, proxies, strict=True):
        missing = [p for p in proxy_names if p not in values]
        if missing:
            raise UserError(f"proxies missing for {cell}: {', '.join(missing)}")
        rows.append(np.concatenate([[values[p] for p in proxy_names], encoding_features(cell)]))
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)


def chance_accuracy(dataset: str) -> float:
    """Test accuracy (%) of a network whose output does not depend on its input."""
    return 100.0 / CLASSES[dataset]


@dataclass
class ZeroCostPredictor:
    """A fitted extra-trees model and what it was fitted on."""

    dataset: str = "cifar10"
    n_calib: int = 0
    seed: int = 0
    batch_size: int = 32
    batch_digest: str = ""  # the proxy image batch the features were measured on
    proxy_names: tuple[str, ...] = MODEL_PROXIES  # a subset gives a cheaper, weaker predictor
    calibration: str = ""  # where the calibration proxies came from, in words
    model: object = field(default=None, repr=False)
    fitted_on: tuple[tuple[str, dict[str, float]], ...] = field(default=(), repr=False)

    @property
    def features(self) -> tuple[str, ...]:
        return (*self.proxy_names, *ENCODING_FEATURES)

    def fit(self, cells: Sequence[str], proxies: Sequence[dict[str, float]]) -> ZeroCostPredictor:
        """Fit on the calibration cells; degenerate ones are counted but not learned from
        (their accuracy is chance, see :meth:`predict`)."""
        from sklearn.ensemble import ExtraTreesRegressor

        if self.dataset not in CLASSES:
            raise UserError(f"unknown dataset '{self.dataset}'; available: {', '.join(DATASETS)}")
        self.proxy_names = check_proxy_names(self.proxy_names)
        cells = [normalize(c) for c in cells]
        x = feature_matrix(cells, proxies, self.proxy_names)
        y = true_accuracy(cells, self.dataset)
        live = np.array([not is_degenerate(c) for c in cells], dtype=bool)
        if live.sum() < 2:
            raise UserError("the zero-cost predictor needs at least 2 non-degenerate cells")
        self.model = ExtraTreesRegressor(**TREE_PARAMS, random_state=self.seed)
        self.model.fit(x[live], y[live])
        self.n_calib = len(cells)
        self.fitted_on = tuple(
            (c, {p: float(v[p]) for p in self.proxy_names})
            for c, v in zip(cells, proxies, strict=True)
        )
        return self

    def predict(self, cells: Sequence[str], proxies: Sequence[dict[str, float]]) -> np.ndarray:
        if self.model is None:
            raise UserError("the zero-cost predictor is not fitted; run 'agentnas predictor fit'")
        pred = np.asarray(
            self.model.predict(feature_matrix(cells, proxies, self.proxy_names)), dtype=np.float64
        )
        dead = np.array([is_degenerate(c) for c in cells], dtype=bool)
        return np.where(dead, chance_accuracy(self.dataset), pred)

    def save(self, path: Path) -> None:
        """Write the model as one JSON file (atomic): its settings and calibration data."""
        if self.model is None:
            raise UserError("cannot save an unfitted predictor")
        meta = {
            "format": MODEL_FORMAT,
            "features": list(self.features),
            "dataset": self.dataset,
            "n_calib": self.n_calib,
            "seed": self.seed,
            "batch_size": self.batch_size,
            "batch_digest": self.batch_digest,
            "calibration": self.calibration,
            "trees": TREE_PARAMS,
        }
        data = [{"arch": c, "values": v} for c, v in self.fitted_on]
        write_text_atomic(path, json.dumps({"agentnas_zero_cost": meta, "fitted_on": data}))

    @classmethod
    def load(cls, path: Path) -> ZeroCostPredictor:
        """Read a saved model and refit its trees on the calibration data it holds."""
        path = Path(path)
        stale = UserError(
            f"zero-cost predictor {path} was written by another version; refit it with "
            "'agentnas predictor fit'"
        )
        try:
            data = json.loads(path.read_text())
            meta = data["agentnas_zero_cost"]
            if meta.get("format") != MODEL_FORMAT:
                raise stale
            features = list(meta["features"])
            fitted_on = [(str(row["arch"]), dict(row["values"])) for row in data["fitted_on"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UserError(
                f"cannot read zero-cost predictor {path}: not a model written by "
                f"'agentnas predictor fit' ({type(exc).__name__})"
            ) from None
        names = tuple(f for f in features if f not in ENCODING_FEATURES)
        if (
            meta.get("trees") != TREE_PARAMS
            or not names
            or any(p not in PROXIES for p in names)
            or features != [*names, *ENCODING_FEATURES]
            or meta.get("dataset") not in CLASSES
        ):
            raise stale
        model = cls(
            dataset=meta["dataset"],
            seed=int(meta["seed"]),
            batch_size=int(meta["batch_size"]),
            batch_digest=str(meta.get("batch_digest", "")),
            calibration=str(meta.get("calibration", "")),
            proxy_names=names,
        )
        try:
            return model.fit([c for c, _ in fitted_on], [v for _, v in fitted_on])
        except (ValueError, TypeError) as exc:
            raise UserError(
                f"zero-cost predictor {path} holds bad calibration data: {exc}"
            ) from None
