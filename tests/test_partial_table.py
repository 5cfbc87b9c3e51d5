"""A new device from a few measurements: ``table:PATH`` holding only some cells is searched
with the rest predicted, every predicted value is labelled, the front's predicted cells are
listed for measurement, and HV ratio is scored against the full table only when given."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

import agentnas
from agentnas.cli import main
from agentnas.tools.errors import UserError
from agentnas.tools.hardware.cell_model import MIN_MEASURED
from agentnas.tools.hardware.registry import get_backend
from agentnas.tools.spaces.nb201 import N_CELLS, all_cells

FPGA = "hwnasbench:fpga"


def partial_table(path: Path, rows: np.ndarray, device: str = FPGA) -> Path:
    latency = get_backend(device).all_values("latency_ms")
    lines = ["arch_idx,latency_ms"] + [f"{i},{float(latency[i])!r}" for i in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def seeded_rows(n: int, seed: int = 0) -> np.ndarray:
    return np.sort(np.random.default_rng(seed).choice(N_CELLS, n, replace=False))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_measured_cells_kept_others_predicted_and_labelled(tmp_path: Path) -> None:
    rows = seeded_rows(50)
    backend = get_backend(f"table:{partial_table(tmp_path / 'p.csv', rows)}")
    true = get_backend(FPGA).all_values("latency_ms")
    cells = all_cells()
    assert backend.predicted_metrics == ("latency_ms",)
    assert backend.n_measured == 50
    inside, outside = cells[int(rows[3])], cells[int(np.setdiff1d(np.arange(N_CELLS), rows)[7])]
    assert backend.evaluate(inside)["latency_ms"] == true[rows[3]]  # measured: as given
    assert backend.metric_sources(inside) == {"latency_ms": "measured"}
    assert backend.metric_sources(outside) == {"latency_ms": "predicted"}
    # FPGA latency is additive over (edge, op): 50 cells rank the other 15,575 well
    predicted = np.array([m["latency_ms"] for m in backend.evaluate_many(cells)])
    assert spearmanr(predicted, true)[0] > 0.99
    assert np.all(predicted >= 0)
    assert backend.all_values("latency_ms") is None  # no exact front without a reference
    assert backend.reference_metrics(outside) == {}
    notes = backend.prediction_notes()
    assert notes["measured_cells"] == 50 and "ridge" in notes["models"]["latency_ms"]


def test_reference_scores_against_the_full_table(tmp_path: Path) -> None:
    table = partial_table(tmp_path / "p.csv", seeded_rows(40))
    backend = get_backend(f"table:{table}", reference=FPGA)
    true = get_backend(FPGA).all_values("latency_ms")
    assert np.array_equal(backend.all_values("latency_ms"), true)
    cell = all_cells()[123]
    assert backend.reference_metrics(cell) == {"latency_ms": float(true[123])}
    full_csv = partial_table(tmp_path / "full.csv", np.arange(N_CELLS))
    by_path = get_backend(f"table:{table}", reference=str(full_csv))
    assert np.array_equal(by_path.all_values("latency_ms"), true)


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("nope.csv", "neither a CSV file nor a backend name"),
        ("hwnasbench:nope", "unknown HW-NAS-Bench device"),
        ("SELF", "must hold all"),
    ],
)
def test_bad_reference_is_one_line(tmp_path: Path, reference: str, message: str) -> None:
    table = partial_table(tmp_path / "p.csv", seeded_rows(30))
    if reference == "SELF":  # another partial table is no reference
        reference = str(partial_table(tmp_path / "q.csv", seeded_rows(30, 1)))
    with pytest.raises(UserError, match=message) as info:
        get_backend(f"table:{table}", reference=reference)
    assert "\n" not in str(info.value)


def test_reference_needs_a_partial_table(tmp_path: Path) -> None:
    small = partial_table(tmp_path / "s.csv", seeded_rows(MIN_MEASURED - 1))
    with pytest.raises(UserError, match="nothing is predicted"):
        get_backend(f"table:{small}", reference=FPGA)
    # a table too small to predict from still refuses the cells it lacks
    backend = get_backend(f"table:{small}")
    outside = all_cells()[int(np.setdiff1d(np.arange(N_CELLS), seeded_rows(9))[0])]
    with pytest.raises(UserError, match=f"at least {MIN_MEASURED} measured cells"):
        backend.evaluate(outside)


def test_no_exact_front_is_claimed_for_a_partial_table(tmp_path: Path, capsys) -> None:
    table = partial_table(tmp_path / "p.csv", seeded_rows(30))
    assert main(["front", "--hardware", f"table:{table}"]) == 2
    assert "no exact front" in capsys.readouterr().err


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, agentnas.SearchResult]:
    """The same seeded search on a partial table without and with the full reference.
    The table holds every cell but 3,000 random ones, so measured and predicted
    evaluations both occur."""
    root = tmp_path_factory.mktemp("partial")
    hidden = seeded_rows(3000, 2)
    table = partial_table(root / "t.csv", np.setdiff1d(np.arange(N_CELLS), hidden))
    settings = {"budget": 18, "rounds": 2, "seed": 3, "partitions": 3}
    return {
        "plain": agentnas.search(hardware=f"table:{table}", out=root / "plain", **settings),
        "scored": agentnas.search(
            hardware=f"table:{table}",
            out=root / "scored",
            backend_options={"reference": FPGA},
            **settings,
        ),
        "hidden": {all_cells()[int(i)] for i in hidden},
    }


def test_run_labels_every_value_and_lists_front_cells_to_measure(runs) -> None:
    run, hidden = runs["plain"], runs["hidden"]
    cands = read_csv(run.run_dir / "candidates.csv")
    assert len(cands) == 18
    labels = {r["arch"]: r["latency_source"] for r in cands}
    assert labels == {a: "predicted" if a in hidden else "measured" for a in labels}
    assert set(labels.values()) == {"measured", "predicted"}
    front = read_csv(run.run_dir / "front.csv")
    assert all(r["latency_source"] == labels[r["arch"]] for r in front)
    assert "true_latency_ms" not in front[0]
    info = run.summary["predicted_hardware"]
    assert info["front_to_measure"] == [a for a in run.archs if a in hidden]
    assert info["evaluations_predicted"] == sum(a in hidden for a in labels)
    assert info["reference"].startswith("none")
    assert run.summary["hv_ratio"] is None  # no exact front to measure against


def test_reference_gives_true_latency_and_hv_ratio(runs) -> None:
    run, plain = runs["scored"], runs["plain"]
    assert run.archs == plain.archs  # the reference only scores; the search is the same
    true = get_backend(FPGA)
    front = read_csv(run.run_dir / "front.csv")
    for r in front:
        assert float(r["true_latency_ms"]) == pytest.approx(
            true.evaluate(r["arch"])["latency_ms"], rel=1e-3
        )
    assert 0 < run.summary["hv_ratio"] <= 1
    assert FPGA in run.summary["predicted_hardware"]["reference"]


def test_cli_lists_cells_to_measure_last(tmp_path: Path, capsys) -> None:
    table = partial_table(tmp_path / "p.csv", seeded_rows(30))
    args = ["run", "--hardware", f"table:{table}", "--budget", "12", "--rounds", "1"]
    assert main([*args, "--partitions", "2", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    cells = summary["predicted_hardware"]["front_to_measure"]
    assert cells and "to measure" in out
    tail = [line.strip() for line in out.rstrip().splitlines()[-len(cells) :]]
    assert tail == cells


def test_bench_search_runs_the_agent_on_a_partial_table(tmp_path: Path) -> None:
    """The bench scores a partial table against its reference's exact front (true
    latency of every point kept beside the predicted one)."""
    table = partial_table(tmp_path / "p.csv", seeded_rows(50))
    out = tmp_path / "bench"
    args = ["bench", "search", "--devices", f"table:{table}", "--budgets", "12", "--seeds",
            "1", "--rounds", "1", "--methods", "agent,random", "--backend-option",
            f"reference={FPGA}", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    rows = read_csv(out / "results.csv")
    assert {r["method"] for r in rows} == {"agent", "random"}
    assert all(0 < float(r["hv_ratio"]) <= 1 for r in rows)
    assert f"exact front of the reference {FPGA}" in (out / "results.md").read_text()
    points = read_csv(next((out / "runs" / "agent").rglob("points.csv")))
    true = get_backend(FPGA)
    for p in points:  # CSV values carry 4 significant digits
        expected = true.evaluate(p["arch"])["latency_ms"]
        assert float(p["true_latency_ms"]) == pytest.approx(expected, rel=1e-3)


@pytest.mark.slow
def test_fifty_measured_cells_find_the_pi5_front(tmp_path: Path) -> None:
    """The issue's goal: all but 50 rows of the Pi 5 (ONNX Runtime) table hidden, a
    100-evaluation search, its front scored with the device's true latency: HV ratio
    >= 0.95, and within 0.02 of the same search on the full table."""
    device = "hwnb360:pi5-onnx"
    table = partial_table(tmp_path / "p.csv", seeded_rows(50), device)
    common = {"budget": 100, "seed": 0, "objectives": "accuracy,latency"}
    partial = agentnas.search(
        hardware=f"table:{table}",
        out=tmp_path / "partial",
        backend_options={"reference": device},
        **common,
    )
    full = agentnas.search(hardware=device, out=tmp_path / "full", **common)
    assert partial.summary["hv_ratio"] >= 0.95
    assert partial.summary["hv_ratio"] >= full.summary["hv_ratio"] - 0.02
