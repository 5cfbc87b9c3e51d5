"""``agentnas bench search`` runs the agent loop and the baselines in one command and
prints their HV ratios side by side."""

from __future__ import annotations

import re

from agentnas.cli import main


def test_bench_search_prints_agent_and_baselines(capsys):
    code = main(
        [
            "bench",
            "search",
            "--devices",
            "eyeriss",
            "--budget",
            "24",
            "--seeds",
            "1",
            "--rounds",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    row = next(line for line in out.splitlines() if "eyeriss" in line and "±" in line)
    ratios = [float(x) for x in re.findall(r"(\d\.\d{4}) ±", row)]
    assert len(ratios) == 4 and all(0.3 < r <= 1.0 for r in ratios)
    assert ratios[3] >= ratios[2]  # NSGA-II with 5x the budget is no worse than with 1x
