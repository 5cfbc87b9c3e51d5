"""``agentnas front`` / ``agentnas baseline``: output shape, values, and one-line errors."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from agentnas.cli import main
from agentnas.tools.benchmark_tables import load_nb201


@pytest.mark.parametrize(("device", "n"), [("fpga", 16), ("eyeriss", 19), ("raspi4", 43)])
def test_front_csv_has_header_and_one_line_per_member(
    device: str, n: int, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["front", "--dataset", "cifar10", "--hardware", f"hwnasbench:{device}"]
    assert main([*args, "--format", "csv"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == n + 1
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["arch_idx", "arch_str", "accuracy", "latency_ms"]
    t = load_nb201()
    for idx, arch, acc, lat in rows[1:]:
        i = int(idx)
        assert arch == t.arch_str[i]
        # 4 significant digits: within 5e-4 relative of the table
        assert float(acc) == pytest.approx(t.acc200["cifar10"][i], rel=5e-4)
        assert float(lat) == pytest.approx(t.hwnasbench_latency_ms[device][i], rel=5e-4)


def test_front_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["front", "--hardware", "hwnasbench:fpga"]) == 0
    out = capsys.readouterr().out
    assert "16 cells, 13 distinct points" in out
    assert "6111" in out and "94.3733" in out and "1.1330" in out


def test_baseline_prints_hv_ratio_and_igd(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["baseline", "--method", "random", "--budget", "100", "--seeds", "3"]
    assert main([*args, "--hardware", "hwnasbench:fpga"]) == 0
    out = capsys.readouterr().out
    assert "HV ratio" in out and "IGD" in out and "hwnasbench:fpga" in out
    row = next(line for line in out.splitlines() if "random" in line)
    hv_mean = float(row.split("│")[5].split("±")[0])
    assert 0.7 < hv_mean < 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["front", "--hardware", "hwnasbench:fpga", "--objectives", "accuracy,speed"], "speed"),
        (["front", "--hardware", "hwnasbench:edgetpu"], "not available"),
        (["front", "--hardware", "nope"], "unknown hardware backend"),
        (["front", "--hardware", "hwnasbench:fpga", "--dataset", "mnist"], "mnist"),
        (["front", "--hardware", "hwnasbench:fpga", "--format", "xml"], "format"),
        (["front", "--hardware", "hwnasbench:fpga", "--objectives", "accuracy,energy"], "energy"),
        (["baseline", "--method", "bo", "--hardware", "hwnasbench:fpga"], "bo"),
        (
            ["baseline", "--method", "re", "--hardware", "hwnasbench:fpga", "--budget", "0"],
            "budget",
        ),
        (["baseline", "--method", "re", "--hardware", "hwnasbench:fpga", "--seeds", "0"], "seeds"),
        (["baseline", "--method", "re", "--hardware", "x:y"], "unknown hardware backend"),
        (
            ["baseline", "--method", "re", "--hardware", "hwnasbench:fpga", "-o", "latency"],
            "2 or 3",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err
    assert os.listdir(tmp_path) == []  # nothing written
