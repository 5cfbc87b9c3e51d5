"""The evaluation executor: local, a process pool, Ray; order, retries, dead workers,
nested use, bad specs, and the same front whatever ran the evaluations."""

from __future__ import annotations

import csv
import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest
from proc_tree import HAS_PROC, TreeWatch, cmdline

from agentnas.cli import main
from agentnas.graph.config import RunConfig
from agentnas.graph.runner import start_run
from agentnas.tools.errors import UserError
from agentnas.tools.executor import (
    LocalExecutor,
    ProcessExecutor,
    in_worker,
    make_executor,
    parse_executor,
)


def square(_ctx, x):
    if x < 0:
        raise UserError(f"negative input {x}")
    return x * x


def flaky(marker_dir, x):
    """Raises on the first call for each item (a marker file remembers), then answers."""
    marker = Path(marker_dir) / f"{x}.seen"
    if not marker.exists():
        marker.write_text("1")
        raise RuntimeError(f"transient fault on {x}")
    return x + 100


def always_raises(_ctx, x):
    raise RuntimeError(f"broken task {x}")


def die_once(marker_dir, x):
    """Kills its own worker process the first time it sees item 3."""
    marker = Path(marker_dir) / f"die-{x}"
    if x == 3 and not marker.exists():
        marker.write_text("1")
        os._exit(1)
    return x


def nested_kind(_ctx, _x):
    return [in_worker(), type(make_executor("processes:2")).__name__]


@pytest.mark.parametrize(
    "spec", ["bogus", "processes:0", "processes:-1", "processes:two", "local:3", "ray:"]
)
def test_bad_specs_are_one_line_user_errors(spec):
    with pytest.raises(UserError) as err:
        parse_executor(spec)
    assert "\n" not in str(err.value)


def test_local_keeps_order_and_answers_invalid_without_retry():
    out = LocalExecutor().map(square, [3, -1, 2])
    assert [o.ok for o in out] == [True, False, True]
    assert [o.value for o in out] == [9, None, 4]
    assert out[1].kind == "invalid" and out[1].attempts == 1 and "negative" in out[1].error


def test_local_retries_a_raising_task_then_records_it_failed(tmp_path):
    out = LocalExecutor(retries=2).map(flaky, [1, 2], str(tmp_path))
    assert [o.value for o in out] == [101, 102] and all(o.attempts == 2 for o in out)
    failed = LocalExecutor(retries=2).map(always_raises, [7])[0]
    assert not failed.ok and failed.kind == "failed" and failed.attempts == 3
    assert "broken task 7" in failed.error


def test_process_pool_survives_a_dead_worker_retries_and_stays_flat(tmp_path):
    """One pool (workers cost seconds to start): a worker killed under a task, a task that
    always raises, an invalid input, and a nested executor inside a worker."""
    items = list(range(8))
    with ProcessExecutor(2, retries=2) as ex:
        out = ex.map(die_once, items, str(tmp_path))
        assert [o.value for o in out] == items  # the killed task was run again
        assert out[3].attempts >= 2
        again = ex.map(square, [4, -2])  # the pool was rebuilt and still works
        assert again[0].value == 16 and again[1].kind == "invalid"
        failed = ex.map(always_raises, [1])[0]
        assert failed.kind == "failed" and failed.attempts == 3
        nested = ex.map(nested_kind, [0, 1])
    assert [o.value for o in nested] == [[True, "LocalExecutor"]] * 2
    assert not in_worker()


