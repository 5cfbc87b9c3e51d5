"""The agent loop on the photonic space: candidates trained on real digits, scored under
MZI non-idealities, with the energy breakdown and the electronic references in the files."""

from __future__ import annotations

import csv

from agentnas.graph.config import RunConfig
from agentnas.graph.runner import start_run


def test_photonic_run_writes_front_with_breakdown_and_references(tmp_path):
    cfg = RunConfig(
        space="photonic-mlp",
        dataset="digits",
        hardware="optical-mzi:realistic",
        budget=6,
        rounds=1,
        partitions=2,
        seed=0,
    )
    summary = start_run(cfg, tmp_path / "run")
    assert summary["objectives"] == ["accuracy", "energy_mj", "mzi_count"]
    assert summary["accuracy_source"] == "backend"
    assert summary["evaluations"] == 6
    with open(tmp_path / "run" / "front.csv") as fh:
        front = list(csv.DictReader(fh))
    assert front
    for row in front:
        # CSV values carry 4 significant digits: the parts add up to the total within that
        parts = sum(float(row[k]) for k in row if k.startswith("energy_") and k != "energy_nj")
        assert abs(parts - float(row["energy_nj"])) <= 1e-3 * float(row["energy_nj"])
        assert float(row["ref_cpu_energy_nj"]) > float(row["ref_gpu_energy_nj"]) > 0
        assert 50 < float(row["robust_accuracy_pct"]) <= 100  # real digits, above chance
        assert float(row["accuracy_pct"]) == float(row["robust_accuracy_pct"])
