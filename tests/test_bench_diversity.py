"""Front diversity and composition figures of the photonic bench (pure functions)."""

from __future__ import annotations

import math

import pytest

from agentnas.bench.diversity import composition, knobs, run_diversity, stages

A = "mlp:h=64-32|act=relu|mesh=clements|k=16|bits=8|nat=1"
B = "mlp:h=16|act=tanh|mesh=reck|k=8|bits=4|nat=0"
C = "mlp:h=16|act=relu|mesh=clements|k=8|bits=4|nat=1"


def test_knobs_and_stages_follow_the_mesh_geometry():
    assert knobs(A) == {"h": "64-32", "act": "relu", "mesh": "clements", "k": "16",
                        "bits": "8", "nat": "1"}  # fmt: skip
    assert stages(knobs(A)) == 16  # Clements: N columns
    assert stages(knobs(B)) == 13  # Reck: 2N - 3


def test_run_diversity_counts_distinct_choices_and_energy_decades():
    metrics = [{"energy_mj": 1e-3}, {"energy_mj": 1e-5}, {"energy_mj": 1e-4}]
    d = run_diversity([A, B, C], metrics)
    assert d == {"front_size": 3, "mesh_types": 2, "widths": 2, "precisions": 2,
                 "energy_decades": pytest.approx(2.0)}  # fmt: skip
    assert run_diversity([A], [{"energy_mj": 1.0}])["energy_decades"] == 0.0


def test_composition_of_a_front():
    comp = composition([A, B, C])
    assert comp["members"] == 3
    assert comp["mean_bits"] == pytest.approx(16 / 3)
    assert comp["share_reck"] == pytest.approx(1 / 3)
    assert comp["share_nat"] == pytest.approx(2 / 3)
    assert comp["mean_layers"] == pytest.approx(4 / 3)
    assert math.isclose(comp["mean_stages"], (16 + 13 + 8) / 3)
    assert composition([]) == {}