# -- runs ---------------------------------------------------------------------------------
def _photonic_cfg(**kw):
    return RunConfig(
        space="photonic-mlp",
        dataset="digits",
        hardware="optical-mzi:realistic",
        budget=kw.pop("budget", 6),
        rounds=kw.pop("rounds", 1),
        partitions=2,
        seed=0,
        backend_options=kw.pop("backend_options", {"draws": 4, "epochs": 2}),
        **kw,
    )


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path) as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_processes_give_the_same_front_as_local(tmp_path, monkeypatch):
    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path / "cache-local"))
    start_run(_photonic_cfg(), tmp_path / "local", executor="local")
    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path / "cache-pool"))  # no shared cache
    start_run(_photonic_cfg(), tmp_path / "pool", executor="processes:2")
    local = (tmp_path / "local" / "front.csv").read_bytes()
    assert local == (tmp_path / "pool" / "front.csv").read_bytes()
    rows = _rows(tmp_path / "pool" / "candidates.csv")
    assert len(rows) == 6 and {r["status"] for r in rows} == {"ok"}


@pytest.mark.slow
def test_run_completes_when_a_worker_is_killed_mid_run(tmp_path):
    """A worker process killed (SIGKILL) while evaluating: the pool is rebuilt, the
    evaluation retried, and every proposed candidate is accounted for."""
    budget = 8
    ex = ProcessExecutor(2, retries=2)
    killed: list[int] = []

    def killer() -> None:
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            pids = ex.worker_pids()
            if pids:
                time.sleep(1.5)  # let the first batch start training
                pids = ex.worker_pids()
                if pids:
                    os.kill(pids[0], 9)
                    killed.append(pids[0])
            time.sleep(0.2)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    try:
        summary = start_run(_photonic_cfg(budget=budget, rounds=2), tmp_path / "r", executor=ex)
    finally:
        ex.close()
    t.join(timeout=5)
    assert killed, "no worker was killed"
    rows = _rows(tmp_path / "r" / "candidates.csv")
    trace = [json.loads(line) for line in (tmp_path / "r" / "trace.jsonl").open()]
    evaluated = [e for e in trace if e.get("event") == "evaluation"]
    failed = [e for e in trace if e.get("event") == "evaluation_failed"]
    assert len(rows) == len(evaluated) + len(failed) >= budget - 1
    # ok rows are the summary's evaluations; the rest failed or were refused as infeasible
    assert summary["evaluations"] == sum(r["status"] == "ok" for r in rows)
    assert {r["status"] for r in rows} <= {"ok", "failed", "infeasible"}
    assert any(e.get("attempts", 1) > 1 for e in evaluated + failed)  # the retry happened


BAD_EXECUTORS = [
    ("bogus", "unknown executor"),
    ("processes:0", "N >= 1"),
    ("ray:127.0.0.1:1", "cannot reach the Ray cluster"),  # nothing listens on port 1
]


def _commands(spec: str) -> dict[str, list[str]]:
    """Every command that takes an executor, with its default output folder (in the
    current folder) left to it."""
    return {
        "run": ["run", "--rounds", "1", "--budget", "4", "--executor", spec],
        "resume": ["run", "--resume", "old-run", "--executor", spec],
        "bench search": [
            *("bench", "search", "--seeds", "1", "--budgets", "20", "--methods", "random"),
            *("--executor", spec),
        ],
        "bench executor": ["bench", "executor", "--executors", f"local,{spec}"],
    }


@pytest.mark.parametrize("command", list(_commands("x")))
@pytest.mark.parametrize("spec,msg", BAD_EXECUTORS)
def test_cli_bad_executor_is_one_line_exit_2_nothing_written(
    tmp_path, capsys, monkeypatch, spec, msg, command
):
    """Refused before anything starts: no folder in the current one (a run's or a bench's
    default output), no cache, the folder to resume untouched, no Ray instance."""
    cwd = tmp_path / "cwd"
    (cwd / "old-run").mkdir(parents=True)
    (cwd / "old-run" / "config.json").write_text("{}")
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path / "cache"))
    code = main(_commands(spec)[command])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert msg in err and len(err.splitlines()) == 1
    assert sorted(p.relative_to(cwd).as_posix() for p in cwd.rglob("*")) == [
        "old-run",
        "old-run/config.json",
    ]
    assert (cwd / "old-run" / "config.json").read_text() == "{}"
    assert not (tmp_path / "cache").exists()
    if "ray" in sys.modules:
        assert not sys.modules["ray"].is_initialized()


