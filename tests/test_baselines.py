"""Baselines: exact distinct-evaluation budgets, determinism, and HV ratios in the band the
reference runs report (random@100 ≈ 0.87, NSGA-II@500 ≈ 0.99 on CIFAR-10 vs FPGA latency)."""

from __future__ import annotations

import numpy as np
import pytest

from agentnas.tools.baselines import (
    METHODS,
    BudgetExhausted,
    DistinctEvaluator,
    run_baseline,
    run_seeds,
)
from agentnas.tools.benchmark_tables import load_nb201
from agentnas.tools.errors import UserError
from agentnas.tools.exact_front import exact_front, objective_matrix
from agentnas.tools.hardware.base import HardwareBackend
from agentnas.tools.hardware.registry import get_backend
from agentnas.tools.spaces.nb201 import cell_to_index

FPGA = "hwnasbench:fpga"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("budget", [7, 100, 137])
def test_budget_is_exactly_distinct_evaluations(method: str, budget: int) -> None:
    r = run_baseline(method, budget, seed=3, backend=FPGA)
    assert len(r.indices) == budget == len(set(r.indices.tolist()))
    assert len(r.cells) == budget
    # rows are the true table values of the cells, in evaluation order
    matrix = objective_matrix("cifar10", "accuracy,latency", get_backend(FPGA))
    assert np.array_equal(r.F, matrix[r.indices])


@pytest.mark.parametrize("method", METHODS)
def test_runs_are_deterministic_per_seed(method: str) -> None:
    a = run_baseline(method, 60, seed=5, backend=FPGA)
    b = run_baseline(method, 60, seed=5, backend=FPGA)
    c = run_baseline(method, 60, seed=6, backend=FPGA)
    assert a.indices.tolist() == b.indices.tolist() != c.indices.tolist()


def test_evaluator_counts_first_lookups_only() -> None:
    ev = DistinctEvaluator(lambda i: np.array([float(i)]), budget=2)
    for i in (4, 4, 9):
        ev(i)
    assert ev.order == [4, 9] and ev.remaining == 0 and ev(4).tolist() == [4.0]
    with pytest.raises(BudgetExhausted):
        ev(10)


def test_random_search_at_100_matches_the_reference_band() -> None:
    s = run_seeds("random", 100, range(10), backend=FPGA)
    assert 0.80 < s.hv_mean < 0.95  # reference: about 0.87
    assert all(0.0 < h < 1.0 for h in s.hv_ratios) and all(g > 0 for g in s.igds)


def test_nsga2_at_500_nearly_recovers_the_front() -> None:
    backend = get_backend(FPGA)
    nsga = run_seeds("nsga2", 500, range(4), backend=backend)
    rand = run_seeds("random", 500, range(4), backend=backend)
    assert nsga.hv_mean > 0.975  # reference: about 0.99
    assert nsga.hv_mean > rand.hv_mean and nsga.igd_mean < rand.igd_mean


def test_prefix_scores_grow_with_budget() -> None:
    backend = get_backend(FPGA)
    exact = exact_front("nb201", "cifar10", "accuracy,latency", backend)
    r = run_baseline("re", 300, seed=1, backend=backend)
    hv = [r.hv_ratio(exact, n) for n in (20, 100, 300)]
    assert hv == sorted(hv) and hv[-1] == r.hv_ratio(exact)
    front = r.front_indices()
    assert set(front.tolist()) <= set(r.indices.tolist())


def test_three_objectives_and_bad_input() -> None:
    r = run_baseline("nsga2", 50, 0, "cifar100", "accuracy,latency,energy", "hwnb360:pi5-onnx")
    assert r.F.shape == (50, 3)
    with pytest.raises(UserError, match="unknown baseline method 'bo'"):
        run_baseline("bo", 10, backend=FPGA)
    with pytest.raises(UserError, match="budget"):
        run_baseline("random", 0, backend=FPGA)
    with pytest.raises(UserError, match="unknown hardware backend"):
        run_baseline("random", 10, backend="nope:x")


class _CountingBackend(HardwareBackend):
    """FPGA latencies served one cell at a time (no ``all_values``), like a measuring
    backend, counting how many cells it is asked for."""

    name, metrics, spaces = "counting-fpga", ("latency_ms",), ("nb201",)

    def __init__(self) -> None:
        self.asked: list[str] = []
        self._lat = load_nb201().hwnasbench_latency_ms["fpga"]

    def evaluate(self, arch: str) -> dict[str, float]:
        self.asked.append(arch)
        return {"latency_ms": float(self._lat[cell_to_index(arch)])}


def test_measuring_backend_is_asked_only_for_visited_cells() -> None:
    backend = _CountingBackend()
    r = run_baseline("nsga2", 80, seed=2, backend=backend)
    assert len(backend.asked) == 80 == len(set(backend.asked))
    assert list(r.cells) == backend.asked
    table = run_baseline("nsga2", 80, seed=2, backend=FPGA)
    assert np.array_equal(r.F, table.F)  # same values, same search, whichever lookup path


def test_exact_front_of_a_measuring_backend_evaluates_every_cell() -> None:
    backend = _CountingBackend()
    front = exact_front("nb201", "cifar10", "accuracy,latency", backend)
    assert len(backend.asked) == 15_625
    assert (len(front), front.n_distinct) == (16, 13)
