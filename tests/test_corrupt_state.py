"""The corrupt-state matrix: damaged or odd files in a run folder or KB, and numbers or
paths out of range. Every case either is refused with one line and exit 2, every file
hashed before and after unchanged (a refused new run creates nothing), or finishes with
the reference result (``front.csv`` and ``candidates.csv`` byte for byte); read-only
commands always leave every byte as it was."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from agentnas.cli import main

ARGS = ["--hardware", "hwnasbench:pixel3", "--budget", "30", "--rounds", "3", "--seed", "5"]
REFUSE, FINISH, READ = "refused", "reference result", "read-only"
EITHER = "refused or reference result"  # the damage may or may not hide the run's data

# kill -9 right after the third select stored its writes: a folder with a live WAL
_KILLER = """
import os, signal, sys
from langgraph.checkpoint.sqlite import SqliteSaver
orig, seen = SqliteSaver.put_writes, [0]
def put_writes(self, config, writes, task_id, task_path=""):
    orig(self, config, writes, task_id, task_path)
    if any(ch == "front" for ch, _ in writes):
        seen[0] += 1
        if seen[0] == 3:
            os.kill(os.getpid(), signal.SIGKILL)
SqliteSaver.put_writes = put_writes
from agentnas.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("matrix")
    ref = base / "ref"
    assert main(["run", "--out", str(ref), *ARGS]) == 0
    killed = base / "killed"
    proc = subprocess.run(
        [sys.executable, "-c", _KILLER, "run", "--out", str(killed), *ARGS],
        capture_output=True,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert (killed / "checkpoints.sqlite-wal").stat().st_size > 0
    return {"ref": ref, "killed": killed}


def _hashes(root: Path) -> dict[str, str]:
    """sha256 of every file, except SQLite's ``-shm`` index (shared memory that every
    reader of a WAL database rebuilds from the log, holding no data of its own) and an
    empty ``-wal`` (a reader of a WAL database may create one; to SQLite it is no log)."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and not p.name.endswith("-shm")
        and not (p.name.endswith("-wal") and p.stat().st_size == 0)  # an empty log = none
    }


def _garble(path: Path, offset: int, data: bytes = b"\xde\xad\xbe\xef" * 4) -> None:
    with path.open("r+b") as fh:
        fh.seek(offset if offset >= 0 else path.stat().st_size + offset)
        fh.write(data)


def _truncate(path: Path, size: int) -> None:
    with path.open("r+b") as fh:
        fh.truncate(size if size >= 0 else path.stat().st_size + size)


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as fh:
        fh.write(data)


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda d: (d / name).write_bytes(data)


def _first_id(d: Path) -> str:
    from agentnas.memory.knowledge_base import KnowledgeBase

    with KnowledgeBase(d / "kb", create=False, read_only=True) as kb:
        return kb.export()[0]["id"]


RESUME = ["run", "--resume", "{d}"]
KB_LIST = ["kb", "list", "--kb", "{d}/kb"]
KB_EXPORT = ["kb", "export", "--kb", "{d}/kb"]
CK, WAL, KB = "checkpoints.sqlite", "checkpoints.sqlite-wal", "kb/chroma.sqlite3"

# name: (folder, mutation, command, expected)
CASES: dict[str, tuple[str, Callable[[Path], None] | None, list[str], str]] = {
    # --- the checkpoint database
    "checkpoint 0 bytes": ("ref", _write(CK, b""), RESUME, REFUSE),
    "checkpoint truncated to half": (
        "ref",
        lambda d: _truncate(d / CK, -(d / CK).stat().st_size // 2),
        RESUME,
        REFUSE,
    ),
    "checkpoint truncated to 100 bytes": ("ref", lambda d: _truncate(d / CK, 100), RESUME, REFUSE),
    "checkpoint header garbled": ("ref", lambda d: _garble(d / CK, 0), RESUME, REFUSE),
    "checkpoint random bytes": ("ref", _write(CK, os.urandom(8192)), RESUME, REFUSE),
    "checkpoint is text": ("ref", _write(CK, b"not a database\n" * 100), RESUME, REFUSE),
    "checkpoint missing": ("ref", lambda d: (d / CK).unlink(), RESUME, REFUSE),
    "checkpoint is a folder": (
        "ref",
        lambda d: ((d / CK).unlink(), (d / CK).mkdir()),
        RESUME,
        REFUSE,
    ),
    "checkpoint b-tree page garbled": (
        "ref",
        lambda d: _garble(d / CK, 4096 + 8, b"\xff" * 64),
        RESUME,
        EITHER,
    ),
    # --- the write-ahead log of a killed run
    "killed run, WAL intact": ("killed", None, RESUME, FINISH),
    "WAL header garbled": ("killed", lambda d: _garble(d / WAL, 4), RESUME, REFUSE),
    "WAL first frame garbled": (
        "killed",
        lambda d: _garble(d / WAL, 32 + 24 + 100),
        RESUME,
        REFUSE,
    ),
    "WAL middle frame garbled": (
        "killed",
        lambda d: _garble(d / WAL, (d / WAL).stat().st_size // 2),
        RESUME,
        REFUSE,
    ),
    "WAL last frame garbled": ("killed", lambda d: _garble(d / WAL, -200), RESUME, REFUSE),
    "WAL salt garbled": ("killed", lambda d: _garble(d / WAL, 32 + 8, b"\x00" * 8), RESUME, REFUSE),
    "WAL torn tail (partial frame)": ("killed", lambda d: _truncate(d / WAL, -100), RESUME, FINISH),
    "WAL emptied": ("killed", lambda d: _truncate(d / WAL, 0), RESUME, EITHER),
    "WAL index garbled": (
        "killed",
        lambda d: _garble(d / "checkpoints.sqlite-shm", 0, b"\x00" * 128),
        RESUME,
        EITHER,
    ),
    "WAL index removed": (
        "killed",
        lambda d: (d / "checkpoints.sqlite-shm").unlink(),
        RESUME,
        FINISH,
    ),
    # --- config.json
    "config missing": ("ref", lambda d: (d / "config.json").unlink(), RESUME, REFUSE),
    "config 0 bytes": ("ref", _write("config.json", b""), RESUME, REFUSE),
    "config invalid UTF-8": (
        "ref",
        _write("config.json", b'{"space": "\xff\xfe"}'),
        RESUME,
        REFUSE,
    ),
    "config a list": ("ref", _write("config.json", b"[1, 2]"), RESUME, REFUSE),
    "config bad budget": ("ref", _write("config.json", b'{"budget": "many"}'), RESUME, REFUSE),
    "config huge seed": (
        "ref",
        _write("config.json", b'{"seed": 1' + b"0" * 30 + b"}"),
        RESUME,
        REFUSE,
    ),
    "config unknown hardware": (
        "ref",
        _write("config.json", b'{"hardware": "nope:x"}'),
        RESUME,
        REFUSE,
    ),
    # --- outputs: rebuilt from the checkpoint
    "candidates.csv garbled": (
        "ref",
        lambda d: _garble(d / "candidates.csv", 10, b"\xff\x00,,\n" * 9),
        RESUME,
        FINISH,
    ),
    "candidates.csv missing": ("ref", lambda d: (d / "candidates.csv").unlink(), RESUME, FINISH),
    "candidates.csv 0 bytes": ("ref", _write("candidates.csv", b""), RESUME, FINISH),
    "front.csv garbled": ("ref", _write("front.csv", b"arch\nnot-a-cell\n"), RESUME, FINISH),
    "front.csv missing": ("ref", lambda d: (d / "front.csv").unlink(), RESUME, FINISH),
    "summary.json torn": ("ref", _write("summary.json", b'{"evaluations": 3'), RESUME, FINISH),
    "summary.json invalid UTF-8": ("ref", _write("summary.json", b"\xff\xfe\xfd"), RESUME, FINISH),
    "summary.json of another run": (
        "ref",
        _write("summary.json", b'{"evaluations": 7}'),
        RESUME,
        FINISH,
    ),
    "stale temporary files": ("ref", _write(".front.csv.x1.tmp", b"half"), RESUME, FINISH),
    "trace torn last line": ("ref", lambda d: _truncate(d / "trace.jsonl", -7), RESUME, FINISH),
    # --- the trace, read-only
    "trace intact": ("ref", None, ["trace", "{d}"], READ),
    "trace invalid UTF-8 line": (
        "ref",
        lambda d: _append(d / "trace.jsonl", b'\xff\xfe{"event": "x"}\n'),
        ["trace", "{d}"],
        READ,
    ),
    "trace binary garbage": (
        "ref",
        lambda d: _append(d / "trace.jsonl", os.urandom(4096)),
        ["trace", "{d}"],
        READ,
    ),
    "why of a front member": ("ref", None, ["why", "{d}", "f1"], READ),
    "why of a round": ("ref", None, ["why", "{d}", "r1"], READ),
    # --- the knowledge base
    "kb 0 bytes, resume": ("ref", _write(KB, b""), RESUME, REFUSE),
    "kb truncated, resume": (
        "ref",
        lambda d: _truncate(d / KB, -(d / KB).stat().st_size // 2),
        RESUME,
        REFUSE,
    ),
    "kb page garbled, resume": (
        "ref",
        lambda d: _garble(d / KB, 8192 + 8, b"\xff" * 64),
        RESUME,
        EITHER,
    ),
    "kb 0 bytes, list": ("ref", _write(KB, b""), KB_LIST, REFUSE),
    "kb truncated, list": ("ref", lambda d: _truncate(d / KB, 50_000), KB_LIST, REFUSE),
    "kb header garbled, export": ("ref", lambda d: _garble(d / KB, 0), KB_EXPORT, REFUSE),
    "kb text, show": (
        "ref",
        _write(KB, b"hello" * 1000),
        ["kb", "show", "x", "--kb", "{d}/kb"],
        REFUSE,
    ),
    "kb list intact": ("ref", None, KB_LIST, READ),
    "kb export intact": ("ref", None, KB_EXPORT, READ),
    "kb show intact": ("ref", None, ["kb", "show", "{id}", "--kb", "{d}/kb"], READ),
    # --- new runs with numbers out of range or unusable paths: nothing written
    "budget huge": ("new", None, ["run", "--out", "{d}/new", "--budget", "9" * 25], REFUSE),
    "seed huge": ("new", None, ["run", "--out", "{d}/new", "--seed", "9" * 25], REFUSE),
    "seed negative": ("new", None, ["run", "--out", "{d}/new", "--seed", "-3"], REFUSE),
    "partitions 1000": ("new", None, ["run", "--out", "{d}/new", "--partitions", "1000"], REFUSE),
    "rounds huge": ("new", None, ["run", "--out", "{d}/new", "--rounds", "9" * 25], REFUSE),
    "on-llm-failure unknown": (
        "new",
        None,
        ["run", "--out", "{d}/new", "--on-llm-failure", "retry"],
        REFUSE,
    ),
    "out under /proc": ("new", None, ["run", "--out", "/proc/agentnas-x"], REFUSE),
}


def _same_result(d: Path, ref: Path) -> bool:
    return all(
        (d / f).read_bytes() == (ref / f).read_bytes() for f in ("front.csv", "candidates.csv")
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_corrupt_state(name, folders, tmp_path, capsys):
    source, mutate, command, expected = CASES[name]
    d = tmp_path / "case"
    if source == "new":
        d.mkdir()
    else:
        shutil.copytree(folders[source], d)
    if mutate is not None:
        mutate(d)
    ident = _first_id(d) if "{id}" in " ".join(command) else ""
    argv = [a.format(d=d, id=ident) for a in command]
    before = _hashes(d)
    code = main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    if expected == EITHER:
        expected = REFUSE if code == 2 else FINISH
    if expected == REFUSE:
        assert code == 2 and len(err) == 1 and err[0].startswith("error: "), (code, err)
        assert _hashes(d) == before, "a refused command changed files"
        assert not Path("/proc/agentnas-x").exists()
    elif expected == READ:
        assert code == 0, err
        assert _hashes(d) == before, "a read-only command changed files"
    else:
        assert code == 0, err
        assert _same_result(d, folders["ref"])
