"""Costs and caps of an LLM run: tokens per round (``rounds.csv``) and per role
(``summary.json``), a price table, and the token, cost and time caps, each one budget per
run (a kill and a ``--resume`` share it), stopping the run at a round boundary (or, with
``--on-llm-failure fallback``, letting the offline policy go on, labelled); a resume may
raise a cap and nothing else.

A fake chat model stands for the endpoint: every answer reports 100 input and 10 output
tokens, so the figures are exact."""

from __future__ import annotations

import csv
import json
import threading
import time

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from agentnas.agents.llm import ChatBackend
from agentnas.config import load_config
from agentnas.graph.budgets import expected_use, raise_caps
from agentnas.graph.build import THREAD, build_graph, open_checkpointer
from agentnas.graph.config import RunConfig
from agentnas.graph.runner import resume_run, start_run
from agentnas.graph.trace import read_trace
from agentnas.tools.errors import CapReached, UserError

PARTITION = {"feature": "n_nor_conv_3x3", "groups": [[0, 1], [2, 6]], "rationale": "two bands"}
TOKENS_IN, TOKENS_OUT = 100, 10


class Crash(BaseException):
    """Stands for the process dying (kill -9) while a request is out."""


class TokenModel(FakeMessagesListChatModel):
    """Answers the Partitioner with a plan and every other role with unusable text;
    every answer reports ``TOKENS_IN`` / ``TOKENS_OUT``. ``crash_at``: the request that
    kills the process; ``delay``: seconds each answer takes; ``seen``: requests received."""

    crash_at: int | None = None
    delay: float = 0.0
    seen: int = 0

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen += 1
        if self.crash_at is not None and self.seen >= self.crash_at:
            raise Crash
        time.sleep(self.delay)
        system = str(messages[0].content)
        text = json.dumps(PARTITION) if "Partitioner" in system else "no JSON here"
        usage = {"input_tokens": TOKENS_IN, "output_tokens": TOKENS_OUT, "total_tokens": 110}
        message = AIMessage(content=text, usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])


def _cfg(**caps) -> RunConfig:
    return RunConfig(
        hardware="hwnasbench:fpga",
        budget=20,
        rounds=3,
        partitions=2,
        seed=3,
        max_concurrency=1,
        llm="openai:stands-for-the-fake",  # what config.json records; the fake is passed in
        **caps,
    )


def _backend(model: TokenModel) -> ChatBackend:
    return ChatBackend(model, label="fake:tokens", backoff_s=0)


