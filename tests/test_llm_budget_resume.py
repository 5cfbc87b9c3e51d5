"""``--max-llm-calls`` is one budget per run: a crash in the middle of a round and a
``--resume`` together send at most that many requests, and ``summary.json`` reports the
run-wide usage (every process, retries and the requests of interrupted work included)."""

from __future__ import annotations

import json
import threading

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from agentnas.agents.llm import ChatBackend
from agentnas.graph.config import RunConfig
from agentnas.graph.runner import resume_run, start_run
from agentnas.graph.trace import read_trace

BUDGET = 5
PARTITION = {"feature": "n_nor_conv_3x3", "groups": [[0, 1], [2, 6]], "rationale": "two bands"}


class Crash(BaseException):
    """Stands for the process dying (kill -9) while a request is out: nothing catches it."""


class CountingModel(FakeMessagesListChatModel):
    """Answers the Partitioner with a plan and every other role with unusable text (so
    each Designer repairs, spending requests); from request ``crash_at`` on it raises
    :class:`Crash` (the process is dead: a Designer running beside the one that died gets
    no answer either). ``seen`` counts every request that reached the model."""

    crash_at: int | None = None
    seen: int = 0

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen += 1
        if self.crash_at is not None and self.seen >= self.crash_at:
            raise Crash
        system = str(messages[0].content)
        text = json.dumps(PARTITION) if "Partitioner" in system else "no JSON here"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def _cfg() -> RunConfig:
    return RunConfig(
        hardware="hwnasbench:fpga",
        budget=20,
        rounds=3,
        partitions=2,
        seed=3,
        max_concurrency=1,
        max_llm_calls=BUDGET,
        on_llm_failure="fallback",  # the offline policy goes on once the budget is spent
        llm="openai:stands-for-the-fake",  # what config.json records; the fake is passed in
    )


def _backend(model: CountingModel) -> ChatBackend:
    return ChatBackend(model, label="fake:counting", max_calls=BUDGET, backoff_s=0)


def test_a_crash_and_a_resume_share_one_call_budget(tmp_path):
    run_dir = tmp_path / "run"
    first = CountingModel(responses=[], crash_at=3)  # partition, design try 1, dies on try 2
    with pytest.raises(Crash):
        start_run(_cfg(), run_dir, llm=_backend(first))
    assert not (run_dir / "summary.json").exists()
    second = CountingModel(responses=[])
    summary = resume_run(run_dir, llm=_backend(second))
    assert summary["evaluations"] == 20  # the offline policy finished the run
    assert first.seen >= 3
    assert second.seen == BUDGET - first.seen  # a fresh budget would have allowed 5 more
    usage = summary["llm_usage"]
    assert summary["llm_calls"] == usage["calls"] == BUDGET  # run-wide, not this process's
    assert usage["attempts"] >= 2 and usage["repairs"] >= 1 and usage["fallbacks"] >= 1
    events = read_trace(run_dir / "trace.jsonl")
    assert sum(e["event"] == "llm_request" for e in events) == BUDGET
    assert any("budget of 5 calls is spent" in err for e in events for err in e.get("errors", []))


def test_usage_counts_retries_and_survives_a_resume_of_a_finished_run(tmp_path):
    class Flaky(CountingModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            if self.seen == 1:  # the second request fails once, then is retried
                self.seen += 1
                raise TimeoutError("slow server")
            return super()._generate(messages, stop, run_manager, **kwargs)

    run_dir = tmp_path / "run"
    model = Flaky(responses=[])
    summary = start_run(_cfg(), run_dir, llm=_backend(model))
    assert model.seen == BUDGET and summary["llm_usage"]["calls"] == BUDGET
    assert summary["llm_usage"]["retries"] == 1
    again = CountingModel(responses=[])
    assert resume_run(run_dir, llm=_backend(again))["llm_usage"] == summary["llm_usage"]
    assert again.seen == 0


def test_parallel_designers_never_overrun_the_budget(tmp_path):
    lock = threading.Lock()

    class Parallel(CountingModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            with lock:
                return super()._generate(messages, stop, run_manager, **kwargs)

    cfg = _cfg().model_copy(update={"max_concurrency": 4, "partitions": 4})
    model = Parallel(responses=[])
    summary = start_run(cfg, tmp_path / "run", llm=_backend(model))
    assert model.seen == BUDGET == summary["llm_usage"]["calls"]
