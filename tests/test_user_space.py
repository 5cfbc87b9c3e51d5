"""A search space and a backend of the user's own (tests/toy_plugin.py), named as
``module:Class``, run through ``agentnas run``, ``agentnas baseline``, ``agentnas bench
search`` and ``agentnas.search`` without any change to agentnas."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

import agentnas
from agentnas.cli import main

SPACE = "toy_plugin:ChainSpace"
METER = "toy_plugin:ChainMeter"


@pytest.fixture(autouse=True)
def _plugin_on_path(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).parent))


def test_agentnas_run_on_a_user_space(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    args = ["run", "--space", SPACE, "--hardware", METER, "--budget", "24", "--rounds", "3"]
    assert main([*args, "--partitions", "3", "--out", str(out)]) == 0
    with open(out / "candidates.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 24 == len({r["arch"] for r in rows})
    assert all(r["arch"].startswith("chain:") for r in rows)
    with open(out / "front.csv") as fh:
        front = list(csv.DictReader(fh))
    assert front and all(float(r["latency_ms"]) > 0 for r in front)
    assert "done: 24 evaluations" in capsys.readouterr().out


def test_the_space_names_its_own_default_hardware(tmp_path: Path) -> None:
    result = agentnas.search(space=SPACE, budget=12, rounds=2, partitions=2, out=tmp_path / "r")
    assert result.summary["hardware"] == METER and len(result.candidates) == 12
    assert result.archs and all(a.startswith("chain:") for a in result.archs)


def test_agentnas_baseline_on_a_user_space(capsys) -> None:
    assert main(["baseline", "--space", SPACE, "--hardware", METER, "-b", "30", "-s", "2"]) == 0
    out = capsys.readouterr().out
    assert "union front" in out
    ratios = [float(x) for x in re.findall(r"(\d\.\d{4}) ±", out)]
    assert len(ratios) == 6 and all(0.0 < r <= 1.0 for r in ratios[::2])


def test_agentnas_bench_search_on_a_user_space(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench"
    args = ["bench", "search", "--space", SPACE, "--devices", METER, "--budgets", "20"]
    args += ["--seeds", "1", "--methods", "agent,random,re,nsga2", "--out", str(out)]
    assert main(args) == 0
    table = (out / "results.md").read_text()
    rows: dict[str, str] = {}
    for line in table.splitlines():  # the first table: HV ratio per method
        for m in ("agent", "random", "re", "nsga2"):
            if line.startswith(f"| {m}@20 ") and "±" in line:
                rows.setdefault(m, line)
    assert set(rows) == {"agent", "random", "re", "nsga2"}
    for line in rows.values():
        hv = float(re.findall(r"(\d\.\d{3}) ±", line)[0])
        assert 0.0 < hv <= 1.0
    with open(out / "results.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 4


def test_a_class_that_is_no_space_is_refused_in_one_line(capsys) -> None:
    assert main(["baseline", "--space", "toy_plugin:ChainMeter", "-b", "5"]) == 2
    err = capsys.readouterr().err
    assert "does not offer the SearchSpace protocol" in err and "Traceback" not in err
    assert main(["baseline", "--space", "toy_plugin:Missing", "-b", "5"]) == 2
    assert "has no 'Missing'" in capsys.readouterr().err


def test_spaces_and_backends_registered_by_entry_point(tmp_path: Path, monkeypatch, capsys):
    """An installed package's ``agentnas.spaces`` / ``agentnas.hardware`` entry points
    make its space and backend known by name."""
    dist = tmp_path / "toy_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[agentnas.spaces]\ntoy-chain = toy_plugin:ChainSpace\n\n"
        "[agentnas.hardware]\ntoy-meter = toy_plugin:ChainMeter\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from agentnas.tools.spaces.registry import space_names

    assert "toy-chain" in space_names()
    assert main(["baseline", "--space", "toy-chain", "--hardware", "toy-meter", "-b", "20",
                 "-s", "1", "-m", "nsga2"]) == 0  # fmt: skip
    assert "toy-chain / toy" in capsys.readouterr().out
