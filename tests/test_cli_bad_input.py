"""Bad input through ``agentnas.cli.main``: one line on stderr that says what is wrong and
what is accepted, exit status 2, no traceback, and nothing written or lost (the folders
involved are byte-for-byte unchanged, a refused new run leaves no folder)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from agentnas.cli import main
from agentnas.graph.config import RunConfig
from agentnas.graph.runner import RunSession, start_run
from agentnas.graph.trace import read_trace

SMALL = RunConfig(hardware="hwnasbench:fpga", budget=16, rounds=2, seed=5)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A finished run and a run paused at its first round boundary (unfinished)."""
    base = tmp_path_factory.mktemp("runs")
    start_run(SMALL, base / "finished")
    session = RunSession.start(SMALL, base / "paused")
    try:
        assert session.advance()["paused"]
    finally:
        session.close()
    return {"finished": base / "finished", "paused": base / "paused"}


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _copy(runs: dict[str, Path], name: str, tmp: Path) -> Path:
    dst = tmp / name
    shutil.copytree(runs[name], dst)
    return dst


# ------------------------------------------------------------------ folder preparations
# each takes (runs, tmp_path) and returns the argv; {tmp} in the argv is the tmp folder


def _not_a_run(runs, tmp):
    (tmp / "photos").mkdir()
    (tmp / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    return ["run", "--resume", str(tmp / "photos")]


def _corrupt_config(runs, tmp):
    run = _copy(runs, "paused", tmp)
    (run / "config.json").write_text('{"budget": 16, "rounds"')
    return ["run", "--resume", str(run)]


def _wrong_config_value(runs, tmp):
    run = _copy(runs, "paused", tmp)
    cfg = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**cfg, "budget": "many"}))
    return ["run", "--resume", str(run)]


def _garbage_checkpoint(runs, tmp):
    run = _copy(runs, "paused", tmp)
    (run / "checkpoints.sqlite").write_bytes(b"not a database " * 500)
    return ["run", "--resume", str(run)]


def _truncated_checkpoint(runs, tmp):
    run = _copy(runs, "paused", tmp)
    path = run / "checkpoints.sqlite"
    path.write_bytes(path.read_bytes()[:5000])
    return ["run", "--resume", str(run)]


def _undecodable_checkpoint(runs, tmp):
    """A valid database whose records no longer decode (damaged blobs)."""
    run = _copy(runs, "paused", tmp)
    conn = sqlite3.connect(run / "checkpoints.sqlite")
    conn.execute("UPDATE checkpoints SET checkpoint = X'c1c1c1c1ffff'")
    conn.commit()
    conn.close()
    return ["run", "--resume", str(run)]


def _no_checkpoint(runs, tmp):
    run = tmp / "half"
    run.mkdir()
    shutil.copy(runs["paused"] / "config.json", run / "config.json")
    return ["chat", "--resume", str(run)]


def _replay_garbage(runs, tmp):
    # garbage inside the file (a torn LAST line is tolerated: a crashed run's trace)
    (tmp / "answers.jsonl").write_text('{"content": "ok"}\nthis is not json\n{"content": "ok"}\n')
    return ["run", "--llm", f"replay:{tmp / 'answers.jsonl'}", "--out", str(tmp / "new")]


def _toml(text: str) -> Callable:
    def prepare(runs, tmp):
        (tmp / "settings.toml").write_text(text)
        return ["run", "--config", str(tmp / "settings.toml"), "--out", str(tmp / "new")]

    return prepare


def _new_run(*args: str) -> Callable:
    return lambda runs, tmp: ["run", *args, "--out", str(tmp / "new")]


def _finished(*argv: str) -> Callable:
    def prepare(runs, tmp):
        run = _copy(runs, "finished", tmp)
        return [a.format(run=run) for a in argv]

    return prepare


def _plain(*argv: str) -> Callable:
    return lambda runs, tmp: [a.format(tmp=tmp) for a in argv]


