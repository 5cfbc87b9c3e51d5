"""An offline run through the whole graph writes every file, obeys the budget exactly,
and is reproducible with the same seed."""

from __future__ import annotations

import csv
import json

import pytest

from agentnas.cli import main
from agentnas.graph.config import RunConfig
from agentnas.graph.runner import start_run
from agentnas.graph.trace import read_trace

RUN_FILES = (
    "config.json",
    "checkpoints.sqlite",
    "trace.jsonl",
    "candidates.csv",
    "front.csv",
    "summary.json",
    "kb",
)


def _front(run_dir):
    with open(run_dir / "front.csv") as fh:
        return [row["arch"] for row in csv.DictReader(fh)]


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run") / "r1"
    cfg = RunConfig(hardware="hwnasbench:fpga", budget=60, rounds=4, seed=3)
    summary = start_run(cfg, run_dir)
    return run_dir, summary


def test_run_writes_every_file(offline_run):
    run_dir, summary = offline_run
    for name in RUN_FILES:
        assert (run_dir / name).exists(), name
    assert summary["llm"] == "offline policy (no LLM)"
    assert summary["is_llm"] is False


def test_budget_is_exact_and_cells_distinct(offline_run):
    run_dir, summary = offline_run
    with open(run_dir / "candidates.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == summary["evaluations"] == 60
    assert len({r["arch"] for r in rows}) == 60
    assert [int(r["order"]) for r in rows] == list(range(60))
    # every child of a design round names its parent(s)
    designed = [r for r in rows if r["operator"] != "seed"]
    assert designed and all(r["parents"] for r in designed)


def test_front_is_nondominated_and_scored(offline_run):
    run_dir, summary = offline_run
    with open(run_dir / "front.csv") as fh:
        front = list(csv.DictReader(fh))
    pts = [(float(r["accuracy"]), float(r["latency_ms"])) for r in front]
    for a in pts:
        assert not any(b[0] >= a[0] and b[1] <= a[1] and b != a for b in pts)
    assert 0.5 < summary["hv_ratio"] <= 1.0
    assert summary["igd"] >= 0


def test_trace_records_every_decision(offline_run):
    run_dir, _ = offline_run
    events = read_trace(run_dir / "trace.jsonl")
    kinds = {e["event"] for e in events}
    assert {
        "run_start",
        "partitions",
        "agent_attempt",
        "evaluation",
        "select",
        "kb_changes",
        "report",
    } <= kinds
    roles = {e["role"] for e in events if e["event"] == "agent_attempt"}
    assert roles == {"partitioner", "designer", "reflector"}
    labels = {e.get("label") for e in events if e["event"] == "agent_attempt"}
    assert labels == {"offline policy (no LLM)"}


def test_same_seed_same_front(offline_run, tmp_path):
    run_dir, _ = offline_run
    cfg = RunConfig(hardware="hwnasbench:fpga", budget=60, rounds=4, seed=3)
    start_run(cfg, tmp_path / "again")
    assert _front(tmp_path / "again") == _front(run_dir)


def test_existing_run_dir_is_refused(offline_run, capsys):
    run_dir, _ = offline_run
    assert main(["run", "--out", str(run_dir), "--budget", "10"]) == 2
    assert "--resume" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--hardware", "hwnasbench:edgegpu"], "edgegpu"),
        (["--hardware", "nope"], "unknown hardware"),
        (["--objectives", "accuracy,speed"], "speed"),
        (["--budget", "0"], "budget"),
        (["--llm", "claude"], "claude"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, args, needle):
    out = tmp_path / "bad"
    assert main(["run", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "Traceback" not in err
    assert not (out / "config.json").exists()


def test_corrupt_checkpoint_is_a_clear_error(tmp_path, capsys):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps(RunConfig().model_dump()))
    (run_dir / "checkpoints.sqlite").write_bytes(b"this is not sqlite" * 100)
    assert main(["run", "--resume", str(run_dir)]) == 2
    assert "checkpoint" in capsys.readouterr().err


def test_trace_command_filters_and_shows_one_event(offline_run, capsys):
    run_dir, _ = offline_run
    assert (
        main(
            [
                "trace",
                str(run_dir),
                "--event",
                "agent_attempt",
                "--role",
                "reflector",
                "--last",
                "0",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if "reflector" in ln]
    assert len(lines) == 4  # one reflection per design round (rounds=4)
    number = int(lines[0].split()[0])
    assert main(["trace", str(run_dir), "--full", str(number)]) == 0
    assert '"role": "reflector"' in capsys.readouterr().out
    assert main(["trace", str(run_dir / "nope")]) == 2


def test_dedupe_isomorphic_keeps_one_cell_per_class(tmp_path):
    from agentnas.tools.spaces.nb201 import canonical

    cfg = RunConfig(hardware="hwnasbench:fpga", budget=40, rounds=3, seed=4, dedupe_isomorphic=True)
    start_run(cfg, tmp_path / "d")
    with open(tmp_path / "d" / "candidates.csv") as fh:
        archs = [row["arch"] for row in csv.DictReader(fh)]
    assert len(archs) == 40
    assert len({canonical(a) for a in archs}) == 40


def test_each_space_defaults_to_its_own_hardware():
    """``--space photonic-mlp`` alone must not search on the NB201 default backend."""
    assert RunConfig().hardware == "hwnasbench:fpga"
    assert RunConfig(space="photonic-mlp").hardware == "optical-mzi:realistic"
    assert RunConfig(space="photonic-mlp", hardware="optical-mzi:ideal").hardware.endswith("ideal")
    stored = RunConfig(space="photonic-mlp").model_dump(mode="json")
    assert RunConfig.model_validate(stored) == RunConfig(space="photonic-mlp")


def test_trace_prints_bracketed_text_verbatim(tmp_path, capsys):
    """Prompts and answers hold brackets; `agentnas trace` must not read them as markup."""
    (tmp_path / "trace.jsonl").write_text(
        json.dumps({"event": "chat", "round": 1, "message": "use [/] edges [0, 1]"}) + "\n"
    )
    assert main(["trace", str(tmp_path)]) == 0
    assert "use [/] edges [0, 1]" in capsys.readouterr().out
