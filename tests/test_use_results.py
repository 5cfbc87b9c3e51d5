"""Using a run's result: ``pick`` under conditions, ``export`` as a PyTorch module that
imports and runs, ``runs`` listing folders, ``trace --arch`` lineage, ``kb list`` finding
the latest run's KB, and bad input (one line, exit 2) everywhere."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
import subprocess
import sys

import pytest
import torch

from agentnas.cli import main
from agentnas.graph.pick import parse_conditions, pick
from agentnas.graph.run_record import load_run
from agentnas.tools.export import export_text
from agentnas.tools.spaces.nb201 import cell_to_index, index_to_cell
from agentnas.tools.spaces.photonic_mlp import EXAMPLE as PHOTONIC_EXAMPLE


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def _one_line_exit_2(capsys, args, *words):
    capsys.readouterr()
    assert main(args) == 2, args
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, (w, err)


def test_pick_is_the_most_accurate_cell_under_the_condition(small_run, capsys):
    rows = _rows(small_run / "candidates.csv")
    record = load_run(small_run)
    for bound in (1.5, 2.5, 3.0, 5.0):
        best = pick(record, parse_conditions(f"latency_ms < {bound}", record))
        fits = [c for c in record.cells if c["metrics"]["latency_ms"] < bound]
        top = max(c["metrics"]["accuracy"] for c in fits)
        assert best["metrics"]["accuracy"] == top
        # ties on accuracy go to the faster cell
        tied = [c for c in fits if c["metrics"]["accuracy"] == top]
        assert best["metrics"]["latency_ms"] == min(c["metrics"]["latency_ms"] for c in tied)
        assert best["arch"] in {r["arch"] for r in rows}
    assert main(["pick", str(small_run), "--where", "latency < 3 ms", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["metrics"]["latency_ms"] < 3
    # units convert: 0.003 s is 3 ms
    same = pick(record, parse_conditions("latency < 0.003 s", record))
    assert same["arch"] == out["arch"]


def test_pick_bad_conditions(small_run, capsys):
    r = str(small_run)
    _one_line_exit_2(capsys, ["pick", r, "--where", "latency_ms < 0.01"], "closest latency_ms")
    _one_line_exit_2(capsys, ["pick", r, "--where", "speed < 3"], "unknown column", "latency_ms")
    _one_line_exit_2(capsys, ["pick", r, "--where", "latency < 3 mJ"], "does not fit")
    _one_line_exit_2(capsys, ["pick", r, "--where", "latency is small"], "cannot read")


def _load_module(path):
    spec = importlib.util.spec_from_file_location("exported_net", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_export_torch_module_imports_and_runs(small_run, tmp_path, capsys):
    out = tmp_path / "net.py"
    assert main(["export", str(small_run), "f1", "--format", "torch", "--out", str(out)]) == 0
    front = _rows(small_run / "front.csv")
    text = out.read_text()
    assert "import agentnas" not in text and "from agentnas" not in text  # standalone
    module = _load_module(out)
    assert front[0]["arch"] == module.CELL
    assert cell_to_index(front[0]["arch"]) == module.NB201_INDEX
    assert index_to_cell(module.NB201_INDEX) == module.CELL
    net = module.build().eval()
    with torch.no_grad():
        y = net(torch.randn(2, 3, 32, 32))
    assert y.shape == (2, 10)
    # the benchmark's network: same parameter count as the project's own builder
    from agentnas.tools.spaces.nb201_torch import build_network

    ours = sum(p.numel() for p in build_network(module.CELL).parameters())
    assert sum(p.numel() for p in net.parameters()) == ours


def test_exported_file_runs_without_agentnas(small_run, tmp_path):
    out = tmp_path / "net.py"
    assert main(["export", str(small_run), "f2", "--out", str(out)]) == 0
    done = subprocess.run(
        [sys.executable, "-I", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "output (2, 10)" in done.stdout


def test_export_json_and_photonic(small_run, capsys):
    assert main(["export", str(small_run), "f1", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["nb201_index"] == cell_to_index(data["cell"]) and len(data["ops"]) == 6
    text, suffix = export_text("photonic-mlp", PHOTONIC_EXAMPLE, "torch", "digits", {})
    assert suffix == ".py"
    namespace: dict = {}
    exec(compile(text, "photonic_net.py", "exec"), namespace)
    assert namespace["build"]()(torch.zeros(3, 64)).shape == (3, 10)


def test_export_bad_input(small_run, capsys):
    r = str(small_run)
    _one_line_exit_2(capsys, ["export", r, "f1", "--format", "onnx"], "torch, json")
    _one_line_exit_2(capsys, ["export", r, "p0"], "cell string or fN")
    _one_line_exit_2(capsys, ["export", r, "|none~0|"], "unknown target")


def test_runs_lists_folders_with_headline_figures(small_run, tmp_path, capsys, monkeypatch):
    root = tmp_path / "runs"
    shutil.copytree(small_run, root / "a")
    (root / "not-a-run").mkdir()
    monkeypatch.setenv("COLUMNS", "250")
    capsys.readouterr()
    assert main(["runs", str(root)]) == 0
    out = capsys.readouterr().out
    summary = json.loads((small_run / "summary.json").read_text())
    assert "\na " in out and "not-a-run" not in out
    assert f"{summary['hv_ratio']:.4g}" in out and "hwnasbench:fpga" in out
    assert f"{summary['evaluations']}/{summary['budget']}" in out
    _one_line_exit_2(capsys, ["runs", str(tmp_path / "nowhere")], "not a folder")
    _one_line_exit_2(capsys, ["runs", str(root / "not-a-run")], "no run folders")


def test_trace_arch_shows_the_lineage_and_bad_filters_list_valid(small_run, capsys):
    rows = _rows(small_run / "candidates.csv")
    child = next(r for r in reversed(rows) if r["parents"])
    capsys.readouterr()
    assert main(["trace", str(small_run), "--arch", child["arch"]]) == 0
    out = capsys.readouterr().out
    for parent in child["parents"].split(";"):
        assert parent in out
    assert "└─" in out and "seed" in out
    r = str(small_run)
    _one_line_exit_2(capsys, ["trace", r, "--event", "bogus"], "agent_attempt", "evaluation")
    _one_line_exit_2(capsys, ["trace", r, "--role", "bogus"], "designer", "reflector")
    _one_line_exit_2(capsys, ["trace", r, "--arch", "p1"], "cell string or fN")
    assert main(["trace", r, "--event", "steer"]) == 0  # known, absent: no match, no error


def test_kb_list_without_kb_finds_the_latest_run(small_run, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(small_run, tmp_path / "runs" / "20261204-180000")
    monkeypatch.setenv("COLUMNS", "250")
    capsys.readouterr()
    assert main(["kb", "list"]) == 0
    out = capsys.readouterr().out
    assert "runs/20261204-180000/kb" in out
    record = load_run(small_run)
    assert any(text[:40] in out for text in record.heuristics.values())


@pytest.mark.parametrize(
    "args",
    [
        ["why"],
        ["report", "/nonexistent/run"],
        ["pick", "/nonexistent/run", "--where", "latency_ms < 3"],
        ["export", "/nonexistent/run", "f1"],
        ["trace", "/nonexistent/run", "--arch", "f1"],
    ],
)
def test_missing_run_folder_is_one_line_exit_2(args, capsys):
    capsys.readouterr()
    assert main(args) == 2
    assert "Traceback" not in capsys.readouterr().err