CASES = {
    "unknown device": (
        _new_run("--hardware", "tpu9000"),
        ["unknown hardware backend 'tpu9000'", "available: hwnasbench:eyeriss"],
    ),
    "edgegpu refused": (
        _new_run("--hardware", "hwnasbench:edgegpu"),
        ["'hwnasbench:edgegpu'", "not available", "available: hwnasbench:eyeriss"],
    ),
    "bad cell string": (
        _plain("hardware", "eval", "|conv~0|+|x|", "--hardware", "hwnasbench:fpga"),
        ["malformed NB201 cell string", "with ops none, skip_connect"],
    ),
    "TOML syntax": (_toml("budget = \n"), ["is not valid TOML", "line 1"]),
    "TOML unknown key": (_toml("budgett = 5\n"), ["unknown setting(s)", "budgett", "known: space"]),
    "TOML wrong type": (_toml('budget = "ten"\n'), ["'budget'", "valid integer", "'ten'"]),
    "TOML run not a table": (_toml("run = 5\n"), ["must be a table ([run])"]),
    "resume not a run": (_not_a_run, ["is not a run folder (no config.json)"]),
    "corrupt config.json": (_corrupt_config, ["config.json is corrupt", "not JSON"]),
    "config.json wrong value": (
        _wrong_config_value,
        ["config.json is corrupt", "'budget'", "'many'"],
    ),
    "garbage checkpoint": (
        _garbage_checkpoint,
        ["checkpoint database", "unreadable", "restore the file"],
    ),
    "truncated checkpoint": (_truncated_checkpoint, ["checkpoint database", "unreadable"]),
    "undecodable checkpoint": (_undecodable_checkpoint, ["checkpoint database", "unreadable"]),
    "no checkpoint": (_no_checkpoint, ["no checkpoints.sqlite to resume from"]),
    "replay missing": (
        _new_run("--llm", "replay:missing.jsonl"),
        ["replay file 'missing.jsonl' does not exist", "trace.jsonl"],
    ),
    "replay garbage": (_replay_garbage, ["line 2 is not JSON"]),
    "unknown llm": (_new_run("--llm", "gpt5"), ["unknown --llm 'gpt5'", "accepted: offline"]),
    "one objective": (
        _new_run("--objectives", "accuracy"),
        ["2 or 3 objectives", "got 1", "valid: accuracy, latency"],
    ),
    "four objectives": (
        _new_run("--objectives", "accuracy,latency,params,flops"),
        ["2 or 3 objectives", "got 4"],
    ),
    "cifar10 on photonic": (
        _new_run("--space", "photonic-mlp", "--dataset", "cifar10"),
        ["dataset 'cifar10' is not available for space 'photonic-mlp'", "available: mnist, digits"],
    ),
    "zero-cost on photonic": (
        _new_run("--space", "photonic-mlp", "--accuracy", "zero-cost"),
        ["'zero-cost' predicts NAS-Bench-201 accuracy only", "use 'backend'"],
    ),
    "backend accuracy on nb201": (
        _new_run("--accuracy", "backend"),
        [
            "robust_accuracy",
            "'hwnasbench:fpga' reports latency_ms",
            "on nb201 use accuracy 'table'",
        ],
    ),
    "unknown accuracy": (
        _new_run("--accuracy", "oracle"),
        ["'accuracy'", "must be one of table, zero-cost, backend"],
    ),
    "optical on nb201": (
        _new_run("--hardware", "optical-mzi:realistic", "--space", "nb201"),
        ["'optical-mzi:realistic' evaluates photonic-mlp", "not 'nb201'"],
    ),
    "negative budget": (_new_run("--budget", "-5"), ["'budget'", "must be >= 1", "-5"]),
    "negative LLM calls": (_new_run("--max-llm-calls", "-1"), ["'max_llm_calls'", "must be >= 0"]),
    "bad backend option": (_new_run("--backend-option", "draws"), ["KEY=VALUE", "'draws'"]),
    "out is a file": (_finished("run", "--out", "{run}/config.json"), ["is a file", "--out"]),
    "out holds a run": (
        _finished("run", "--out", "{run}", "--budget", "10"),
        ["already holds a run", "--resume"],
    ),
    "options with resume": (
        _finished("run", "--resume", "{run}", "--budget", "50"),
        ["drop --budget", "agentnas steer"],
    ),
    "kb missing": (
        _plain("kb", "--kb", "{tmp}/nonexistent", "list"),
        ["no knowledge base at", "--kb DIR"],
    ),
    "trace missing": (_plain("trace", "{tmp}/nowhere"), ["has no trace.jsonl", "run folder"]),
    "trace negative last": (_finished("trace", "{run}", "--last", "-1"), ["--last", ">= 0"]),
    "steer missing": (
        _plain("steer", "{tmp}/nowhere", "2 more rounds"),
        ["is not a run folder", "RUN_DIR"],
    ),
    "steer finished run": (
        _finished("steer", "{run}", "2 more rounds"),
        ["has finished", "nothing would read"],
    ),
    "front xml": (
        _plain("front", "--format", "xml"),
        ["unknown format 'xml'", "available: table, csv"],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_clear_line_exit_2_and_writes_nothing(name, runs, tmp_path, capsys):
    prepare, needles = CASES[name]
    argv = prepare(runs, tmp_path)
    before = _snapshot(tmp_path)
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert _snapshot(tmp_path) == before  # nothing written, nothing lost
    assert not (tmp_path / "new").exists()


def test_openai_without_a_key_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["run", "--llm", "openai:gpt-4.1", "--out", str(tmp_path / "new")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "OPENAI_API_KEY" in err and "--llm offline" in err
    assert not (tmp_path / "new").exists()


def test_torn_trace_line_does_not_swallow_the_resume(runs, tmp_path):
    """A crash in the middle of a trace write leaves a torn last line; the resumed run's
    first event must still be readable (not glued to the torn line)."""
    run = _copy(runs, "paused", tmp_path)
    trace = run / "trace.jsonl"
    n_before = len(read_trace(trace))
    trace.write_text(trace.read_text()[:-25])  # the last line loses its end
    (run / ".candidates.csv.x1y2.tmp").write_text("order,round\n0,")  # a killed atomic write
    assert main(["run", "--resume", str(run)]) == 0
    assert not list(run.glob(".*.tmp"))
    events = read_trace(trace)
    assert len(events) > n_before
    assert events[n_before - 1]["event"] == "run_resume"  # right after the torn line
    bad = [ln for ln in trace.read_text().splitlines() if not _is_json(ln)]
    assert len(bad) == 1  # only the torn line, nothing after it
    cands = (run / "candidates.csv").read_text().splitlines()[1:]
    assert len(cands) == SMALL.budget and len({c.split(",")[3] for c in cands}) == SMALL.budget


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


def test_relative_kb_is_stored_absolute(tmp_path, monkeypatch):
    """config.json keeps the KB's absolute path, so ``--resume`` from another folder uses
    the same KB instead of silently creating an empty one there."""
    from agentnas.config import load_config

    monkeypatch.chdir(tmp_path)
    cfg = load_config(None, {"kb_dir": "shared/kb"})
    assert cfg.kb_dir == str(tmp_path / "shared" / "kb")


def test_half_started_folder_is_not_reused(runs, tmp_path, capsys):
    """A folder with a trace but no config.json (a start killed early) is refused too:
    starting over in it would mix two runs' traces and checkpoints."""
    run = tmp_path / "half"
    run.mkdir()
    (run / "trace.jsonl").write_text('{"event": "run_start"}\n')
    assert main(["run", "--out", str(run), "--budget", "10"]) == 2
    assert "already holds a run (trace.jsonl)" in capsys.readouterr().err
    assert [p.name for p in run.iterdir()] == ["trace.jsonl"]


def test_a_run_being_driven_cannot_be_resumed_twice(runs, tmp_path, capsys):
    """Two processes on one checkpoint and trace would interleave their writes: while a
    session holds the run, ``--resume`` is refused and the folder left as it is."""
    run = _copy(runs, "paused", tmp_path)
    session = RunSession.resume(run)
    try:
        before = _snapshot(run)
        assert main(["run", "--resume", str(run)]) == 2
        assert "another agentnas process is running" in capsys.readouterr().err
        assert _snapshot(run) == before
    finally:
        session.close()
    assert main(["run", "--resume", str(run)]) == 0  # released on close
