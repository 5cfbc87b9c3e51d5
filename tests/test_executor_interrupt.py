"""Ctrl-C on ``agentnas run`` with a Ray instance or a process pool: the command exits
promptly with one line saying what to do, no process it started outlives it, and the
run folder resumes to the end. Also while two Designers of a round evaluate in
parallel (graph threads): the interrupt does not wait for their evaluations."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from proc_tree import HAS_PROC, TreeWatch, alive

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
    "--backend-option",  # epochs=N follows
]
# a cluster started by hand, and the run joining it, on one machine: no token to copy
RAY_ENV = {"RAY_AUTH_MODE": "disabled"}
EXIT_WITHIN_S = 120  # from SIGINT to exit, on a loaded machine (Ray shuts down its processes)
# A terminal starts a command with SIGINT at its default action. This test's own process
# may have inherited SIGINT as ignored (a script that starts `make slow &` in the background
# does that); a child inherits that through exec, Python then leaves Ctrl-C ignored, and
# the run finishes with exit 0. So the command is started as a terminal would start it.
AS_FROM_A_TERMINAL = (
    "import os, signal, sys; "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def _agentnas(
    args: list[str], cache: Path, env_extra: dict[str, str] | None = None, **kw
) -> subprocess.Popen:
    env = dict(os.environ, AGENTNAS_CACHE_DIR=str(cache), **(env_extra or {}))
    return subprocess.Popen(
        [sys.executable, "-c", AS_FROM_A_TERMINAL, "-m", "agentnas", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kw,
    )


def _events(run_dir: Path) -> list[dict]:
    """The run's trace so far (a line being written is skipped)."""
    try:
        lines = (run_dir / "trace.jsonl").read_text().splitlines()
    except OSError:
        return []
    events = []
    for line in lines:
        with contextlib.suppress(json.JSONDecodeError):
            events.append(json.loads(line))
    return events


def _designers_started(run_dir: Path) -> bool:
    """Two partitions' Designers of one round have started: each runs in a graph thread
    and evaluates its children there, on the shared executor."""
    rounds = [e.get("round") for e in _events(run_dir) if e["event"] == "design_context"]
    return any(rounds.count(r) >= 2 for r in set(rounds))


