"""``rounds.csv``, CSV rounding and ``agentnas report``: the plots draw the numbers of
front.csv / rounds.csv / candidates.csv (checked on the artists' data, not on pixels),
and the command the report names reproduces the run."""

from __future__ import annotations

import csv
import re
import shlex
import shutil

import numpy as np
import pytest

from agentnas.cli import main
from agentnas.graph.artifacts import ROUND_COLUMNS
from agentnas.graph.report_data import parse_constraints, read_report_data
from agentnas.graph.report_plots import (
    front_figure,
    indicators_figure,
    partitions_figure,
)
from agentnas.graph.run_record import load_run
from agentnas.graph.trace import read_trace
from agentnas.tools.atomic_io import round_sig


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def run_copy(small_run, tmp_path):
    """A private copy: the report writes into the run folder."""
    d = tmp_path / "run"
    shutil.copytree(small_run, d)
    return d


def _artist(fig, gid):
    found = [
        a
        for ax in fig.axes
        for a in [*ax.lines, *ax.collections, *ax.patches]
        if a.get_gid() == gid
    ]
    assert found, f"no artist with gid {gid!r}"
    return found


def test_rounds_csv_has_one_row_per_round(small_run):
    rows = _rows(small_run / "rounds.csv")
    selects = [e for e in read_trace(small_run / "trace.jsonl") if e["event"] == "select"]
    assert list(rows[0])[: len(ROUND_COLUMNS)] == list(ROUND_COLUMNS)
    assert [int(r["round"]) for r in rows] == [e["round"] for e in selects] == [0, 1, 2, 3]
    assert [int(r["evaluations"]) for r in rows] == [e["evaluations"] for e in selects]
    assert sum(int(r["new_evaluations"]) for r in rows) == int(rows[-1]["evaluations"]) == 40
    for r, e in zip(rows, selects, strict=True):
        assert float(r["hv_ratio"]) == pytest.approx(e["hv_ratio"], rel=1e-3)
        assert int(r["front_size"]) == e["front_size"]
        assert r["constraint"] == ""  # none set in this run
        assert int(r["llm_calls"]) == 0 and int(r["prompt_tokens"]) == 0


def _significant(text: str) -> int:
    whole, frac = text.lstrip("-").split(".")
    return len((whole + frac.rstrip("0")).lstrip("0"))


@pytest.mark.parametrize("name", ["candidates.csv", "front.csv", "rounds.csv"])
def test_csv_floats_have_at_most_4_significant_digits(small_run, name):
    checked = 0
    for row in _rows(small_run / name):
        for k, v in row.items():
            if re.fullmatch(r"-?\d+\.\d+", v or ""):
                whole = len(v.lstrip("-").split(".")[0].lstrip("0"))
                assert _significant(v) <= max(4, whole), (name, k, v)
                checked += 1
    assert checked


def test_round_sig_keeps_what_the_source_holds():
    assert round_sig(89.52999999999999) == 89.53
    assert round_sig(1.5) == 1.5
    assert round_sig(15625.3) == 15625
    assert round_sig(0.000123456) == 0.0001235
    assert round_sig(-3.14159) == -3.142
    assert np.isnan(round_sig(float("nan")))


def test_front_plot_draws_front_csv_and_each_rounds_front(small_run):
    record = load_run(small_run)
    data = read_report_data(record)
    fig = front_figure(data)
    front = _rows(small_run / "front.csv")
    pts = _artist(fig, "front.csv")[0].get_offsets()
    want = np.array([[float(r["latency_ms"]), float(r["accuracy"])] for r in front])
    assert np.allclose(pts, want)
    cands = {r["arch"]: r for r in _rows(small_run / "candidates.csv")}
    for sel in record.rounds[:-1]:  # earlier rounds: the trace's members, CSV values
        line = _artist(fig, f"front-r{sel['round']}")[0]
        got = sorted(zip(line.get_xdata(), line.get_ydata(), strict=True))
        exp = sorted(
            (float(cands[a]["latency_ms"]), float(cands[a]["accuracy"])) for a in sel["front"]
        )
        assert np.allclose(got, exp)
    # the exact front is known for fpga: drawn, and no found point beats it
    exact = _artist(fig, "exact")[0]
    assert len(exact.get_xdata()) > len(front)


