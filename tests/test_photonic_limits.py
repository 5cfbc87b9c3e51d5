"""Physical limits (infeasible designs), phase-shifter technologies, CSV units, and robust
accuracy that does not depend on the executor."""

from __future__ import annotations

import csv
import json
import math

import pytest

from agentnas.graph.config import RunConfig
from agentnas.graph.context import RunContext
from agentnas.graph.runner import start_run
from agentnas.tools.errors import UserError
from agentnas.tools.evaluation import Evaluator
from agentnas.tools.executor import LocalExecutor, ProcessExecutor
from agentnas.tools.hardware.registry import get_backend
from agentnas.tools.photonic.energy import (
    MAX_LASER_DBM,
    SHIFTERS,
    EnergyConstants,
    InfeasibleDesign,
    LayerSpec,
    check_feasible,
    laser_power_dbm,
)
from agentnas.tools.photonic.nonideal import preset

DEEP = "mlp:h=64|act=relu|mesh=clements|k=32|bits=8|nat=0"  # 65 MZIs on the longest path
SMALL = "mlp:h=16|act=relu|mesh=clements|k=8|bits=8|nat=0"


def test_laser_ceiling_refuses_deep_lossy_meshes_and_only_them():
    spec = LayerSpec(in_features=64, out_features=64, mesh="clements", block_size=32)
    worst = preset("worst-case")
    assert laser_power_dbm(spec, EnergyConstants(), worst.insertion_loss_db) > MAX_LASER_DBM
    with pytest.raises(InfeasibleDesign) as err:
        check_feasible([spec], None, worst)
    assert err.value.kind == "infeasible" and "dBm" in str(err.value)
    check_feasible([spec], None, preset("ideal"))  # lossless: the same mesh is fine
    check_feasible([spec], EnergyConstants(max_laser_dbm=80.0), worst)  # the limit decides
    small = LayerSpec(in_features=64, out_features=64, mesh="clements", block_size=8)
    check_feasible([small], None, worst)


def test_chip_power_limit_is_optional_and_refuses_thermo_heaters():
    spec = LayerSpec(in_features=784, out_features=16, mesh="clements", block_size=8)
    check_feasible([spec])  # off by default
    with pytest.raises(InfeasibleDesign, match="W limit"):
        check_feasible([spec], EnergyConstants(max_chip_power_w=270.0))
    check_feasible([spec], EnergyConstants(heater_p_pi_mw=0.0, max_chip_power_w=270.0))


def test_infeasible_design_is_an_outcome_not_a_number():
    ev = Evaluator("photonic-mlp", "digits", "optical-mzi:worst-case", ["accuracy", "energy"])
    with pytest.raises(InfeasibleDesign):
        ev.backend.hardware_metrics(DEEP)
    out = ev.evaluate_many([DEEP], LocalExecutor())[0]
    assert not out.ok and out.kind == "infeasible" and out.value is None
    assert out.attempts == 1  # a refusal is not retried


def test_shifter_technologies_by_name_and_option():
    thermo = get_backend("optical-mzi:realistic", dataset="digits").hardware_metrics(SMALL)
    for name, (p_pi, source) in SHIFTERS.items():
        assert source  # every technology says where its number comes from
        by_name = get_backend(f"optical-mzi:realistic+{name}", dataset="digits")
        by_option = get_backend("optical-mzi:realistic", dataset="digits", shifter=name)
        a, b = by_name.hardware_metrics(SMALL), by_option.hardware_metrics(SMALL)
        assert a == b
        assert math.isclose(a["energy_heaters_mj"], thermo["energy_heaters_mj"] * p_pi / 30.0)
        assert (a["energy_mj"] < thermo["energy_mj"]) == (p_pi < 30.0)
    with pytest.raises(UserError, match="unknown phase shifter"):
        get_backend("optical-mzi:realistic+steam", dataset="digits")
    with pytest.raises(UserError, match="given twice"):
        get_backend("optical-mzi:realistic+pcm", dataset="digits", shifter="eo")


def test_worst_case_run_lists_infeasible_designs_and_writes_units(tmp_path, monkeypatch):
    # with the backend's instant lookup, refused seeds are redrawn and the offline
    # Designer drops refused children, so no infeasible design reaches an evaluation;
    # without it (a backend that can only refuse when asked to evaluate) they do
    monkeypatch.setattr(RunContext, "hardware_lookup", lambda self: None)
    cfg = RunConfig(
        space="photonic-mlp",
        dataset="digits",
        hardware="optical-mzi:worst-case",
        budget=10,
        rounds=2,
        partitions=2,
        seed=1,
        backend_options={"draws": 2, "epochs": 1},
    )
    start_run(cfg, tmp_path / "r", executor="local")
    with open(tmp_path / "r" / "candidates.csv") as fh:
        rows = list(csv.DictReader(fh))
    with open(tmp_path / "r" / "front.csv") as fh:
        front = list(csv.DictReader(fh))
    infeasible = [r for r in rows if r["status"] == "infeasible"]
    ok = {r["arch"] for r in rows if r["status"] == "ok"}
    assert infeasible and ok
    for r in infeasible:
        assert r["energy_nj"] == "" and r["robust_accuracy_pct"] == ""  # never a number
        assert "dBm" in r["rationale"]
    assert {r["arch"] for r in front} <= ok
    # units in every optical column name, 4 significant digits, counts as integers
    header = list(front[0])
    for name in ("energy_nj", "latency_ns", "robust_accuracy_pct", "degradation_pp"):
        assert name in header
    assert not [h for h in header if h.endswith(("_mj", "_ms"))]
    for r in front:
        assert r["mzi_count"].isdigit()
        for k in ("energy_nj", "energy_heaters_nj", "latency_ns", "robust_accuracy_pct"):
            digits = r[k].replace("-", "").replace(".", "").lstrip("0")
            assert len(digits.rstrip("0") or "0") <= 4, (k, r[k])
    # the trace keeps the internal unit (mJ) in full: the CSV is the same number in nJ
    trace = [json.loads(line) for line in (tmp_path / "r" / "trace.jsonl").open()]
    mj = {e["arch"]: e["metrics"]["energy_mj"] for e in trace if e.get("event") == "evaluation"}
    for r in front:
        assert math.isclose(float(r["energy_nj"]), mj[r["arch"]] * 1e6, rel_tol=1e-3)


def test_robust_accuracy_does_not_depend_on_the_executor():
    ev = Evaluator(
        "photonic-mlp",
        "digits",
        "optical-mzi:realistic",
        ["accuracy", "energy"],
        backend_options={"draws": 3, "epochs": 1, "cache": False},
    )
    here = ev.evaluate_many([SMALL], LocalExecutor())[0]
    with ProcessExecutor(1) as pool:
        there = ev.evaluate_many([SMALL], pool)[0]
    assert here.ok and there.ok
    assert there.value["robust_accuracy"] == here.value["robust_accuracy"]
    assert there.value == here.value
