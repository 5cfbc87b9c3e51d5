"""Where accuracy comes from: the benchmark table (an oracle) or a zero-cost predictor.

:class:`TableAccuracy` reads NAS-Bench-201 test accuracy (%, mean over seeds for 200
epochs, one seed for 12) from the table shipped in the repo; it is what exact fronts and
benchmarked searches use, because it is the ground truth the HV ratio is measured against.
The zero-cost source lives in :mod:`agentnas.tools.proxies` and is imported only when
asked for (it needs torch).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from agentnas.tools.benchmark_tables import DATASETS, load_nb201
from agentnas.tools.errors import UserError
from agentnas.tools.spaces.nb201 import cell_to_index

ACCURACY_SOURCES: tuple[str, ...] = ("table", "zero-cost")


@runtime_checkable
class AccuracySource(Protocol):
    """Scores an architecture string with a test accuracy in % (0..100)."""

    name: str

    def accuracy(self, arch: str) -> float: ...

    def accuracy_many(self, archs: Iterable[str]) -> list[float]: ...


class TableAccuracy:
    """NAS-Bench-201 test accuracy (%) from the shipped table (oracle).

    ``epochs`` is 200 (mean of the benchmark's seeds) or 12 (one seed, the cheap proxy
    the benchmark also reports).
    """

    def __init__(self, dataset: str = "cifar10", epochs: int = 200) -> None:
        self._values = load_nb201().accuracy(dataset, epochs)  # refuses bad dataset/epochs
        self.dataset = dataset
        self.epochs = epochs
        self.name = f"table:{dataset}@{epochs}"

    def accuracy(self, arch: str) -> float:
        return float(self._values[cell_to_index(arch)])

    def accuracy_many(self, archs: Iterable[str]) -> list[float]:
        return [float(self._values[cell_to_index(a)]) for a in archs]

    def all_values(self) -> np.ndarray:
        """Accuracy (%) of all 15,625 cells in benchmark index order (read-only view)."""
        view = self._values.view()
        view.flags.writeable = False
        return view


def get_accuracy_source(name: str, dataset: str = "cifar10", **kw: Any) -> AccuracySource:
    """``"table"`` -> :class:`TableAccuracy`; ``"zero-cost"`` -> the proxies' predictor."""
    if dataset not in DATASETS:
        raise UserError(f"unknown dataset '{dataset}'; available: {', '.join(DATASETS)}")
    if name == "table":
        return TableAccuracy(dataset, **kw)
    if name == "zero-cost":
        module = "agentnas.tools.proxies.accuracy_source"
        try:
            cls = importlib.import_module(module).ZeroCostAccuracy
        except (ModuleNotFoundError, AttributeError) as exc:
            if isinstance(exc, ModuleNotFoundError) and exc.name not in (module, None):
                raise  # a real missing dependency inside the module is a bug, not ours
            raise UserError(
                "accuracy source 'zero-cost' is not available yet in this checkout; use 'table'"
            ) from None
        return cls(dataset=dataset, **kw)
    raise UserError(f"unknown accuracy source '{name}'; available: {', '.join(ACCURACY_SOURCES)}")