def test_indicator_and_partition_plots_draw_the_csvs(small_run):
    data = read_report_data(load_run(small_run))
    rows = _rows(small_run / "rounds.csv")
    fig = indicators_figure(data)
    for key in ("hv_ratio", "igd"):
        line = _artist(fig, key)[0]
        assert list(line.get_xdata()) == [int(r["round"]) for r in rows]
        assert np.allclose(line.get_ydata(), [float(r[key]) for r in rows])
    cands = _rows(small_run / "candidates.csv")
    fig = partitions_figure(data)
    heights: dict[str, float] = {}
    for r in sorted({int(c["round"]) for c in cands}):
        for bar in _artist(fig, f"evaluations-r{r}"):
            x = round(bar.get_x() + bar.get_width() / 2)
            heights[x] = heights.get(x, 0) + bar.get_height()
    parts = sorted({int(c["partition"]) for c in cands})
    assert [heights[i] for i in range(len(parts))] == [
        sum(1 for c in cands if int(c["partition"]) == p) for p in parts
    ]


def test_constraint_in_rounds_csv_is_drawn(run_copy):
    path = run_copy / "rounds.csv"
    rows = _rows(path)
    rows[-1]["constraint"] = "latency_ms < 3"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    front = _rows(run_copy / "front.csv")
    inside = [r for r in front if float(r["latency_ms"]) < 3]
    with open(run_copy / "front_constrained.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(front[0]))
        w.writeheader()
        w.writerows(inside)
    data = read_report_data(load_run(run_copy))
    assert [c.text for c in data.constraints] == ["latency_ms < 3"]
    fig = front_figure(data)
    line = _artist(fig, "constraint:latency_ms < 3")[0]
    assert list(line.get_xdata()) == [3, 3]  # a vertical line at 3 ms
    pts = _artist(fig, "front_constrained.csv")[0].get_offsets()
    assert np.allclose(pts, [[float(r["latency_ms"]), float(r["accuracy"])] for r in inside])
    assert parse_constraints("energy <= 5; accuracy >= 93")[0].metric == "energy_mj"


def test_report_writes_markdown_and_pngs(run_copy, capsys):
    assert main(["report", str(run_copy)]) == 0
    text = (run_copy / "report.md").read_text()
    for png in ("front.png", "indicators.png", "partitions.png"):
        data = (run_copy / "plots" / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
        assert f"(plots/{png})" in text
    front = _rows(run_copy / "front.csv")
    assert all(r["arch"].replace("|", "\\|") in text for r in front)
    assert "HV ratio" in text and "agentnas run --space nb201" in text


@pytest.mark.slow
def test_report_command_reproduces_the_run(run_copy, tmp_path):
    assert main(["report", str(run_copy)]) == 0
    text = (run_copy / "report.md").read_text()
    cmd = next(line for line in text.splitlines() if line.startswith("agentnas run "))
    args = shlex.split(cmd)[1:]
    out = tmp_path / "again"
    args[args.index("--out") + 1] = str(out)
    assert main(args) == 0
    assert _rows(out / "candidates.csv") == _rows(run_copy / "candidates.csv")


@pytest.mark.slow
def test_report_command_reproduces_a_steered_chat(tmp_path):
    """A chat steered at two pauses (with a question and small talk in between): the
    report names ``agentnas chat … --script RUN/steering.txt``, and that command gives
    the same candidates.csv and the same steering at the same rounds."""
    script = tmp_path / "s.txt"
    script.write_text(
        "keep latency under 3 ms\nwhy was f1 chosen?\nhello\ncontinue\n"
        "no avg pools near the output\n",
        encoding="utf-8",
    )
    run = tmp_path / "chat"
    small = ["--hardware", "hwnasbench:fpga", "--budget", "30", "--rounds", "3", "--seed", "2"]
    assert main(["chat", "--out", str(run), "--script", str(script), *small]) == 0
    lines = (run / "steering.txt").read_text(encoding="utf-8").splitlines()
    assert lines == ["keep latency under 3 ms", "continue", "no avg pools near the output"]
    assert main(["report", str(run)]) == 0
    text = (run / "report.md").read_text()
    cmd = next(line for line in text.splitlines() if line.startswith("agentnas chat "))
    args = shlex.split(cmd)[1:]
    assert args[args.index("--script") + 1] == str(run / "steering.txt")
    out = tmp_path / "again"
    args[args.index("--out") + 1] = str(out)
    assert main(args) == 0

    def steers(d):
        return [(e["round"], e["command"]) for e in read_trace(d / "trace.jsonl")
                if e["event"] == "steer"]  # fmt: skip

    assert [r for r, _ in steers(run)] == [0, 2]
    assert steers(out) == steers(run)
    assert _rows(out / "candidates.csv") == _rows(run / "candidates.csv")


@pytest.mark.slow
def test_report_command_replays_the_steering_of_an_autonomous_run(tmp_path):
    """``agentnas run`` steered through steer.jsonl (``agentnas steer``): a constraint
    before round 1 and an avoid rule that arrives after round 1. The report writes the
    traced actions as steering.txt and names ``agentnas chat … --script`` it; that command
    applies them at the same rounds and gives the same candidates.csv."""
    import json

    from agentnas.graph.config import RunConfig
    from agentnas.graph.runner import start_run

    run = tmp_path / "auto"
    run.mkdir()
    steer = run / "steer.jsonl"
    steer.write_text(json.dumps({"action": "constrain", "metric": "latency_ms", "op": "<",
                                 "value": 3}) + "\n")  # fmt: skip
    later = {"action": "avoid", "op": "avg_pool_3x3", "edges": ["3<-0", "3<-1", "3<-2"]}

    def on_round(stats):
        if stats["round"] == 1:
            with steer.open("a") as fh:
                fh.write(json.dumps(later) + "\n")

    cfg = RunConfig(hardware="hwnasbench:fpga", budget=30, rounds=3, seed=2)
    start_run(cfg, run, on_round=on_round)
    assert main(["report", str(run)]) == 0
    lines = (run / "steering.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and json.loads(lines[0])[0]["action"] == "constrain"
    text = (run / "report.md").read_text()
    assert "replays its actions at the same rounds" in text
    cmd = next(line for line in text.splitlines() if line.startswith("agentnas chat "))
    args = shlex.split(cmd)[1:]
    out = tmp_path / "again"
    args[args.index("--out") + 1] = str(out)
    assert main(args) == 0

    def steers(d):
        return [(e["round"], e["command"]["action"]) for e in read_trace(d / "trace.jsonl")
                if e["event"] == "steer"]  # fmt: skip

    assert steers(run) == [(0, "constrain"), (1, "avoid")]
    assert steers(out) == steers(run)
    assert _rows(out / "candidates.csv") == _rows(run / "candidates.csv")


def test_report_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.slow
def test_optical_report_draws_energy_breakdown_and_robust_degradation(tmp_path):
    from agentnas.graph.config import RunConfig
    from agentnas.graph.report_plots import energy_breakdown_figure, robust_figure
    from agentnas.graph.runner import start_run
    from agentnas.tools.csv_units import metrics_from_row

    run = tmp_path / "optical"
    cfg = RunConfig(
        space="photonic-mlp",
        dataset="digits",
        hardware="optical-mzi:realistic",
        budget=6,
        rounds=1,
        partitions=2,
        seed=0,
    )
    start_run(cfg, run)
    assert main(["report", str(run)]) == 0
    for png in ("front.png", "energy_breakdown.png", "robust.png", "optical_vs_electronic.png"):
        assert (run / "plots" / png).read_bytes()[:4] == b"\x89PNG"
    assert "P_pi 30 mW" in (run / "report.md").read_text()
    data = read_report_data(load_run(run))
    # front.csv names columns in the space's units (energy_nj, accuracy_pct): read them back
    front = [metrics_from_row(r, "photonic-mlp") for r in _rows(run / "front.csv")]
    fig = energy_breakdown_figure(data)
    parts = [k for k in front[0] if k.startswith("energy_") and k.endswith("_mj")]
    parts.remove("energy_mj")
    assert parts
    for k in parts:
        bars = _artist(fig, k)
        assert [b.get_height() for b in bars] == pytest.approx([float(r[k]) for r in front])
    robust = [b.get_height() for b in _artist(robust_figure(data), "robust_accuracy")]
    assert robust == pytest.approx([float(r["robust_accuracy"]) for r in front])
    clean = [b.get_height() for b in _artist(robust_figure(data), "clean_accuracy")]
    assert clean == pytest.approx([float(r["clean_accuracy"]) for r in front])
    # the accuracy–energy plot: every front.csv member drawn at its values
    pts = _artist(front_figure(data), "front.csv")[0].get_offsets()
    want = [[float(r["energy_mj"]), float(r["accuracy"])] for r in front]
    assert np.allclose(pts, want)


def _optical_report_data(hardware: str, options: dict | None = None):
    from agentnas.graph.report_data import ReportData, _assumptions
    from agentnas.tools.objectives import parse_objectives

    front = [
        {"arch": f"net{i}", "accuracy": a, "energy_mj": e, "ref_cpu_energy_mj": c,
         "ref_gpu_energy_mj": g}
        for i, (a, e, c, g) in enumerate([(90.0, 2e-4, 5e-3, 5e-5), (92.5, 4e-4, 9e-3, 9e-5)])
    ]  # fmt: skip
    return ReportData(
        objectives=parse_objectives(["accuracy", "energy"]),
        candidates=front,
        front=front,
        rounds=[],
        assumptions=_assumptions({"hardware": hardware, "backend_options": options or {}}),
    )


def test_optical_front_beside_cpu_and_gpu_with_the_shifter_written_on_it():
    from agentnas.graph.report_plots import electronic_figure

    data = _optical_report_data("optical-mzi:realistic+pcm")
    fig = electronic_figure(data)
    for gid, col in (
        ("optical", "energy_mj"),
        ("ref_cpu_energy_mj", "ref_cpu_energy_mj"),
        ("ref_gpu_energy_mj", "ref_gpu_energy_mj"),
    ):
        pts = _artist(fig, gid)[0].get_offsets()
        assert np.allclose(pts, [[r[col], r["accuracy"]] for r in data.front])
    assert fig.axes[0].get_xscale() == "log"
    (note,) = [t for t in fig.texts if t.get_gid() == "assumptions"]
    assert "phase shifters: pcm, static P_pi 0 mW" in note.get_text()
    assert "CPU FP32 91.7 pJ/MAC" in note.get_text()
    # the shifter from the option, the default (thermo-optic) without one
    thermo = _optical_report_data("optical-mzi:worst-case").assumptions
    assert "thermo, static P_pi 30 mW" in thermo[0]
    eo = _optical_report_data("optical-mzi:ideal", {"shifter": "eo"}).assumptions
    assert eo[0].startswith("phase shifters: eo")
    # no references, no figure; no optical backend, no assumptions
    data.front = [{k: v for k, v in r.items() if not k.startswith("ref_")} for r in data.front]
    assert electronic_figure(data) is None
    assert _optical_report_data("hwnasbench:fpga").assumptions == []
