"""Ctrl-C on ``agentnas run`` with a Ray instance or a process pool: the command exits
promptly with one line saying what to do, no process it started outlives it, and the
run folder resumes to the end."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from proc_tree import HAS_PROC, TreeWatch

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAS_PROC, reason="follows the run's processes through /proc (Linux)"),
]

BUDGET = 6
RUN = [
    "run",
    "--space",
    "photonic-mlp",
    "--dataset",
    "digits",
    "--hardware",
    "optical-mzi:realistic",
    "--budget",
    str(BUDGET),
    "--rounds",
    "2",
    "--partitions",
    "2",
    "--backend-option",
    "draws=4",
    "--backend-option",
    "epochs=3",
]
# Known bug, seen in 2 of 4 full `make slow` runs (passing alone, and with the executor
# files' slow tests together): a Ctrl-C that lands in some window while evaluations start
# is lost, and the run finishes with exit 0. Not strict: a pass shows as XPASS.
LOST_SIGINT = pytest.mark.xfail(
    reason="a Ctrl-C in some window while evaluations start is lost (run exits 0)", strict=False
)
EXIT_WITHIN_S = 120  # from SIGINT to exit, on a loaded machine (Ray shuts down its processes)


def _agentnas(args: list[str], cache: Path, **kw) -> subprocess.Popen:
    env = dict(os.environ, AGENTNAS_CACHE_DIR=str(cache))
    return subprocess.Popen(
        [sys.executable, "-m", "agentnas", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kw,
    )


def _wait_for(watch: TreeWatch, proc: subprocess.Popen, needle: str, timeout_s: float) -> None:
    deadline = time.time() + timeout_s
    while not watch.find(needle):
        if proc.poll() is not None or time.time() > deadline:
            out = proc.communicate()[0] if proc.poll() is not None else ""
            proc.kill()
            pytest.fail(f"no process matching {needle!r} appeared; output: {out[-2000:]}")
        time.sleep(0.05)


@pytest.mark.parametrize(
    "executor,stage,needle",
    [
        # a Ray worker runs an evaluation
        pytest.param("ray", "evaluating", "ray::_ray_task", marks=LOST_SIGINT),
        ("ray", "starting", "raylet"),  # inside ray.init: the instance is half started
        # the pool's workers are starting
        pytest.param("processes:2", "evaluating", "spawn_main", marks=LOST_SIGINT),
    ],
)
def test_ctrl_c_ends_the_run_and_everything_it_started(tmp_path, executor, stage, needle):
    if executor == "ray":
        pytest.importorskip("ray")
    out = tmp_path / "run"
    # its own session: SIGINT goes to its whole process group, as a terminal's Ctrl-C does
    proc = _agentnas(
        [*RUN, "--out", str(out), "--executor", executor],
        tmp_path / "cache",
        start_new_session=True,
    )
    watch = TreeWatch(proc.pid)
    _wait_for(watch, proc, needle, timeout_s=400)
    time.sleep(0.5)
    t0 = time.time()
    os.killpg(proc.pid, signal.SIGINT)
    try:
        text = proc.communicate(timeout=EXIT_WITHIN_S)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"still running {EXIT_WITHIN_S} s after Ctrl-C")
    seconds = time.time() - t0
    watch.stop()
    assert proc.returncode == 130, text[-2000:]
    assert "Traceback" not in text, text[-2000:]
    assert not watch.survivors(), f"left running after {seconds:.1f} s: {watch.survivors(0)}"
    assert len(watch.seen) >= 2  # the workers (and Ray's own processes) were seen, and ended
    if stage == "starting":
        assert "interrupted before the run started; nothing to resume" in text
        assert not (out / "config.json").exists()
        return
    line = f"interrupted; continue with: agentnas run --resume {out}"
    assert line in text.splitlines()
    resumed = _agentnas(["run", "--resume", str(out), "--executor", "local"], tmp_path / "cache")
    rest = resumed.communicate(timeout=900)[0]
    assert resumed.returncode == 0, rest[-2000:]
    with open(out / "candidates.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == BUDGET and {r["status"] for r in rows} <= {"ok", "infeasible"}
