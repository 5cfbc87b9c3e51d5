"""Endpoint faults through the real ChatOpenAI client against a scripted loopback server:
transient errors retried by the client, persistent ones stop the run (exit 3,
checkpointed, resumable), ``--on-llm-failure fallback`` says how often it fell back, a
model whose answers are useless is reported as mostly the offline policy, and a planted
key is written nowhere in the run folder (the KB's binary index files included)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from loopback_openai import LoopbackOpenAI, answer, drop, role_of, status

from agentnas.cli import main
from agentnas.graph.trace import read_trace

KEY = "sk-planted-0123456789abcdef-key"
PARTITION = {"feature": "n_nor_conv_3x3", "groups": [[0, 1], [2, 6]], "rationale": "two bands"}
REFLECTION = {"add": [{"text": "Prefer nor_conv_3x3 on edge 3<-0.", "evidence_for": 1}]}
ARGS = [
    "--hardware", "hwnasbench:eyeriss", "--budget", "14", "--rounds", "2",
    "--partitions", "2", "--llm", "openai:test-model",
]  # fmt: skip


def good(body, n):
    role = role_of(body)
    if role == "partitioner":
        return answer(json.dumps(PARTITION))
    if role == "reflector":
        return answer(json.dumps(REFLECTION))
    return answer("{}")


@pytest.fixture
def serve(monkeypatch):
    servers = []

    def start(rule):
        srv = LoopbackOpenAI(rule)
        servers.append(srv)
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        return srv

    yield start
    for s in servers:
        s.close()


def _summary(run_dir):
    return json.loads((run_dir / "summary.json").read_text())


def test_transient_429_and_5xx_are_retried_by_the_client(serve, tmp_path):
    def rule(body, n):
        if n == 0:
            return status(429, headers={"Retry-After": "0"})
        if n == 1:
            return status(503)
        return good(body, n)

    srv = serve(rule)
    assert main(["run", "--out", str(tmp_path / "run"), *ARGS]) == 0
    summary = _summary(tmp_path / "run")
    # the first call needed three requests, and its answer was still used
    assert srv.served[:3] == ["status", "status", "answer"]
    assert summary["answers_used"]["partitioner"] == {"decisions": 1, "used": 1, "share": 1.0}


def test_refused_key_stops_with_exit_3_then_resumes(serve, tmp_path, capsys):
    state = {"down": True}

    def rule(body, n):
        if state["down"]:
            return status(401, body={"error": {"message": f"bad key {KEY}", "type": "auth"}})
        return good(body, n)

    serve(rule)
    run_dir = tmp_path / "run"
    assert main(["run", "--out", str(run_dir), *ARGS]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "401" in err[0] and "--resume" in err[0] and KEY not in err[0]
    assert not (run_dir / "summary.json").exists()
    assert any(e["event"] == "run_stopped" for e in read_trace(run_dir / "trace.jsonl"))
    state["down"] = False
    assert main(["run", "--resume", str(run_dir)]) == 0
    assert _summary(run_dir)["evaluations"] == 14


def test_connection_refused_stops_with_exit_3(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert main(["run", "--out", str(tmp_path / "run"), *ARGS]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot connect" in err[0]


def test_fallback_mode_says_how_often_it_fell_back(serve, tmp_path, capsys):
    serve(lambda body, n: drop() if role_of(body) == "designer" else good(body, n))
    run_dir = tmp_path / "run"
    assert main(["run", "--out", str(run_dir), *ARGS, "--on-llm-failure", "fallback"]) == 0
    summary = _summary(run_dir)
    assert summary["answers_used"]["designer"]["used"] == 0
    assert summary["fell_back"] >= summary["answers_used"]["designer"]["decisions"] > 0
    out = " ".join(capsys.readouterr().out.split())
    assert out.split("model answers used: ")[-1].count(
        f"{summary['fell_back']} decisions fell back"
    )


def test_useless_answers_are_reported_as_the_offline_policy(serve, tmp_path, capsys):
    serve(lambda body, n: answer("{}"))
    run_dir = tmp_path / "run"
    assert main(["run", "--out", str(run_dir), *ARGS]) == 0
    summary = _summary(run_dir)
    assert summary["mostly_offline"] is True and summary["answers_used_share"] < 0.5
    out = " ".join(capsys.readouterr().out.split())
    assert "mostly the offline policy's" in out


def test_planted_key_is_in_no_file_of_the_run(serve, tmp_path):
    echo = f"my key is {KEY}"

    def rule(body, n):
        role = role_of(body)
        if role == "partitioner":
            return answer(json.dumps({**PARTITION, "rationale": echo}))
        if role == "reflector":
            return answer(
                json.dumps({"add": [{"text": f"Prefer skip; {echo}", "evidence_for": 1}]})
            )
        return answer(f'{echo}. {{"children": [{{"arch": "{KEY}"}}]}}')

    srv = serve(rule)
    run_dir = tmp_path / "run"
    # the command as a user starts it (its own process: it restarts itself with freed
    # memory scrubbed, so Chroma's HNSW files, written from buffers hnswlib never fills,
    # cannot carry bytes of the process's memory, which holds the key)
    done = subprocess.run(
        [sys.executable, "-m", "agentnas", "run", "--out", str(run_dir), *ARGS],
        env={**os.environ, "OPENAI_BASE_URL": srv.base_url, "OPENAI_API_KEY": KEY},
        capture_output=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert all(a == f"Bearer {KEY}" for a in srv.auth)  # sent to the server...
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert any(p.name == "data_level0.bin" for p in files)
    hits = [str(p) for p in files if KEY.encode() in p.read_bytes()]
    # ...and written nowhere: checkpoint, KB database and its HNSW index files included
    assert hits == []
    assert KEY.encode() not in done.stdout + done.stderr
