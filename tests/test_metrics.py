"""Objectives, Pareto fronts, HV ratio and IGD on hand-checkable points and the real
CIFAR-10 / FPGA table."""

from __future__ import annotations

import numpy as np
import pytest

from agentnas.tools.benchmark_tables import load_nb201
from agentnas.tools.errors import UserError
from agentnas.tools.metrics import (
    REFERENCE,
    hv_ratio,
    hypervolume,
    igd,
    normalise,
    pareto_front,
    pareto_indices,
    prefix_scores,
)
from agentnas.tools.objectives import parse_objectives, to_dicts, to_min_matrix, to_natural


def test_parse_objectives_names_directions_and_errors() -> None:
    objs = parse_objectives("accuracy, latency")
    assert [(o.name, o.metric, o.direction) for o in objs] == [
        ("accuracy", "accuracy", "max"),
        ("latency", "latency_ms", "min"),
    ]
    assert [o.metric for o in parse_objectives(["accuracy", "energy_mj", "params"])] == [
        "accuracy",
        "energy_mj",
        "params_m",
    ]
    with pytest.raises(UserError, match=r"unknown objective 'speed'.*accuracy, latency"):
        parse_objectives("accuracy,speed")
    with pytest.raises(UserError, match="2 or 3"):
        parse_objectives("accuracy")
    with pytest.raises(UserError, match="2 or 3"):
        parse_objectives("accuracy,latency,energy,flops")
    with pytest.raises(UserError, match="twice"):
        parse_objectives("latency,latency_ms")


def test_min_matrix_negates_maxima_and_round_trips() -> None:
    objs = parse_objectives("accuracy,latency")
    rows = [{"accuracy": 93.5, "latency_ms": 2.0}, {"accuracy": 90.0, "latency_ms": 1.0}]
    F = to_min_matrix(rows, objs)
    assert F.tolist() == [[-93.5, 2.0], [-90.0, 1.0]]
    assert to_natural(F, objs).tolist() == [[93.5, 2.0], [90.0, 1.0]]
    assert to_dicts(F, objs) == rows
    with pytest.raises(UserError, match="latency_ms"):
        to_min_matrix([{"accuracy": 1.0}], objs)


def test_pareto_keeps_duplicates_and_drops_dominated() -> None:
    F = np.array([[1.0, 3.0], [2.0, 2.0], [2.0, 2.0], [3.0, 3.0], [3.0, 1.0], [1.0, 4.0]])
    # [3,3] is dominated by [2,2]; [1,4] by [1,3]; the two [2,2] do not dominate each other
    assert pareto_indices(F).tolist() == [0, 1, 2, 4]
    assert pareto_front(F).tolist() == [[1, 3], [2, 2], [2, 2], [3, 1]]


def test_normalise_and_hypervolume_by_hand() -> None:
    ideal, nadir = np.array([0.0, 10.0]), np.array([4.0, 20.0])
    assert normalise(np.array([[2.0, 15.0]]), ideal, nadir).tolist() == [[0.5, 0.5]]
    # a degenerate objective (ideal == nadir) is shifted, not divided by zero
    assert normalise(
        np.array([[1.0, 7.0]]), np.array([0.0, 5.0]), np.array([2.0, 5.0])
    ).tolist() == [[0.5, 2.0]]
    # (0,1) and (1,0) with reference 1.1: two 1.1 x 0.1 boxes overlapping in 0.1 x 0.1
    hv = hypervolume(np.array([[0.0, 1.0], [1.0, 0.0]]))
    margin = REFERENCE - 1.0
    assert hv == pytest.approx(2 * REFERENCE * margin - margin**2, abs=1e-12)
    assert hypervolume(np.array([[1.2, 0.0]])) == 0.0  # beyond the reference: no volume


def test_hv_ratio_and_igd_on_hand_front() -> None:
    exact = np.array([[0.0, 4.0], [1.0, 2.0], [2.0, 1.0], [4.0, 0.0]])
    assert hv_ratio(exact, exact) == pytest.approx(1.0)
    assert igd(exact, exact) == pytest.approx(0.0)
    subset = exact[[0, 3]]
    assert 0.0 < hv_ratio(subset, exact) < 1.0
    assert igd(subset, exact) > 0.0
    # adding dominated points changes neither indicator
    noisy = np.vstack([subset, [[5.0, 5.0], [4.0, 4.0]]])
    assert hv_ratio(noisy, exact) == pytest.approx(hv_ratio(subset, exact))
    assert igd(noisy, exact) == pytest.approx(igd(subset, exact))
    assert hv_ratio(np.empty((0, 2)), exact) == 0.0


def test_real_front_indicators() -> None:
    t = load_nb201()
    F = np.column_stack([-t.acc200["cifar10"], t.hwnasbench_latency_ms["fpga"]])
    exact = pareto_front(F)
    assert len(exact) == 16
    assert hv_ratio(exact, exact) == pytest.approx(1.0)
    assert igd(exact, exact) == pytest.approx(0.0, abs=1e-12)
    assert hv_ratio(F, exact) == pytest.approx(1.0)  # the whole space contains the front
    half = exact[::2]
    assert 0.5 < hv_ratio(half, exact) < 1.0
    assert igd(half, exact) > 0.0
    scores = prefix_scores(F[:2000], exact, [10, 100, 2000])
    hvs = [s[1] for s in scores]
    assert hvs == sorted(hvs) and all(0.0 < h <= 1.0 for h in hvs)