def _ctrl_c(proc: subprocess.Popen) -> str:
    """Send Ctrl-C to the run's process group, as a terminal does, and return its output
    once it exits (killed, and the test failed, when it is still running after
    ``EXIT_WITHIN_S``)."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        return proc.communicate(timeout=EXIT_WITHIN_S)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"still running {EXIT_WITHIN_S} s after Ctrl-C")


def _wait_for(proc: subprocess.Popen, ready, what: str, timeout_s: float = 400) -> None:
    deadline = time.time() + timeout_s
    while not ready():
        if proc.poll() is not None or time.time() > deadline:
            out = proc.communicate()[0] if proc.poll() is not None else ""
            proc.kill()
            pytest.fail(f"{what} was not seen; output: {out[-2000:]}")
        time.sleep(0.05)


# the process whose appearance marks the stage
NEEDLES = {
    ("ray", "evaluating"): "ray::_ray_task",
    ("ray", "starting"): "raylet",
    ("processes:2", "evaluating"): "spawn_main",
}


@pytest.mark.parametrize(
    "executor,stage",
    [
        ("ray", "evaluating"),  # a Ray worker runs a seed's evaluation
        ("ray", "starting"),  # inside ray.init: the instance is half started
        ("processes:2", "evaluating"),  # the pool's workers are starting
        ("processes:2", "designing"),  # both Designers evaluate, each in a graph thread
        ("ray", "designing"),
    ],
)
def test_ctrl_c_ends_the_run_and_everything_it_started(tmp_path, executor, stage):
    if executor == "ray":
        pytest.importorskip("ray")
    out = tmp_path / "run"
    # longer evaluations where the test checks that Ctrl-C does not wait for them
    epochs = 60 if stage == "designing" else 3
    # its own session: SIGINT goes to its whole process group, as a terminal's Ctrl-C does
    proc = _agentnas(
        [*RUN, f"epochs={epochs}", "--out", str(out), "--executor", executor],
        tmp_path / "cache",
        start_new_session=True,
    )
    watch = TreeWatch(proc.pid)
    if stage == "designing":
        _wait_for(proc, lambda: _designers_started(out), "two Designers of one round")
    else:
        needle = NEEDLES[executor, stage]
        _wait_for(proc, lambda: watch.find(needle), f"a process matching {needle!r}")
    time.sleep(0.5)
    t0 = time.time()
    text = _ctrl_c(proc)
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
    if stage == "designing":  # the Designers' batches stopped at once: none finished later
        late = [e for e in _events(out) if e["event"] == "evaluation" and e["time"] > t0]
        assert not late, f"{len(late)} evaluation(s) finished after Ctrl-C"
        return  # resuming is shown by the other stages
    resumed = _agentnas(["run", "--resume", str(out), "--executor", "local"], tmp_path / "cache")
    rest = resumed.communicate(timeout=900)[0]
    assert resumed.returncode == 0, rest[-2000:]
    with open(out / "candidates.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == BUDGET and {r["status"] for r in rows} <= {"ok", "infeasible"}


@pytest.fixture()
def ray_head():
    """A Ray head on this machine (``ray start --head --block``, 2 CPUs, its own temp
    folder), as a user starts a cluster; yields (address, head process, its TreeWatch).
    Ended afterwards by its own pid (never ``ray stop``, which ends every Ray on the
    machine): SIGTERM ends its processes; any seen below it still alive are killed."""
    pytest.importorskip("ray")
    temp = Path(tempfile.mkdtemp(prefix="rayhead-", dir="/tmp"))  # short: socket paths
    log = open(temp / "head.log", "w")  # noqa: SIM115 (closed in teardown)
    cmd = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block"]
    cmd += ["--port=0", "--num-cpus=2"]
    cmd += ["--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"]
    head = subprocess.Popen(
        cmd,
        env=dict(os.environ, **RAY_ENV),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    watch = TreeWatch(head.pid)
    try:
        port = None
        deadline = time.time() + 300
        while port is None and head.poll() is None and time.time() < deadline:
            found = re.search(r"--address='[^':]+:(\d+)'", (temp / "head.log").read_text())
            port = found and found.group(1)
            time.sleep(0.2)
        if not port:
            pytest.fail(f"the Ray head did not start: {(temp / 'head.log').read_text()[-2000:]}")
        yield f"127.0.0.1:{port}", head, watch
    finally:
        head.terminate()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
        watch.stop()
        for line in watch.survivors(10):
            os.kill(int(line.split()[0]), signal.SIGKILL)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def test_ctrl_c_while_joined_to_a_cluster_ends_the_job_not_the_cluster(tmp_path, ray_head):
    address, head, head_watch = ray_head
    before = set(head_watch.seen)
    out = tmp_path / "run"
    proc = _agentnas(
        [*RUN, "epochs=3", "--out", str(out), "--executor", f"ray:{address}"],
        tmp_path / "cache",
        start_new_session=True,
        env_extra=RAY_ENV,
    )
    watch = TreeWatch(proc.pid)
    # the job's tasks run in the head's workers (below its raylet), not below the run
    _wait_for(proc, lambda: head_watch.find("ray::_ray_task"), "a task on the cluster")
    time.sleep(0.5)
    text = _ctrl_c(proc)
    watch.stop()
    assert proc.returncode == 130, text[-2000:]
    assert "Traceback" not in text, text[-2000:]
    assert f"interrupted; continue with: agentnas run --resume {out}" in text.splitlines()
    assert not watch.survivors()
    # the job's workers end when the run leaves the cluster; the cluster stays up
    job = {p: s for p, s in head_watch.seen.items() if p not in before}
    assert job, "no worker process of the job was seen below the head"
    deadline = time.time() + 60
    while (left := [p for p, (s, _) in job.items() if alive(p, s)]) and time.time() < deadline:
        time.sleep(0.5)
    assert not left, f"{len(left)} worker(s) of the job still alive 60 s after Ctrl-C"
    assert head.poll() is None
    # and the interrupted run continues on the same cluster
    resumed = _agentnas(
        ["run", "--resume", str(out), "--executor", f"ray:{address}"],
        tmp_path / "cache",
        env_extra=RAY_ENV,
    )
    rest = resumed.communicate(timeout=900)[0]
    assert resumed.returncode == 0, rest[-2000:]
    with open(out / "candidates.csv") as fh:
        assert len(list(csv.DictReader(fh))) == BUDGET
