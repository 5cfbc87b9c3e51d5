"""Exact NB201 fronts: the published front sizes, exactness checked by brute force, caching,
3 objectives, and the accuracy sources."""

from __future__ import annotations

import numpy as np
import pytest

from agentnas.tools.accuracy import AccuracySource, TableAccuracy, get_accuracy_source
from agentnas.tools.benchmark_tables import load_nb201
from agentnas.tools.errors import UserError
from agentnas.tools.exact_front import exact_front, objective_matrix
from agentnas.tools.hardware.registry import get_backend
from agentnas.tools.spaces.nb201 import index_to_cell

# CIFAR-10 test accuracy (200 epochs, mean) vs HW-NAS-Bench latency: (cells, distinct points)
EXPECTED = {"eyeriss": (19, 16), "fpga": (16, 13), "pixel3": (44, 44), "raspi4": (43, 43)}


@pytest.mark.parametrize("device", list(EXPECTED))
def test_cifar10_latency_front_sizes(device: str) -> None:
    front = exact_front("nb201", "cifar10", "accuracy,latency", get_backend(f"hwnasbench:{device}"))
    assert (len(front), front.n_distinct) == EXPECTED[device]
    assert [o.name for o in front.objectives] == ["accuracy", "latency"]
    # members are stored with their own cell strings and natural values
    nat = front.natural()
    t = load_nb201()
    for i, cell, (acc, lat) in zip(front.indices, front.cells, nat, strict=True):
        assert cell == index_to_cell(int(i))
        assert acc == t.acc200["cifar10"][i] and lat == t.hwnasbench_latency_ms[device][i]
    assert front.ideal.tolist() == [-nat[:, 0].max(), nat[:, 1].min()]
    assert front.nadir.tolist() == [-nat[:, 0].min(), nat[:, 1].max()]
    assert np.all(np.diff(front.F[:, 0]) >= 0)  # best accuracy first


def _dominates(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise: a is no worse in every objective and better in one (minimisation)."""
    diff = np.atleast_2d(b - a)
    return np.all(diff >= 0, axis=1) & np.any(diff > 0, axis=1)


def test_front_is_exact_by_brute_force() -> None:
    backend = get_backend("hwnasbench:eyeriss")
    F = objective_matrix("cifar10", "accuracy,latency", backend)
    assert F.shape == (15_625, 2)
    front = exact_front("nb201", "cifar10", "accuracy,latency", backend)
    on_front = np.zeros(len(F), dtype=bool)
    on_front[front.indices] = True
    for f in front.F:  # no cell dominates a member
        assert not np.any(_dominates(F, f))
    dominated = np.zeros(len(F), dtype=bool)
    for f in front.F:  # every other cell is dominated by some member
        dominated |= _dominates(f, F)
    assert np.all(dominated | on_front) and not np.any(dominated & on_front)


def test_cache_and_three_objectives() -> None:
    b = get_backend("hwnasbench:fpga")
    assert exact_front("nb201", "cifar10", "accuracy,latency", b) is exact_front(
        "nb201", "cifar10", ["accuracy", "latency_ms"], get_backend("hwnasbench:fpga")
    )
    pi5 = get_backend("hwnb360:pi5-onnx")
    f3 = exact_front("nb201", "cifar100", "accuracy,latency,energy", pi5)
    assert f3.F.shape[1] == 3 and len(f3) > 16
    f2 = exact_front("nb201", "cifar100", "accuracy,latency", pi5)
    # each 2-objective member stays on the 3-objective front, or a cell with the same
    # (accuracy, latency) and less energy replaces it
    on3 = {tuple(f[:2]) for f in f3.F}
    assert all(tuple(f) in on3 for f in f2.F)


def test_bad_requests_are_refused() -> None:
    b = get_backend("hwnasbench:fpga")
    with pytest.raises(UserError, match="unknown dataset 'mnist'"):
        exact_front("nb201", "mnist", "accuracy,latency", b)
    with pytest.raises(UserError, match="energy_mj"):
        exact_front("nb201", "cifar10", "accuracy,energy", b)
    with pytest.raises(UserError, match="needs a hardware backend"):
        exact_front("nb201", "cifar10", "accuracy,latency", None)
    with pytest.raises(UserError, match="enumerable"):
        exact_front("photonic-mlp", "cifar10", "accuracy,latency", b)
    if load_nb201().params_m is None:  # not shipped in this checkout: refused, not invented
        with pytest.raises(UserError, match="params_m"):
            exact_front("nb201", "cifar10", "accuracy,params", None)
    else:
        assert len(exact_front("nb201", "cifar10", "accuracy,params", None)) >= 1


def test_accuracy_sources() -> None:
    src = get_accuracy_source("table", "cifar100")
    assert isinstance(src, AccuracySource) and isinstance(src, TableAccuracy)
    t = load_nb201()
    assert src.accuracy(index_to_cell(0)) == t.acc200["cifar100"][0]
    assert src.accuracy_many([index_to_cell(1), index_to_cell(2)]) == list(
        t.acc200["cifar100"][1:3]
    )
    assert TableAccuracy("cifar10", epochs=12).all_values()[5] == t.acc12["cifar10"][5]
    assert not src.all_values().flags.writeable
    with pytest.raises(UserError, match="12 or 200"):
        TableAccuracy("cifar10", epochs=50)
    with pytest.raises(UserError, match="unknown accuracy source 'oracle'"):
        get_accuracy_source("oracle")
    with pytest.raises(UserError, match="unknown dataset"):
        get_accuracy_source("table", "svhn")
