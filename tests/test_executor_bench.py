"""``agentnas bench executor``: the timed batches exclude each worker's warm-up, which
runs on other items (no cache answers a timed task), and the table reports it apart."""

from __future__ import annotations

from agentnas.cli import main
from agentnas.commands.executor_bench import _workers, _workloads

ARGS = {
    "cells": 3,
    "designs": 2,
    "runs": 4,
    "run_budget": 20,
    "noop": 5,
    "dataset": "digits",
    "hardware": "optical-mzi:realistic",
    "draws": 2,
    "epochs": 1,
    "seed": 0,
}


def test_warm_up_items_are_apart_from_the_timed_ones():
    work = _workloads(ARGS, warm=2)
    sizes = {name: (len(items), len(warm)) for name, (_, items, warm) in work.items()}
    assert sizes == {
        "proxy scoring": (3, 2),
        "optical eval": (2, 2),
        "bench of runs": (4, 2),
        "no-op": (5, 0),
    }
    for name, (_, items, warm) in work.items():
        keys = [str(i) for i in items]
        assert len(set(keys)) == len(keys), name
        assert not {str(w) for w in warm} & set(keys), name
    runs, warm_runs = work["bench of runs"][1], work["bench of runs"][2]
    assert {r[1]["seed"] for r in runs} == set(range(4))  # the bench's seeds are 0..N-1
    assert not {r[0] for r in warm_runs} & {r[0] for r in runs}  # other run folders
    # the timed items are the same with or without a warm-up
    cold = _workloads(ARGS, warm=0)
    assert cold["proxy scoring"][1] == work["proxy scoring"][1]
    assert cold["optical eval"][1] == work["optical eval"][1]


def test_workers_of_a_spec():
    assert _workers("local") == 1 and _workers("processes:3") == 3
    assert _workers("processes") == _workers("ray") >= 1


def test_cli_reports_start_up_and_warm_up_rows(capsys):
    code = main(
        [
            *("bench", "executor", "--executors", "local", "--only", "no-op", "--noop", "5"),
            *("--cells", "1", "--designs", "1"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "no-op" in out and "start-up" in out and "warm-up" in out
    assert "proxy scoring" not in out
