"""``--accuracy zero-cost`` end to end: the search sees only predicted accuracy; the run
reports the front's HV ratio on true (table) accuracy next to predicted values."""

from __future__ import annotations

import csv

import pytest

from agentnas.graph.config import RunConfig
from agentnas.graph.runner import start_run


@pytest.mark.slow
def test_zero_cost_run_reports_true_accuracy_of_its_front(tmp_path):
    cfg = RunConfig(hardware="hwnasbench:fpga", accuracy="zero-cost", budget=30, rounds=3)
    summary = start_run(cfg, tmp_path / "run")
    assert summary["accuracy_source"] == "zero-cost"
    # the labelled data is stated: the shipped calibration set's 150 cells
    assert summary["zero_cost_predictor"]["calibration_cells"] == 150
    assert "shipped" in summary["zero_cost_predictor"]["calibration"]
    assert 0.3 < summary["hv_ratio"] <= 1.0
    assert summary["hv_ratio"] <= summary["hv_ratio_true_selection"] + 1e-12
    with open(tmp_path / "run" / "front.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all("true_accuracy" in r for r in rows)
    # predicted and true accuracy are different numbers for the same cells
    assert any(abs(float(r["accuracy"]) - float(r["true_accuracy"])) > 1e-6 for r in rows)
