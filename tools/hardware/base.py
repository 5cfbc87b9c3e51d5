"""What every hardware backend is: a name, the metrics it can back with data, and
``evaluate(arch) -> {metric: value}``.

A backend refuses (``UserError``) any metric or architecture it holds no data for, so a
search can never run on invented numbers. Metric names carry their unit
(``latency_ms``, ``energy_mj``, ``mzi_count``, …) so that values from different backends
are never mixed up.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

import numpy as np
from pydantic import BaseModel

from agentnas.tools.errors import UserError


class BackendInfo(BaseModel):
    """One line of ``agentnas hardware list``."""

    name: str  # e.g. "hwnasbench:fpga"
    metrics: list[str]  # e.g. ["latency_ms"]
    spaces: list[str]  # search spaces it can evaluate, e.g. ["nb201"]
    source: str  # where the numbers come from (paper/table/simulator), one line
    available: bool = True
    why_unavailable: str = ""


class HardwareBackend(ABC):
    """A device (real table, measurement or simulator) that scores architectures."""

    name: str
    metrics: tuple[str, ...]
    spaces: tuple[str, ...]
    # metrics this backend gives from a model for some cells (a partial table's latency):
    # runs label each such value measured|predicted (see metric_sources)
    predicted_metrics: tuple[str, ...] = ()
    # where true values of the predicted metrics come from when the user gave them (e.g.
    # the device's full table); None: the predictions cannot be scored
    reference: str | None = None

    @abstractmethod
    def evaluate(self, arch: str) -> dict[str, float]:
        """Return every metric of ``self.metrics`` for one architecture string."""

    def evaluate_many(self, archs: Iterable[str]) -> list[dict[str, float]]:
        """Batch evaluation; table backends override this with a vectorised lookup."""
        return [self.evaluate(a) for a in archs]

    def all_values(self, metric: str) -> np.ndarray | None:
        """Values of ``metric`` for every architecture of an enumerable space, in index
        order (NB201: 15,625), or None when the backend must measure/simulate each one.
        Table backends override this so exact fronts cost one vector lookup."""
        return None

    def metric_sources(self, arch: str) -> dict[str, str]:
        """``{metric: "measured" | "predicted"}`` for each of :attr:`predicted_metrics`."""
        return {}

    def prediction_notes(self) -> dict[str, object]:
        """How the predicted metrics are predicted (for summary.json); {} if none are."""
        return {}

    def reference_metrics(self, arch: str) -> dict[str, float]:
        """True values of the predicted metrics from :attr:`reference` ({} without one)."""
        return {}

    def require(self, metrics: Iterable[str]) -> None:
        """Refuse, listing what is available, if a requested metric is not backed."""
        missing = [m for m in metrics if m not in self.metrics]
        if missing:
            raise UserError(
                f"backend '{self.name}' has no data for {', '.join(missing)}; "
                f"it provides: {', '.join(self.metrics)}"
            )
