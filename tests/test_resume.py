"""``kill -9`` at a random moment, then ``--resume``: the run finishes with the same front
as an uninterrupted run with the same seed (offline policy)."""

from __future__ import annotations

import csv
import random
import signal
import subprocess
import sys
import time

import pytest

from agentnas.cli import main
from agentnas.graph.trace import read_trace

ARGS = ["--hardware", "hwnasbench:pixel3", "--budget", "48", "--rounds", "4", "--seed", "11"]


def _front(run_dir):
    with open(run_dir / "front.csv") as fh:
        return sorted(row["arch"] for row in csv.DictReader(fh))


def _candidates(run_dir):
    with open(run_dir / "candidates.csv") as fh:
        return [row["arch"] for row in csv.DictReader(fh)]


def _kill_when(run_dir, proc, n_events: int, timeout: float = 120.0) -> bool:
    """Wait until the trace holds ``n_events`` evaluations, then SIGKILL. False if the
    run finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        events = read_trace(run_dir / "trace.jsonl")
        if sum(e["event"] == "evaluation" for e in events) >= n_events:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("run did not progress")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("ref") / "run"
    assert main(["run", "--out", str(run_dir), *ARGS]) == 0
    return run_dir


@pytest.mark.parametrize("kill_after", [random.Random(7).randint(13, 40), 5])
def test_kill9_then_resume_gives_same_front(reference, tmp_path, kill_after, capsys):
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentnas", "run", "--out", str(run_dir), *ARGS],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    killed = _kill_when(run_dir, proc, kill_after)
    assert killed, "the run finished before it could be killed"
    assert not (run_dir / "summary.json").exists()
    code = main(["run", "--resume", str(run_dir)])
    assert code == 0, capsys.readouterr().err
    assert _front(run_dir) == _front(reference)
    assert _candidates(run_dir) == _candidates(reference)
    assert any(e["event"] == "run_resume" for e in read_trace(run_dir / "trace.jsonl"))


def test_resume_of_finished_run_changes_nothing(reference):
    before = (reference / "candidates.csv").read_text()
    assert main(["run", "--resume", str(reference)]) == 0
    assert (reference / "candidates.csv").read_text() == before


def test_resume_of_finished_run_rewrites_a_damaged_summary(reference, tmp_path):
    import json
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(reference, run_dir)
    good = json.loads((run_dir / "summary.json").read_text())
    (run_dir / "summary.json").write_text('{"evaluations": 4')  # torn by hand or crash
    assert main(["run", "--resume", str(run_dir)]) == 0
    rebuilt = json.loads((run_dir / "summary.json").read_text())
    assert {k: v for k, v in rebuilt.items() if k != "finished_at"} == {
        k: v for k, v in good.items() if k != "finished_at"
    }


_KILL_AFTER_SELECT_WRITES = """
import os, signal, sys
from langgraph.checkpoint.sqlite import SqliteSaver
orig = SqliteSaver.put_writes
def put_writes(self, config, writes, task_id, task_path=""):
    orig(self, config, writes, task_id, task_path)
    if any(ch == "front" for ch, _ in writes) and int(os.environ["N"]) == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    elif any(ch == "front" for ch, _ in writes):
        os.environ["N"] = str(int(os.environ["N"]) - 1)
SqliteSaver.put_writes = put_writes
from agentnas.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("selects_before", [0, 2])
def test_kill9_during_select_resumes(reference, tmp_path, selects_before, capsys):
    """A kill after ``select`` stored its writes but before the step's checkpoint leaves
    ``get_state().next`` empty; resume must finish the step, not call the run done."""
    import os

    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_AFTER_SELECT_WRITES, "run", "--out", str(run_dir), *ARGS],
        env={**os.environ, "N": str(selects_before)},
        capture_output=True,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    code = main(["run", "--resume", str(run_dir)])
    assert code == 0, capsys.readouterr().err
    assert (run_dir / "front.csv").read_bytes() == (reference / "front.csv").read_bytes()
    assert (run_dir / "candidates.csv").read_bytes() == (reference / "candidates.csv").read_bytes()


def test_resume_rebuilds_garbled_outputs(reference, tmp_path):
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(reference, run_dir)
    (run_dir / "candidates.csv").write_bytes(b"order,arch\n0,\xff\xfe garbled\n")
    (run_dir / "front.csv").unlink()
    assert main(["run", "--resume", str(run_dir)]) == 0
    for name in ("candidates.csv", "front.csv"):
        assert (run_dir / name).read_bytes() == (reference / name).read_bytes()
