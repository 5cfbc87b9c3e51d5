"""A search space and a backend of the user's own (tests/toy_plugin.py), named as
``module:Class``, run through ``agentnas run``, ``agentnas baseline`` and
``agentnas.search`` without any change to agentnas."""

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


def test_a_class_that_is_no_space_is_refused_in_one_line(capsys) -> None:
    assert main(["baseline", "--space", "toy_plugin:ChainMeter", "-b", "5"]) == 2
    err = capsys.readouterr().err
    assert "does not offer the SearchSpace protocol" in err and "Traceback" not in err
    assert main(["baseline", "--space", "toy_plugin:Missing", "-b", "5"]) == 2
    assert "has no 'Missing'" in capsys.readouterr().err
