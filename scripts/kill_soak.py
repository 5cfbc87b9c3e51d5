"""Kill soak: ``kill -9`` runs at random moments, resume each, compare with an uninterrupted
run of the same seed.

For every seed: one uninterrupted reference run, then one run that is killed ``--kills``
times (each kill lands in the run or in the previous kill's resume). After every kill the
folder is copied and the copy resumed to the end; its ``front.csv`` and ``candidates.csv``
must equal the reference's byte for byte. Kills are SIGKILL sent either after a random
delay or from inside the process right after ``select`` stored its writes and before the
step's checkpoint (the moment that once left a run that could never be resumed).

    python scripts/kill_soak.py --seeds 11,12,13,14,15 --kills 4

Prints one line per kill and a closing ``N passed, M failed`` line; exit 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ARGS = ["--hardware", "hwnasbench:pixel3", "--budget", "48", "--rounds", "4"]

# run in a child: SIGKILL itself once the n-th select task has stored its writes
_SELECT_KILLER = """
import os, signal, sys
from langgraph.checkpoint.sqlite import SqliteSaver
orig = SqliteSaver.put_writes
target, seen = int(os.environ["SOAK_KILL_SELECT"]), [0]
def put_writes(self, config, writes, task_id, task_path=""):
    orig(self, config, writes, task_id, task_path)
    if any(ch == "front" for ch, _ in writes):
        seen[0] += 1
        if seen[0] >= target:
            os.kill(os.getpid(), signal.SIGKILL)
SqliteSaver.put_writes = put_writes
from agentnas.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _cli(args: list[str], select_kill: int | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if select_kill is None:
        cmd = [sys.executable, "-m", "agentnas", *args]
    else:
        env["SOAK_KILL_SELECT"] = str(select_kill)
        cmd = [sys.executable, "-c", _SELECT_KILLER, *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _finish(args: list[str]) -> tuple[int, str]:
    proc = _cli(args)
    _, err = proc.communicate(timeout=600)
    return proc.returncode, err.decode(errors="replace").strip()


def _same(a: Path, b: Path) -> bool:
    return all(
        (a / f).read_bytes() == (b / f).read_bytes() for f in ("front.csv", "candidates.csv")
    )


def _one_kill(
    run_dir: Path, first: bool, seed: int, rng: random.Random, span: float
) -> tuple[str, bool]:
    """Start (or resume) the run and kill it once; returns how, and whether it was killed
    (False: it finished first)."""
    args = (
        ["run", "--out", str(run_dir), *ARGS, "--seed", str(seed)]
        if first
        else [
            "run",
            "--resume",
            str(run_dir),
        ]
    )
    if rng.random() < 0.35:
        how = f"during select #{rng.randint(1, 4 if first else 2)}"
        proc = _cli(args, select_kill=int(how.split("#")[1]))
        proc.wait(timeout=600)
    else:
        # a random moment of the work itself, not of the imports before it: wait until
        # the process writes to the trace, then up to the reference run's working time
        trace = run_dir / "trace.jsonl"
        size = trace.stat().st_size if trace.exists() else 0
        proc = _cli(args)
        while proc.poll() is None and (trace.stat().st_size if trace.exists() else 0) <= size:
            time.sleep(0.01)
        delay = rng.uniform(0.0, span)
        how = f"{delay:.2f} s into the work"
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    return how, proc.returncode == -signal.SIGKILL


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="11,12,13,14,15")
    ap.add_argument("--kills", type=int, default=4, help="kills per seed")
    ap.add_argument("--rng", type=int, default=2026)
    ap.add_argument("--work", type=Path, default=None)
    ns = ap.parse_args()
    rng = random.Random(ns.rng)
    work = ns.work or Path(tempfile.mkdtemp(prefix="kill-soak-"))
    passed = failed = 0
    for seed in (int(s) for s in ns.seeds.split(",")):
        ref = work / f"ref-{seed}"
        code, err = _finish(["run", "--out", str(ref), *ARGS, "--seed", str(seed)])
        assert code == 0, err
        # the working time: from the first trace line to the summary
        span = (ref / "summary.json").stat().st_mtime - (ref / "config.json").stat().st_mtime
        run_dir = work / f"killed-{seed}"
        kills = 0
        while kills < ns.kills:
            how, killed = _one_kill(run_dir, not run_dir.exists(), seed, rng, span)
            if not killed:  # it finished before the kill: start the chain again
                shutil.rmtree(run_dir)
                continue
            kills += 1
            copy = work / f"resumed-{seed}-{kills}"
            shutil.copytree(run_dir, copy)
            code, err = _finish(["run", "--resume", str(copy)])
            ok = code == 0 and _same(copy, ref)
            passed, failed = passed + ok, failed + (not ok)
            print(
                f"seed {seed} kill {kills} {how}: "
                + (
                    "resumed, same front.csv and candidates.csv" if ok else f"FAILED ({code}) {err}"
                ),
                flush=True,
            )
            shutil.rmtree(copy)
        code, err = _finish(["run", "--resume", str(run_dir)])
        print(
            f"seed {seed} chain of {kills} kills resumed: code {code}, "
            f"{'same' if code == 0 and _same(run_dir, ref) else 'DIFFERENT'}",
            flush=True,
        )
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
