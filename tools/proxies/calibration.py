"""The default predictor's calibration proxies, shipped so a first run starts at once.

``tools/data/zero_cost_calibration.json`` (derived by
``scripts/derive_zero_cost_calibration.py``) holds the 13 proxies of the cells
``split_cells(n_calib, 0, seed)`` draws, measured on the image batch a run uses. Fitting
the predictor from it needs no proxy computation, only the table accuracy of those cells
(the predictor's labelled calibration set). It is used only where it matches what the run
asks for exactly: the same calibration size, seed, batch size and image-batch digest.
The torch version it was measured with is recorded; proxies are deterministic functions of
seeded weights and fixed images, so another torch version is accepted and named.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from agentnas.tools.proxies.predictor import split_cells
from agentnas.tools.proxies.proxies import PROXIES

FILE = "zero_cost_calibration.json"
FORMAT = 1


@dataclass(frozen=True)
class ShippedCalibration:
    """Calibration cells (in ``split_cells`` order) and their proxies."""

    cells: tuple[str, ...]
    proxies: tuple[dict[str, float], ...]
    n_calib: int
    seed: int
    batch_size: int
    batch_digest: str
    torch: str

    def describe(self) -> str:
        return (
            f"{len(self.cells)} calibration cells, proxies shipped in tools/data/{FILE} "
            f"(torch {self.torch}); their table accuracy is the predictor's labelled data"
        )


@cache
def _read() -> ShippedCalibration | None:
    """The shipped file, or None when it is absent or not what this version writes."""
    path = resources.files("agentnas.tools.data").joinpath(FILE)
    try:
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT or list(data["proxies"]) != list(PROXIES):
            return None
        cells = tuple(str(c["arch"]) for c in data["cells"])
        proxies = tuple({p: float(c["values"][p]) for p in PROXIES} for c in data["cells"])
        return ShippedCalibration(
            cells=cells,
            proxies=proxies,
            n_calib=int(data["n_calib"]),
            seed=int(data["seed"]),
            batch_size=int(data["batch_size"]),
            batch_digest=str(data["batch_digest"]),
            torch=str(data.get("torch", "?")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def shipped_calibration(
    n_calib: int, seed: int, batch_size: int, batch_digest: str
) -> ShippedCalibration | None:
    """The shipped calibration when it is exactly the one asked for, else None."""
    shipped = _read()
    if shipped is None:
        return None
    same = (shipped.n_calib, shipped.seed, shipped.batch_size, shipped.batch_digest) == (
        n_calib,
        seed,
        batch_size,
        batch_digest,
    )
    if not same or shipped.cells != tuple(split_cells(n_calib, 0, seed)[0]):
        return None
    return shipped