@pytest.mark.slow
def test_ray_gives_the_same_front_as_local(tmp_path, monkeypatch):
    """A private local Ray instance (``--executor ray``) runs a small optical search; its
    front.csv is byte-identical to the in-process run's."""
    pytest.importorskip("ray")
    args = [
        "run",
        "--space",
        "photonic-mlp",
        "--dataset",
        "digits",
        "--hardware",
        "optical-mzi:realistic",
        "--budget",
        "6",
        "--rounds",
        "1",
        "--partitions",
        "2",
        "--backend-option",
        "draws=4",
        "--backend-option",
        "epochs=2",
    ]
    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path / "cache-local"))
    assert main([*args, "--out", str(tmp_path / "local"), "--executor", "local"]) == 0
    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path / "cache-ray"))  # nothing shared
    assert main([*args, "--out", str(tmp_path / "ray"), "--executor", "ray"]) == 0
    local = (tmp_path / "local" / "front.csv").read_bytes()
    assert local == (tmp_path / "ray" / "front.csv").read_bytes()
    import ray

    assert not ray.is_initialized()  # the private instance was shut down


@pytest.mark.slow
@pytest.mark.skipif(not HAS_PROC, reason="finds Ray workers through /proc (Linux)")
def test_ray_run_completes_when_a_ray_worker_is_killed(tmp_path, monkeypatch):
    """A Ray worker process killed (SIGKILL) while it evaluates a candidate of a run: the
    task is submitted again and the run completes with every candidate accounted for.
    The same instance then answers a task that kills its own worker (retried) and one
    that always raises (``failed`` after 1 + retries attempts)."""
    ray = pytest.importorskip("ray")
    from agentnas.tools.executor import RayExecutor

    # Ray workers do not see pytest's import path: this module's tasks travel by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path / "cache"))
    budget = 8
    ex = RayExecutor(workers=2, retries=2)
    watch = TreeWatch(os.getpid())  # the private instance's raylet and workers are ours
    killed: list[int] = []

    def killer() -> None:
        deadline = time.time() + 600
        while time.time() < deadline and not killed:
            busy = watch.find("ray::_ray_task")
            time.sleep(0.3)  # still on a task after a moment: it is evaluating one
            for pid in busy:
                if "ray::_ray_task" in cmdline(pid):
                    os.kill(pid, 9)
                    killed.append(pid)
                    break
            time.sleep(0.1)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    try:
        cfg = _photonic_cfg(budget=budget, rounds=2, backend_options={"draws": 4, "epochs": 3})
        summary = start_run(cfg, tmp_path / "r", executor=ex)
        t.join(timeout=5)
        out = ex.map(die_once, list(range(6)), str(tmp_path))
        failed = ex.map(always_raises, [1])[0]
    finally:
        watch.stop()
        ex.close()
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert killed, "no Ray worker was killed"
    rows = _rows(tmp_path / "r" / "candidates.csv")
    trace = [json.loads(line) for line in (tmp_path / "r" / "trace.jsonl").open()]
    evaluated = [e for e in trace if e.get("event") == "evaluation"]
    failures = [e for e in trace if e.get("event") == "evaluation_failed"]
    assert len(rows) == len(evaluated) + len(failures) >= budget - 1  # every attempt is a row
    # ok rows are the summary's evaluations; the rest failed or were refused as infeasible
    assert summary["evaluations"] == sum(r["status"] == "ok" for r in rows)
    assert {r["status"] for r in rows} <= {"ok", "failed", "infeasible"}
    assert any(e.get("attempts", 1) > 1 for e in evaluated + failures)  # the retry happened
    assert [o.value for o in out] == list(range(6)), [o.error for o in out]
    assert out[3].attempts == 2 and all(o.attempts == 1 for o in out if o.value != 3)
    assert not failed.ok and failed.kind == "failed" and failed.attempts == 3
    assert "broken task 1" in failed.error
