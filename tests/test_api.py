"""``agentnas.search``: the Python entry point the CLI is built on returns the front, the
candidates and the run folder, and agrees with ``agentnas run`` for the same seed."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import agentnas
from agentnas.cli import main
from agentnas.tools.errors import UserError
from agentnas.tools.metrics import pareto_indices
from agentnas.tools.spaces.nb201 import NB201Space

SETTINGS = {"hardware": "hwnasbench:fpga", "budget": 30, "seed": 4, "rounds": 3, "partitions": 3}


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> agentnas.SearchResult:
    return agentnas.search(space="nb201", out=tmp_path_factory.mktemp("api") / "r", **SETTINGS)


def test_search_returns_front_candidates_and_folder(result) -> None:
    assert len(result.candidates) == 30 == len({c["arch"] for c in result.candidates})
    assert (result.run_dir / "summary.json").exists()
    F = result.F
    assert F.shape == (len(result.front), 2) and len(pareto_indices(F)) == len(F)
    all_F = np.array([[-c["metrics"]["accuracy"], c["metrics"]["latency_ms"]]
                      for c in result.candidates])  # fmt: skip
    # nothing evaluated dominates a front member
    for f in F:
        assert not np.any(np.all(all_F <= f, axis=1) & np.any(all_F < f, axis=1))
    assert result.summary["evaluations"] == 30 and 0 < result.summary["hv_ratio"] <= 1


def test_cli_run_gives_the_same_front(result, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    args = [f"--{k}={v}" for k, v in SETTINGS.items()]
    assert main(["run", *args, "--out", str(out)]) == 0
    with open(out / "front.csv") as fh:
        assert [r["arch"] for r in csv.DictReader(fh)] == result.archs


def test_a_space_class_and_resume(result, tmp_path: Path) -> None:
    again = agentnas.search(resume=result.run_dir)
    assert again.archs == result.archs
    by_class = agentnas.search(space=NB201Space, out=tmp_path / "cls", **SETTINGS)
    assert by_class.archs == result.archs
    assert by_class.summary["space"] == "agentnas.tools.spaces.nb201:NB201Space"


def test_bad_calls_are_user_errors(result, tmp_path: Path) -> None:
    class Local:  # not importable: a resumed run could not rebuild it
        pass

    with pytest.raises(UserError, match="importable module"):
        agentnas.search(space=Local, out=tmp_path / "x")
    with pytest.raises(UserError, match="drop"):
        agentnas.search(resume=result.run_dir, budget=5)
    with pytest.raises(UserError, match="budget"):
        agentnas.search(budget=0, out=tmp_path / "y")
    assert not (tmp_path / "y").exists()
