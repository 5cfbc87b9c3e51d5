"""The NAS-Bench-201 ground truth shipped with agentnas (``tools/data/nb201.npz``).

Everything is an array indexed by the benchmark index 0..15,624 (see
``tools/data/NOTICE`` for sources, licences and citations; ``scripts/derive_nb201_data.py``
rebuilds the file from the raw tables). Loaded once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from agentnas.tools.errors import UserError

DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")
HWNASBENCH_DEVICES: tuple[str, ...] = ("eyeriss", "fpga", "pixel3", "raspi4")
PI5_RUNTIMES: tuple[str, ...] = ("litert", "onnx", "torchmobile")


@dataclass(frozen=True)
class NB201Tables:
    arch_str: np.ndarray  # str, benchmark order
    iso_class: np.ndarray  # int32: smallest index of the cell's isomorphism class
    acc200: dict[str, np.ndarray]  # dataset -> test accuracy (%), 200 epochs, mean of seeds
    acc12: dict[str, np.ndarray]  # dataset -> test accuracy (%), 12 epochs, one seed
    hwnasbench_latency_ms: dict[str, np.ndarray]  # device -> CIFAR-10 latency (ms)
    pi5_latency_ms: dict[str, np.ndarray]  # runtime -> median latency (ms), CIFAR-100 net
    pi5_energy_mj: dict[str, np.ndarray]  # runtime -> energy per inference (mJ)
    params_m: np.ndarray | None  # parameters (millions), CIFAR-10 head
    flops_m: np.ndarray | None  # FLOPs (millions, multiply-adds), CIFAR-10 head, 32x32

    def accuracy(self, dataset: str, epochs: int = 200) -> np.ndarray:
        table = self.acc200 if epochs == 200 else self.acc12 if epochs == 12 else None
        if table is None:
            raise UserError(f"accuracy is shipped for 12 or 200 epochs; got {epochs}")
        if dataset not in table:
            raise UserError(f"unknown dataset '{dataset}'; available: {', '.join(DATASETS)}")
        return table[dataset]


_PRELOADED: dict[str, NB201Tables] = {}  # tables a worker received from the object store


def preload_nb201(tables: NB201Tables) -> None:
    """Use ``tables`` (shipped to a worker once) instead of reading the file."""
    _PRELOADED["nb201"] = tables


def load_nb201() -> NB201Tables:
    if "nb201" in _PRELOADED:
        return _PRELOADED["nb201"]
    return _load_nb201()


@cache
def _load_nb201() -> NB201Tables:
    path = resources.files("agentnas.tools.data").joinpath("nb201.npz")
    with resources.as_file(path) as p, np.load(p, allow_pickle=False) as d:
        a = {k: d[k] for k in d.files}
    return NB201Tables(
        arch_str=a["arch_str"],
        iso_class=a["iso_class"],
        acc200={ds: a[f"acc200_{ds}"] for ds in DATASETS},
        acc12={ds: a[f"acc12_{ds}"] for ds in DATASETS},
        hwnasbench_latency_ms={d: a[f"hwnasbench_{d}_latency_ms"] for d in HWNASBENCH_DEVICES},
        pi5_latency_ms={r: a[f"pi5_{r}_latency_ms"] for r in PI5_RUNTIMES},
        pi5_energy_mj={r: a[f"pi5_{r}_energy_mj"] for r in PI5_RUNTIMES},
        params_m=a.get("params_m"),
        flops_m=a.get("flops_m"),
    )
