"""Whole runs through the LLM code path with a scripted chat model: valid, invalid and
garbage answers all end in a finished run with every failure in the trace; the trace then
replays the run exactly without the model."""

from __future__ import annotations

import csv
import json

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage

from agentnas.agents.llm import ChatBackend, make_llm
from agentnas.graph.config import RunConfig
from agentnas.graph.runner import start_run
from agentnas.graph.trace import read_trace

# one cell with two nor_conv_3x3 (partition of count 2), proposed by every Designer call
CHILD = (
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|nor_conv_3x3~1|"
    "skip_connect~2|"
)
PARTITION_ANSWER = {
    "feature": "n_nor_conv_3x3",
    "groups": [[0, 1], [2, 2], [3, 6]],
    "rationale": "three latency bands",
}
REFLECT_ANSWER = {
    "add": [
        {
            "text": "Keep a skip_connect on edge 3<-0 as a residual path.",
            "polarity": "positive",
            "evidence_for": 1,
        }
    ],
    "revise": [],
    "retire": ["no-such-id"],
}


class ScriptedModel(FakeMessagesListChatModel):
    """Answers by role, read from the system prompt; Designers get garbage on odd calls."""

    calls: int = 0

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        from langchain_core.outputs import ChatGeneration, ChatResult

        system = str(messages[0].content)
        self.calls += 1
        if "Partitioner" in system:
            text = json.dumps(PARTITION_ANSWER)
        elif "Reflector" in system:
            text = "Here you go:\n```json\n" + json.dumps(REFLECT_ANSWER) + "\n```"
        elif self.calls % 2:
            text = "{not json at all"
        else:
            text = json.dumps(
                {
                    "operator": "mutation",
                    "children": [
                        {"arch": CHILD, "parents": [], "rationale": "two 3x3 convs, residual kept"}
                    ],
                }
            )
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def _cfg(**kw):
    return RunConfig(
        hardware="hwnasbench:fpga",
        budget=24,
        rounds=2,
        partitions=3,
        seed=5,
        max_concurrency=1,
        **kw,
    )


def _rows(run_dir):
    with open(run_dir / "candidates.csv") as fh:
        return [(r["arch"], r["operator"], r["designer"]) for r in csv.DictReader(fh)]


def test_scripted_llm_run_survives_garbage_and_traces_it(tmp_path):
    llm = ChatBackend(ScriptedModel(responses=[]), label="fake:scripted", backoff_s=0)
    (tmp_path / "run").mkdir()
    steer = {"action": "constrain", "metric": "latency_ms", "op": "<", "value": 100}
    (tmp_path / "run" / "steer.jsonl").write_text(json.dumps(steer) + "\n")
    summary = start_run(_cfg(), tmp_path / "run", llm=llm)
    assert summary["evaluations"] == 24
    assert summary["llm"] == "fake:scripted" and summary["is_llm"] is True
    assert summary["llm_calls"] > 0
    events = read_trace(tmp_path / "run" / "trace.jsonl")
    parts = next(e for e in events if e["event"] == "partitions")
    assert [(p["low"], p["high"]) for p in parts["partitions"]] == [(0, 1), (2, 2), (3, 6)]
    errors = [err for e in events if e["event"] == "agent_attempt" for err in e["errors"]]
    assert errors, "garbage answers must be recorded as validation failures"
    assert any(e["event"] == "designer_fallback" for e in events)
    rows = _rows(tmp_path / "run")
    assert (CHILD, "mutation", "fake:scripted") in rows  # the valid answer was taken as is
    assert any(op.startswith("fallback") for _, op, _ in rows)
    changes = [c for e in events if e["event"] == "kb_changes" for c in e["changes"]]
    assert any(c["action"] == "add" for c in changes)
    reflector_errors = [
        err
        for e in events
        if e["event"] == "agent_attempt" and e["role"] == "reflector"
        for err in e["errors"]
    ]
    assert any("no-such-id" in err for err in reflector_errors)  # unknown id dropped, noted
    prompts = [
        m["content"]
        for e in events
        if e["event"] == "agent_attempt" and e["role"] == "designer" and e["key"]["round"] == 1
        for m in e["prompt"]
    ]
    assert any("constraint: latency_ms < 100 ms" in p for p in prompts)  # steering reaches them
    assert "OPENAI_API_KEY" not in (tmp_path / "run" / "trace.jsonl").read_text()


def test_trace_replays_the_llm_run_exactly(tmp_path):
    llm = ChatBackend(ScriptedModel(responses=[]), label="fake:scripted", backoff_s=0)
    start_run(_cfg(), tmp_path / "orig", llm=llm)
    replay = make_llm(f"replay:{tmp_path / 'orig' / 'trace.jsonl'}")
    assert "fake:scripted" in replay.label
    start_run(_cfg(llm=f"replay:{tmp_path / 'orig' / 'trace.jsonl'}"), tmp_path / "again")
    assert [a for a, _, _ in _rows(tmp_path / "again")] == [
        a for a, _, _ in _rows(tmp_path / "orig")
    ]


def test_replay_refuses_a_trace_without_llm_answers(tmp_path):
    import pytest

    from agentnas.tools.errors import UserError

    start_run(_cfg(), tmp_path / "offline")  # offline policy: no llm_call events
    with pytest.raises(UserError, match="no recorded LLM answers"):
        make_llm(f"replay:{tmp_path / 'offline' / 'trace.jsonl'}")


def test_replay_tolerates_a_torn_last_line(tmp_path):
    llm = ChatBackend(ScriptedModel(responses=[]), label="fake:scripted", backoff_s=0)
    start_run(_cfg(), tmp_path / "orig", llm=llm)
    trace = tmp_path / "orig" / "trace.jsonl"
    with trace.open("a") as fh:
        fh.write('{"event": "llm_call", "node": "desi')  # crash mid-write
    assert "fake:scripted" in make_llm(f"replay:{trace}").label