def _rounds(run_dir) -> list[dict[str, str]]:
    with (run_dir / "rounds.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def _next(run_dir) -> tuple[str, ...]:
    saver = open_checkpointer(run_dir)
    try:
        return tuple(build_graph(saver).get_state(THREAD).next)
    finally:
        saver.conn.close()


def test_token_budget_holds_across_a_kill_and_a_resume(tmp_path):
    run_dir = tmp_path / "run"
    budget = 3 * (TOKENS_IN + TOKENS_OUT)  # three answers
    first = TokenModel(responses=[], crash_at=3)  # partition, design try 1, dies on try 2
    with pytest.raises(Crash):
        start_run(_cfg(token_budget=budget), run_dir, llm=_backend(first))
    second = TokenModel(responses=[])
    with pytest.raises(CapReached, match=f"token budget of {budget:,} tokens is spent"):
        resume_run(run_dir, llm=_backend(second))
    # 2 answers before the kill + 1 now = the budget; a fresh budget would have given 3
    assert second.seen == 1
    assert _next(run_dir) == ("reflect",)  # stopped at the round boundary, resumable
    stops = [e for e in read_trace(run_dir / "trace.jsonl") if e["event"] == "run_stopped"]
    assert len(stops) == 1 and stops[0]["exit_status"] == 4
    assert not (run_dir / "summary.json").exists()

    third = TokenModel(responses=[])
    summary = resume_run(run_dir, llm=_backend(third), caps={"token_budget": 10_000})
    answered = 2 + second.seen + third.seen
    assert third.seen > 0 and summary["evaluations"] == 20
    assert summary["caps"] == {"token_budget": 10_000}
    assert (summary["tokens_in"], summary["tokens_out"]) == (
        answered * TOKENS_IN,
        answered * TOKENS_OUT,
    )
    # per role and per round: the role calls that reached the checkpoint, i.e. all but
    # the Designer try the kill interrupted (its tokens count in the run-wide total)
    by_role = summary["llm_usage_by_role"]
    role_in = sum(r["tokens_in"] for r in by_role.values())
    assert role_in == summary["tokens_in"] - TOKENS_IN
    assert by_role["partitioner"]["tokens_in"] == TOKENS_IN
    rows = _rounds(run_dir)
    assert [r["round"] for r in rows] == ["0", "1", "2", "3"]
    assert sum(int(r["tokens_in"]) for r in rows) == role_in
    assert sum(int(r["tokens_out"]) for r in rows) == role_in // 10
    assert int(rows[0]["tokens_in"]) == TOKENS_IN  # round 0: the Partitioner


def test_time_budget_stops_at_a_round_boundary_and_counts_every_process(tmp_path):
    run_dir = tmp_path / "run"
    model = TokenModel(responses=[], delay=0.3)
    with pytest.raises(CapReached, match=r"time budget of 0\.2 s is spent"):
        start_run(_cfg(time_budget=0.2), run_dir, llm=_backend(model))
    assert _next(run_dir) == ("steer",)  # after round 0's select: the first boundary
    assert [r["round"] for r in _rounds(run_dir)] == ["0"]
    # the same cap again: the time already spent counts, so no request, the same stop
    again = TokenModel(responses=[])
    with pytest.raises(CapReached, match="time budget"):
        resume_run(run_dir, llm=_backend(again), caps={"time_budget": 0.2})
    assert again.seen == 0 and _next(run_dir) == ("steer",)
    last = TokenModel(responses=[])
    summary = resume_run(run_dir, llm=_backend(last), caps={"time_budget": 3600})
    assert summary["evaluations"] == 20 and last.seen > 0
    assert summary["wall_s"] >= 0.2 and summary["caps"] == {"time_budget": 3600}


def test_cost_budget_with_a_price_table_then_the_offline_policy_goes_on(tmp_path):
    run_dir = tmp_path / "run"
    # $10 / $100 per million: each answer costs $0.001 + $0.001
    cfg = _cfg(cost_budget=0.005, price_in=10, price_out=100, on_llm_failure="fallback")
    model = TokenModel(responses=[])
    summary = start_run(cfg, run_dir, llm=_backend(model))
    assert model.seen == 3  # $0.004 < $0.005 after two, $0.006 after three: no fourth
    assert summary["evaluations"] == 20
    assert summary["cost_usd"] == pytest.approx(0.006)
    assert summary["prices_usd_per_million"] == {"input": 10, "output": 100}
    reached = summary["caps_reached"]
    assert len(reached) == 1 and reached[0]["cap"] == "--cost-budget"
    assert (
        reached[0]["then"] == "offline policy" and "cost budget of $0.005" in reached[0]["reason"]
    )
    assert summary["fell_back"] > 0
    rows = _rounds(run_dir)
    assert sum(float(r["cost_usd"]) for r in rows) == pytest.approx(0.006)
    assert sum(r.get("cost_usd", 0) for r in summary["llm_usage_by_role"].values()) == (
        pytest.approx(0.006)
    )
    assert any(e["event"] == "cap_reached" for e in read_trace(run_dir / "trace.jsonl"))


def test_parallel_designers_count_the_requests_in_flight(tmp_path):
    """Four Designers asking at once: each request is checked against the tokens spent
    plus those the requests in flight are expected to bring, so the budget of three
    answers is not overrun however the threads interleave."""
    lock = threading.Lock()

    class Serial(TokenModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            with lock:
                return super()._generate(messages, stop, run_manager, **kwargs)

    budget = 3 * (TOKENS_IN + TOKENS_OUT)
    cfg = _cfg(token_budget=budget, on_llm_failure="fallback").model_copy(
        update={"max_concurrency": 4, "partitions": 4}
    )
    model = Serial(responses=[], delay=0.2)
    summary = start_run(cfg, tmp_path / "run", llm=_backend(model))
    assert model.seen == 3
    assert summary["tokens_in"] + summary["tokens_out"] == budget


def test_caps_may_only_be_raised_on_resume():
    cfg = _cfg(token_budget=1000)
    assert raise_caps(cfg, {"token_budget": 2000}).token_budget == 2000
    assert raise_caps(cfg, {"token_budget": 1000}).token_budget == 1000
    with pytest.raises(UserError, match="below the run's cap of 1000"):
        raise_caps(cfg, {"token_budget": 999})
    with pytest.raises(UserError, match="no such cap"):
        raise_caps(cfg, {"time_budget": 60})
    with pytest.raises(UserError, match="only caps"):
        raise_caps(cfg, {"budget": 50})


def test_price_table_in_the_config_file(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(
        '[run]\nllm = "openai:gpt-x"\ncost_budget = 2.5\n'
        '[prices."openai:gpt-x"]\ninput = 2.0\noutput = 8.0\n'
        "[prices.other-model]\ninput = 1.0\noutput = 1.0\n"
    )
    cfg = load_config(path, {})
    assert (cfg.price_in, cfg.price_out, cfg.cost_budget) == (2.0, 8.0, 2.5)
    assert load_config(path, {"price_in": 3.0}).price_in == 3.0  # the option wins
    flat = tmp_path / "flat.toml"
    flat.write_text('llm = "openai:m"\n[prices]\ninput = 0.5\noutput = 1.5\n')
    assert load_config(flat, {}).price_out == 1.5
    with pytest.raises(UserError, match="needs the model's prices"):
        load_config(None, {"cost_budget": 1.0})
    est = expected_use(load_config(path, {"rounds": 4, "partitions": 3, "budget": 60}))
    assert est["by_role"] == {"partitioner": 1, "designer": 12, "reflector": 4}
    assert est["calls"] == 17 and est["cost_usd"] > 0


def _hashes(run_dir) -> dict[str, str]:
    import hashlib

    return {
        str(p.relative_to(run_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and not p.name.endswith(("-shm", "-wal"))  # SQLite's side files
    }


@pytest.mark.slow  # three CLI runs through the HTTP client: over a minute on a loaded machine
def test_cli_token_budget_stops_and_a_resume_may_only_raise_it(monkeypatch, tmp_path, capsys):
    """Through the real OpenAI client and the CLI: the estimate before the run, the stop
    (one line, exit 4), a smaller cap or another option on resume refused (exit 2, no
    file changed), a larger cap continues."""
    from loopback_openai import LoopbackOpenAI, answer, role_of

    from agentnas.cli import main

    def rule(body, n):
        return answer(json.dumps(PARTITION) if role_of(body) == "partitioner" else "{}")

    srv = LoopbackOpenAI(rule)  # every answer: 100 prompt + 7 completion tokens
    monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-loopback-0123456789")
    run_dir = tmp_path / "run"
    # one Designer at a time: parallel ones would each send a request before the first
    # answer's tokens are counted (the cap is then overrun by the requests in flight)
    serial = tmp_path / "serial.toml"
    serial.write_text("max_concurrency = 1\n")
    args = ["--hardware", "hwnasbench:fpga", "--budget", "14", "--rounds", "2",
            "--partitions", "2", "--llm", "openai:m", "--config", str(serial)]  # fmt: skip
    try:
        assert main(["run", "--out", str(run_dir), *args, "--token-budget", "200"]) == 4
        captured = capsys.readouterr()
        out = " ".join(captured.out.split())
        assert "expected LLM use (estimate): ~7 calls" in out and "caps: token-budget 200" in out
        err = captured.err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("stopped: token budget of 200 tokens")
        assert f"--resume {run_dir} --token-budget LARGER" in " ".join(err)
        sent = srv.requests
        assert sent == 2  # 107 + 107 >= 200: no third request
        before = _hashes(run_dir)
        for extra in (["--token-budget", "100"], ["--budget", "30"], ["--max-llm-calls", "9"]):
            assert main(["run", "--resume", str(run_dir), *extra]) == 2
            assert _hashes(run_dir) == before and srv.requests == sent
        capsys.readouterr()
        assert main(["run", "--resume", str(run_dir), "--token-budget", "100000"]) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert "spent so far: 2 calls, 214 tokens" in out
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["evaluations"] == 14 and summary["caps"] == {"token_budget": 100000}
        assert summary["tokens_in"] == 100 * srv.requests and srv.requests > sent
        assert "tokens: " in out
    finally:
        srv.close()
