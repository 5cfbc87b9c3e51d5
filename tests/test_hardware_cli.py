"""``agentnas hardware list`` / ``agentnas hardware eval``: output and exit statuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentnas.cli import main
from agentnas.tools.hardware.registry import list_backends
from agentnas.tools.spaces.nb201 import index_to_cell

ARCH0 = index_to_cell(0)


def test_list_shows_every_backend_and_its_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hardware", "list"]) == 0
    out = capsys.readouterr().out
    for info in list_backends():  # every family the registry knows, incl. later ones
        assert info.name in out
    for name in ["hwnasbench:fpga", "hwnasbench:edgegpu", "hwnb360:pi5-onnx", "table:PATH", "cpu"]:
        assert name in out
    assert "latency_ms, energy_mj" in out
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("│ ")}
    assert "│ yes " in rows["hwnasbench:fpga"]
    assert "│ no " in rows["hwnasbench:edgegpu"] and "│ no " in rows["hwnasbench:edgetpu"]
    assert "pickle" in out  # the reason is shown


def test_eval_prints_the_shipped_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hardware", "eval", "--hardware", "hwnasbench:eyeriss", ARCH0, "0"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [f"hwnasbench:eyeriss  {ARCH0}  latency_ms=3.6456"] * 2

    assert main(["hardware", "eval", "--hardware", "hwnb360:pi5-onnx", "0"]) == 0
    out = capsys.readouterr().out
    assert "latency_ms=1.8305" in out and "energy_mj=2.6315" in out


def test_eval_on_a_user_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(f"arch_str,latency_ms\n{ARCH0},12.5\n")
    assert main(["hardware", "eval", "--hardware", f"table:{path}", ARCH0]) == 0
    assert "latency_ms=12.5000" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--hardware", "foo:bar", "0"], "unknown hardware backend 'foo:bar'; available:"),
        (["--hardware", "hwnasbench:edgetpu", "0"], "is not available"),
        (["--hardware", "hwnasbench:fpga", "|bad|"], "malformed NB201 cell string"),
        (["--hardware", "hwnasbench:fpga", "15625"], "NB201 index must be in 0..15624"),
        (["--hardware", "table:/no/such.csv", "0"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["hardware", "eval", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert expected in err and "\n" not in err and "Traceback" not in err
