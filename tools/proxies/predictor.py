"""Zero-cost accuracy predictor: gradient-boosted trees over the 13 proxies + op counts.

As in PEL-NAS, an XGBoost regressor maps the NAS-Bench-Suite-Zero proxies of a cell to
its test accuracy (%); it is fitted on a small calibration set of cells whose accuracy
is known (default 150 drawn from the shipped NAS-Bench-201 table) and then predicts any
cell from its proxies alone. Proxies are always measured on the CIFAR-10 network and the
shipped CIFAR-10 images; ``dataset`` only picks the accuracy column the model learns
(CIFAR-10, CIFAR-100 or ImageNet16-120), so one proxy cache serves all three.

Features: the 13 raw proxies (trees are invariant to monotone transforms, so synflow's
huge range needs no log) and the five op counts. Saved models are JSON (XGBoost's own
format) plus a small metadata header, written atomically.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agentnas.tools.atomic_io import write_text_atomic
from agentnas.tools.benchmark_tables import DATASETS, load_nb201
from agentnas.tools.errors import UserError
from agentnas.tools.proxies.proxies import PROXIES, check_proxy_names
from agentnas.tools.spaces.nb201 import N_CELLS, OPS, all_cells, cell_to_index, op_counts

OP_FEATURES: tuple[str, ...] = tuple(f"n_{op}" for op in OPS)
FEATURES: tuple[str, ...] = (*PROXIES, *OP_FEATURES)  # the default feature set
MODEL_FORMAT = 1
XGB_PARAMS: dict[str, object] = {
    "n_estimators": 400,
    "max_depth": 4,
    "learning_rate": 0.05,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 2,
    "n_jobs": 1,
    "tree_method": "hist",
}


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
    proxy_names: Sequence[str] = PROXIES,
) -> np.ndarray:
    """One row per cell: the named proxies, then the five op counts."""
    rows = []
    for cell, values in zip(cells, proxies, strict=True):
        counts = op_counts(cell)
        missing = [p for p in proxy_names if p not in values]
        if missing:
            raise UserError(f"proxies missing for {cell}: {', '.join(missing)}")
        rows.append([values[p] for p in proxy_names] + [counts[f] for f in OP_FEATURES])
    return np.asarray(rows, dtype=np.float64)


@dataclass
class ZeroCostPredictor:
    """A fitted XGBoost model and what it was fitted on."""

    dataset: str = "cifar10"
    n_calib: int = 0
    seed: int = 0
    batch_size: int = 32
    batch_digest: str = ""  # the proxy image batch the features were measured on
    proxy_names: tuple[str, ...] = PROXIES  # a subset gives a cheaper, weaker predictor
    calibration: str = ""  # where the calibration proxies came from, in words
    model: object = field(default=None, repr=False)

    @property
    def features(self) -> tuple[str, ...]:
        return (*self.proxy_names, *OP_FEATURES)

    def fit(self, cells: Sequence[str], proxies: Sequence[dict[str, float]]) -> ZeroCostPredictor:
        from xgboost import XGBRegressor

        self.proxy_names = check_proxy_names(self.proxy_names)
        x = feature_matrix(cells, proxies, self.proxy_names)
        y = true_accuracy(cells, self.dataset)
        self.model = XGBRegressor(**XGB_PARAMS, random_state=self.seed)
        self.model.fit(x, y)
        self.n_calib = len(cells)
        return self

    def predict(self, cells: Sequence[str], proxies: Sequence[dict[str, float]]) -> np.ndarray:
        if self.model is None:
            raise UserError("the zero-cost predictor is not fitted; run 'agentnas predictor fit'")
        return np.asarray(
            self.model.predict(feature_matrix(cells, proxies, self.proxy_names)), dtype=np.float64
        )

    def save(self, path: Path) -> None:
        """Write the model as one JSON file (atomic)."""
        if self.model is None:
            raise UserError("cannot save an unfitted predictor")
        with tempfile.TemporaryDirectory() as scratch:  # XGBoost saves to a path only
            tmp = Path(scratch) / "model.json"
            self.model.save_model(tmp)
            booster = json.loads(tmp.read_text())
        meta = {
            "format": MODEL_FORMAT,
            "features": list(self.features),
            "dataset": self.dataset,
            "n_calib": self.n_calib,
            "seed": self.seed,
            "batch_size": self.batch_size,
            "batch_digest": self.batch_digest,
            "calibration": self.calibration,
        }
        write_text_atomic(path, json.dumps({"agentnas_zero_cost": meta, "xgboost": booster}))

    @classmethod
    def load(cls, path: Path) -> ZeroCostPredictor:
        from xgboost import XGBRegressor

        path = Path(path)
        try:
            data = json.loads(path.read_text())
            meta = data["agentnas_zero_cost"]
            booster = data["xgboost"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UserError(
                f"cannot read zero-cost predictor {path}: not a model written by "
                f"'agentnas predictor fit' ({type(exc).__name__})"
            ) from None
        features = meta.get("features") if isinstance(meta, dict) else None
        names = tuple(f for f in features or () if f not in OP_FEATURES)
        if (
            meta.get("format") != MODEL_FORMAT
            or not names
            or any(p not in PROXIES for p in names)
            or list(features) != [*names, *OP_FEATURES]
        ):
            raise UserError(
                f"zero-cost predictor {path} was written by another version; refit it with "
                "'agentnas predictor fit'"
            )
        model = XGBRegressor()
        model.load_model(bytearray(json.dumps(booster).encode()))
        return cls(
            dataset=meta["dataset"],
            n_calib=int(meta["n_calib"]),
            seed=int(meta["seed"]),
            batch_size=int(meta["batch_size"]),
            batch_digest=str(meta.get("batch_digest", "")),
            calibration=str(meta.get("calibration", "")),
            proxy_names=names,
            model=model,
        )
