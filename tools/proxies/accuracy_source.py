"""``--accuracy zero-cost``: test accuracy (%) predicted from zero-cost proxies.

:class:`ZeroCostAccuracy` satisfies :class:`agentnas.tools.accuracy.AccuracySource`. On
first use it loads the fitted predictor from ``model_path`` (default: a file in the proxy
cache folder named after dataset, calibration size and seed) or, when there is none,
fits one on ``n_calib`` seeded cells with known table accuracy and saves it there, so a
later run starts at once. The default calibration set's proxies ship with the package
(:mod:`agentnas.tools.proxies.calibration`), so even a first run on empty caches fits in
about a second; other calibration sizes or seeds score their cells first (on-disk cache
when possible).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from agentnas.tools.benchmark_tables import DATASETS
from agentnas.tools.errors import UserError
from agentnas.tools.proxies.cache import cache_dir
from agentnas.tools.proxies.calibration import shipped_calibration
from agentnas.tools.proxies.data import proxy_batch
from agentnas.tools.proxies.parallel import score_cells
from agentnas.tools.proxies.predictor import MODEL_PROXIES, ZeroCostPredictor, split_cells
from agentnas.tools.proxies.scoring import PROXY_BATCH_SIZE, score_cell
from agentnas.tools.spaces.nb201 import normalize


def default_model_path(dataset: str, n_calib: int, seed: int) -> Path:
    return cache_dir() / f"predictor-{dataset}-n{n_calib}-s{seed}.json"


def fit_predictor(
    dataset: str = "cifar10",
    n_calib: int = 150,
    seed: int = 0,
    workers: int | None = None,
    progress: bool = True,
) -> ZeroCostPredictor:
    """Fit the XGBoost predictor on ``n_calib`` seeded calibration cells: from the shipped
    calibration proxies when they are the ones asked for (about a second), else by scoring
    the cells here (about a second of one core per cell)."""
    if dataset not in DATASETS:
        raise UserError(f"unknown dataset '{dataset}'; available: {', '.join(DATASETS)}")
    digest = proxy_batch(PROXY_BATCH_SIZE, seed).digest
    model = ZeroCostPredictor(
        dataset=dataset, seed=seed, batch_size=PROXY_BATCH_SIZE, batch_digest=digest
    )
    shipped = shipped_calibration(n_calib, seed, PROXY_BATCH_SIZE, digest)
    if shipped is not None:
        model.calibration = shipped.describe()
        return model.fit(list(shipped.cells), list(shipped.proxies))
    calib, _ = split_cells(n_calib, 0, seed)
    proxies = score_cells(calib, MODEL_PROXIES, seed=seed, workers=workers, progress=progress)
    model.calibration = f"{n_calib} calibration cells, proxies scored on this machine"
    return model.fit(calib, proxies)


class ZeroCostAccuracy:
    """Predicted test accuracy (%) of NB201 cells from zero-cost proxies and their graph."""

    name = "zero-cost"

    def __init__(
        self,
        dataset: str = "cifar10",
        n_calib: int = 150,
        seed: int = 0,
        model_path: str | Path | None = None,
        workers: int | None = None,
        progress: bool = False,
    ) -> None:
        if dataset not in DATASETS:
            raise UserError(f"unknown dataset '{dataset}'; available: {', '.join(DATASETS)}")
        self.dataset = dataset
        self.n_calib = int(n_calib)
        self.seed = int(seed)
        self.model_path = Path(model_path) if model_path is not None else None
        self.workers = workers
        self.progress = progress
        self._model: ZeroCostPredictor | None = None

    @property
    def model(self) -> ZeroCostPredictor:
        """The fitted predictor: loaded if saved, else fitted now and saved."""
        if self._model is None:
            path = self.model_path or default_model_path(self.dataset, self.n_calib, self.seed)
            saved = self._saved(path) if path.exists() else None
            if saved is not None:
                self._model = saved
                self.seed = saved.seed
            else:
                self._model = fit_predictor(
                    self.dataset, self.n_calib, self.seed, self.workers, self.progress
                )
                self._model.save(path)
        return self._model

    def _saved(self, path: Path) -> ZeroCostPredictor | None:
        """The model at ``path`` if it fits this run. A file the user named must fit (one
        clear error otherwise); a default one that does not (another dataset, image batch
        or version) is refitted."""
        named = self.model_path is not None
        try:
            model = ZeroCostPredictor.load(path)
        except UserError:
            if named:
                raise
            return None
        digest = proxy_batch(model.batch_size, model.seed).digest
        if named and model.dataset != self.dataset:
            raise UserError(f"predictor {path} was fitted for {model.dataset}, not {self.dataset}")
        if named and model.batch_digest != digest:
            raise UserError(
                f"predictor {path} was fitted on another proxy image batch; "
                "refit it with 'agentnas predictor fit'"
            )
        return model if model.dataset == self.dataset and model.batch_digest == digest else None

    def describe(self) -> dict[str, object]:
        """What summary.json states of the predictor: its labelled data and its source."""
        model = self.model
        return {
            "calibration_cells": model.n_calib,
            "calibration": model.calibration or f"{model.n_calib} calibration cells",
            "dataset": model.dataset,
            "table_accuracy_used": "only that of the calibration cells (the predictor's "
            "labelled data); every accuracy the search saw was predicted",
        }

    @property
    def batch_size(self) -> int:
        """Images per proxy batch: the fitted model's, else the default."""
        return self._model.batch_size if self._model is not None else PROXY_BATCH_SIZE

    @property
    def proxy_names(self) -> tuple[str, ...]:
        """The proxies the predictor reads: the fitted model's, else the default set."""
        return self._model.proxy_names if self._model is not None else MODEL_PROXIES

    def proxies(self, arch: str) -> dict[str, float]:
        """The raw values of the predictor's proxies for ``arch`` (cached)."""
        self.model  # noqa: B018  (load or fit first: it fixes the proxies and the batch)
        return score_cell(
            normalize(arch), self.proxy_names, batch_size=self.batch_size, seed=self.seed
        )

    def accuracy(self, arch: str) -> float:
        cell = normalize(arch)
        self.model  # noqa: B018  (load or fit first: it fixes the proxy batch)
        return self._predict([cell], [self.proxies(cell)])[0]

    def predict_from(self, arch: str, proxies: dict[str, float]) -> float:
        """Predicted accuracy (%) of ``arch`` from proxies measured elsewhere (a worker)."""
        return self._predict([normalize(arch)], [proxies])[0]

    def accuracy_many(self, archs: Iterable[str]) -> list[float]:
        cells = [normalize(a) for a in archs]
        if not cells:
            return []
        self.model  # noqa: B018  (load or fit first: it fixes the proxy batch)
        proxies = score_cells(
            cells,
            self.proxy_names,
            batch_size=self.batch_size,
            seed=self.seed,
            workers=self.workers,
            progress=self.progress,
        )
        return self._predict(cells, proxies)

    def _predict(self, cells: list[str], proxies: list[dict[str, float]]) -> list[float]:
        pred = np.clip(self.model.predict(cells, proxies), 0.0, 100.0)
        return [float(v) for v in pred]
