"""The default predictor's calibration proxies, shipped so a first run starts at once, and
held-out cells' proxies, shipped so the predictor's ranking can be measured at once.

``tools/data/zero_cost_calibration.json`` (derived by
``scripts/derive_zero_cost_calibration.py``) holds the 13 proxies of the cells
``split_cells(n_calib, 0, seed)`` draws, measured on the image batch a run uses. Fitting
the predictor from it needs no proxy computation, only the table accuracy of those cells
(the predictor's labelled calibration set). It is used only where it matches what the run
asks for exactly: the same calibration size, seed, batch size and image-batch digest.
The torch version it was measured with is recorded; proxies are deterministic functions of
seeded weights and fixed images, so another torch version is accepted and named.

``tools/data/zero_cost_heldout.json`` (same script) holds the predictor's proxies of the
500 test cells ``split_cells(150, 500, seed)`` draws, disjoint from the calibration cells.
Nothing fits on them; :func:`held_out_taus` ranks them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from agentnas.tools.errors import UserError
from agentnas.tools.proxies.predictor import split_cells
from agentnas.tools.proxies.proxies import PROXIES

FILE = "zero_cost_calibration.json"
HELDOUT_FILE = "zero_cost_heldout.json"
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
def _read(name: str = FILE) -> ShippedCalibration | None:
    """A shipped file, or None when it is absent or not what this version writes."""
    path = resources.files("agentnas.tools.data").joinpath(name)
    try:
        data = json.loads(path.read_text())
        names = [str(p) for p in data["proxies"]]
        if data.get("format") != FORMAT or any(p not in PROXIES for p in names):
            return None
        cells = tuple(str(c["arch"]) for c in data["cells"])
        proxies = tuple({p: float(c["values"][p]) for p in names} for c in data["cells"])
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
    if shipped is None or any(set(PROXIES) - set(p) for p in shipped.proxies):
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


def shipped_heldout() -> ShippedCalibration | None:
    """The shipped held-out cells (the default calibration's test cells), or None."""
    calib = _read()
    held = _read(HELDOUT_FILE)
    if (
        calib is None
        or held is None
        or (held.seed, held.batch_digest)
        != (
            calib.seed,
            calib.batch_digest,
        )
    ):
        return None
    if set(held.cells) & set(calib.cells):
        return None
    return held


def held_out_taus(
    dataset: str = "cifar10",
    splits: int = 10,
    n_labelled: int = 150,
    proxy_names: tuple[str, ...] | None = None,
) -> tuple[float, list[float]]:
    """Kendall τ of predicted vs table accuracy on held-out cells, from shipped proxies.

    Returns τ of the default predictor (fitted on the shipped calibration cells, ranking
    the shipped held-out cells) and τ for ``splits`` seeded random draws of ``n_labelled``
    labelled cells from the pool of both files, each ranking the pool's other cells.
    """
    from scipy.stats import kendalltau

    from agentnas.tools.proxies.predictor import MODEL_PROXIES, ZeroCostPredictor, true_accuracy

    calib, held = _read(), shipped_heldout()
    if calib is None or held is None:
        raise UserError(f"the shipped {FILE} and {HELDOUT_FILE} are needed; see their script")
    names = tuple(proxy_names or MODEL_PROXIES)
    cells = [*calib.cells, *held.cells]
    proxies = [*calib.proxies, *held.proxies]
    truth = true_accuracy(cells, dataset)
    if not 10 <= n_labelled <= len(cells) - 10:
        raise UserError(f"n_labelled must be in 10..{len(cells) - 10}; got {n_labelled}")

    def tau(train: np.ndarray, test: np.ndarray, seed: int) -> float:
        model = ZeroCostPredictor(dataset=dataset, seed=seed, proxy_names=names)
        model.fit([cells[i] for i in train], [proxies[i] for i in train])
        pred = model.predict([cells[i] for i in test], [proxies[i] for i in test])
        return float(kendalltau(pred, truth[test]).statistic)

    n_calib = len(calib.cells)
    default = tau(np.arange(n_calib), np.arange(n_calib, len(cells)), calib.seed)
    taus = []
    for s in range(splits):
        order = np.random.default_rng(s).permutation(len(cells))
        taus.append(tau(order[:n_labelled], order[n_labelled:], s))
    return default, taus
