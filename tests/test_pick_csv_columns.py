"""``pick`` reads conditions in the CSV files' own columns and units (``energy_nj`` on
photonic-mlp), and the hint printed at the end of a run names a column of its
``front.csv`` with a bound that keeps some front members and not all."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from agentnas.commands.run import results_help
from agentnas.graph.pick import parse_conditions, pick
from agentnas.graph.run_record import RunRecord
from agentnas.tools.csv_units import cell, column
from agentnas.tools.errors import UserError
from agentnas.tools.objectives import parse_objectives

PHOTONIC = "photonic-mlp"
# internal units: energy in mJ (photonic designs are tens of nJ), accuracy in %
OPTICAL_CELLS = [
    ("mlp:h=16|act=tanh|mesh=clements|k=16|bits=8|nat=1", 82.0, 8.65e-6, 1200.0),
    ("mlp:h=32|act=tanh|mesh=clements|k=16|bits=8|nat=1", 87.4, 1.73e-5, 2400.0),
    ("mlp:h=64|act=tanh|mesh=clements|k=8|bits=8|nat=1", 92.7, 3.85e-5, 4480.0),
    ("mlp:h=64-128|act=tanh|mesh=clements|k=8|bits=8|nat=1", 94.9, 1.08e-4, 12544.0),
]


def _record(tmp_path: Path, space: str, cells: list[dict]) -> RunRecord:
    objectives = parse_objectives([m for m in cells[0]["metrics"]])
    return RunRecord(
        run_dir=tmp_path, config={"space": space}, objectives=objectives, events=[],
        cells=cells, partitions=[], partition_feature="width_sum", rounds=[], heuristics={},
    )  # fmt: skip


def _optical(tmp_path: Path) -> RunRecord:
    cells = [
        {"arch": a, "status": "ok", "partition": 0, "round": 0,
         "metrics": {"accuracy": acc, "energy_mj": e, "mzi_count": n}}
        for a, acc, e, n in OPTICAL_CELLS
    ]  # fmt: skip
    return _record(tmp_path, PHOTONIC, cells)


def _write_front(run_dir: Path, record: RunRecord, space: str) -> None:
    """front.csv as a run writes it: the space's column names, 4 significant digits."""
    metrics = list(record.cells[0]["metrics"])
    with (run_dir / "front.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["arch", *(column(m, space)[0] for m in metrics)])
        for c in record.cells:
            w.writerow([c["arch"], *(cell(m, c["metrics"][m], space) for m in metrics)])


def test_csv_columns_and_their_units_select_the_same_cells(tmp_path):
    record = _optical(tmp_path)
    same = ["energy_nj < 20", "energy_mj < 2e-5", "energy < 20 nJ", "energy < 20000 pJ"]
    picked = {pick(record, parse_conditions(w, record))["arch"] for w in same}
    assert picked == {OPTICAL_CELLS[1][0]}  # the most accurate design under 20 nJ
    both = parse_conditions("accuracy_pct > 90 and energy_nj <= 40", record)
    assert pick(record, both)["arch"] == OPTICAL_CELLS[2][0]
    with pytest.raises(UserError, match="energy_nj"):  # the error lists the CSV names too
        parse_conditions("power < 3", record)


def _where(text: str) -> str:
    return text.split("--where '")[1].split("'")[0]


def test_the_optical_hint_names_a_front_column_and_filters_the_front(tmp_path):
    record = _optical(tmp_path)
    _write_front(tmp_path, record, PHOTONIC)
    where = _where(results_help(tmp_path, ["accuracy", "energy_mj", "mzi_count"], PHOTONIC))
    name = where.split()[0]
    with (tmp_path / "front.csv").open(newline="") as fh:
        assert name in next(csv.reader(fh))  # a column the user sees in front.csv
    assert name == "energy_nj"
    conds = parse_conditions(where, record)
    kept = [c for c in record.cells if all(k.holds(c["metrics"]) for k in conds)]
    assert 0 < len(kept) < len(record.cells), (where, kept)
    assert pick(record, conds)["arch"] in {c["arch"] for c in kept}


def test_the_nb201_hint_bounds_latency_from_its_front(tmp_path):
    lat = [0.9, 1.4, 2.6, 4.1, 6.0]
    cells = [
        {"arch": f"cell{i}", "status": "ok", "partition": 0, "round": 0,
         "metrics": {"accuracy": 80.0 + i, "latency_ms": v}}
        for i, v in enumerate(lat)
    ]  # fmt: skip
    record = _record(tmp_path, "nb201", cells)
    _write_front(tmp_path, record, "nb201")
    where = _where(results_help(tmp_path, ["accuracy", "latency_ms"], "nb201"))
    assert where.startswith("latency_ms < ")
    conds = parse_conditions(where, record)
    kept = [v for v in lat if all(k.holds({"latency_ms": v}) for k in conds)]
    assert 0 < len(kept) < len(lat)


def test_without_a_front_the_hint_falls_back_to_accuracy(tmp_path):
    assert _where(results_help(tmp_path, ["accuracy", "energy_mj"], PHOTONIC)) == "accuracy > 90"
