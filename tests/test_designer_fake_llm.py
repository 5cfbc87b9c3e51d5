"""The Designer driven by scripted fake chat models: valid answers are taken as they are,
every kind of bad answer is recorded, sent back with its reason, then filled by the
offline operator (and said so); tool calls are run and recorded; replay reproduces it."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from pydantic import Field

from agentnas.agents.designer import design
from agentnas.agents.llm import OFFLINE_LABEL, ChatBackend, ReplayBackend, llm_call_events
from agentnas.agents.partitioner import offline_partitions
from agentnas.agents.schemas import DesignerContext, HeuristicView, ScoredArch
from agentnas.tools.benchmark_tables import load_nb201
from agentnas.tools.spaces import nb201
from agentnas.tools.spaces.registry import get_space

SPACE = get_space("nb201")
T = load_nb201()
HIST = Counter(str(nb201.op_counts(c)["n_nor_conv_3x3"]) for c in nb201.all_cells())
PARTS = offline_partitions("n_nor_conv_3x3", dict(HIST), 6)
P2 = PARTS[2]  # exactly two nor_conv_3x3


def scored(cell: str) -> ScoredArch:
    i = nb201.cell_to_index(cell)
    return ScoredArch(
        arch=cell,
        metrics={
            "accuracy": float(T.acc200["cifar10"][i]),
            "latency_ms": float(T.hwnasbench_latency_ms["fpga"][i]),
        },
        partition=2,
    )


POOL = [c for c in nb201.all_cells() if nb201.op_counts(c)["n_nor_conv_3x3"] == 2]
PARENTS = [scored(c) for c in random.Random(0).sample(POOL, 5)]
EVALUATED = [p.arch for p in PARENTS]
FRESH = [c for c in random.Random(1).sample(POOL, 20) if c not in EVALUATED][:4]
OUTSIDE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|"
ILLEGAL = "|conv_7x7~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|"


def ctx(n: int = 2, **kw) -> DesignerContext:
    return DesignerContext(
        space="nb201",
        hardware="hwnasbench:fpga",
        objectives=["accuracy", "latency_ms"],
        round=2,
        partition=P2,
        parents=PARENTS,
        heuristics=[HeuristicView(id="h-skip", text="keep skip on 3<-0")],
        n_children=n,
        evaluated=EVALUATED,
        seed=0,
        **kw,
    )


def answer(*cells: str, operator: str = "mutation", used=("h-skip",)) -> str:
    children = [{"arch": c, "parents": [EVALUATED[0]], "rationale": "why"} for c in cells]
    return json.dumps({"operator": operator, "children": children, "heuristics_used": list(used)})


def backend(*replies, **kw) -> ChatBackend:
    msgs = [r if isinstance(r, AIMessage) else AIMessage(content=r) for r in replies]
    return ChatBackend(FakeMessagesListChatModel(responses=msgs), label="fake", backoff_s=0, **kw)


def test_valid_answer_is_taken_as_is():
    res = design(ctx(2), backend(answer(*FRESH[:2])), SPACE)
    assert [c.arch for c in res.children] == FRESH[:2]
    assert not res.fallback_used and res.fallback_reason is None
    assert [c.heuristics_used for c in res.children] == [["h-skip"], ["h-skip"]]
    att = res.attempts[0]
    assert len(res.attempts) == 1 and att.errors == [] and att.label == "fake"
    assert att.parsed["children"][0]["arch"] == FRESH[0]
    assert "partition 2" in att.prompt[-1]["content"]
    assert "latency_ms=" in att.prompt[-1]["content"]  # parents are shown with metrics


def test_answer_in_prose_and_code_fence_is_parsed():
    reply = f"Sure! Here is my design.\n```json\n{answer(FRESH[0])}\n```\nHope it helps."
    res = design(ctx(1), backend(reply), SPACE)
    assert [c.arch for c in res.children] == [FRESH[0]] and not res.fallback_used


BAD = {
    "malformed JSON": ('{"children": [{"arch": "x", }', "no JSON object"),
    "illegal op": (answer(ILLEGAL), "unknown op 'conv_7x7'"),
    "outside partition": (answer(OUTSIDE), "outside partition 2"),
    "duplicate of evaluated": (answer(EVALUATED[1]), "already evaluated"),
    "empty answer": ("", "the answer was empty"),
    "refusal": ("I can't help with that.", "refusal"),
    "no children": ('{"operator": "mutation", "children": []}', "no children"),
    "deep nesting": ("[" * 1000, "no JSON object found"),
    "huge answer": ("{" + "x" * 300_000, "characters long"),
    "lone surrogate": (answer("\ud800|nor_conv_3x3~0|"), "malformed NB201 cell"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_answer_is_repaired_with_the_reason(case):
    bad, reason = BAD[case]
    res = design(ctx(1), backend(bad, answer(FRESH[0])), SPACE)
    assert [c.arch for c in res.children] == [FRESH[0]]
    assert not res.fallback_used
    first, second = res.attempts
    assert any(reason in e for e in first.errors), first.errors
    feedback = second.prompt[-1]["content"]
    assert "was not accepted" in feedback and reason in feedback


@pytest.mark.parametrize("case", list(BAD))
def test_persistent_bad_answers_fall_back_to_offline(case):
    bad, reason = BAD[case]
    res = design(ctx(2, max_repairs=2), backend(bad), SPACE)
    assert res.fallback_used and reason in res.fallback_reason
    assert len(res.attempts) == 4  # three model attempts + the offline fill
    assert all(any(reason in e for e in a.errors) for a in res.attempts[:3])
    assert res.attempts[-1].label == OFFLINE_LABEL
    assert len(res.children) == 2
    for c in res.children:
        assert c.operator.startswith("fallback-")
        assert c.arch not in EVALUATED and nb201.op_counts(c.arch)["n_nor_conv_3x3"] == 2


def test_partly_valid_answer_keeps_the_good_child_and_asks_for_the_rest():
    res = design(ctx(2), backend(answer(FRESH[0], OUTSIDE), answer(FRESH[0], FRESH[1])), SPACE)
    assert [c.arch for c in res.children] == FRESH[:2]
    assert "outside partition" in res.attempts[0].errors[0]
    feedback = res.attempts[1].prompt[-1]["content"]
    assert "1 children were accepted" in feedback and "propose 1 more" in feedback
    assert "already evaluated or proposed" in res.attempts[1].errors[0]  # FRESH[0] again


class BrokenModel(FakeMessagesListChatModel):
    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        raise RuntimeError("model server exploded")


def test_model_exception_falls_back():
    llm = ChatBackend(
        BrokenModel(responses=[AIMessage(content="")]), label="fake", max_retries=1, backoff_s=0
    )
    res = design(ctx(2), llm, SPACE)
    assert res.fallback_used and "exploded" in res.fallback_reason
    assert "LLMCallFailed" in res.attempts[0].errors[0]
    assert len(res.children) == 2 and llm.calls == 2


def test_timeout_falls_back():
    model = FakeMessagesListChatModel(responses=[AIMessage(content=answer(FRESH[0]))], sleep=0.4)
    llm = ChatBackend(model, label="slow", timeout_s=0.05, max_retries=0, backoff_s=0)
    res = design(ctx(1), llm, SPACE)
    assert res.fallback_used and "no answer within" in res.fallback_reason


def test_budget_exhausted_falls_back():
    llm = backend('{"nope": 1}', max_calls=1)
    res = design(ctx(1, max_repairs=2), llm, SPACE)
    assert res.fallback_used and "LLMBudgetExhausted" in res.fallback_reason
    assert llm.calls == 1 and len(res.children) == 1


class ToolCallingFake(FakeMessagesListChatModel):
    """A fake chat model that accepts tools (the stock fakes raise NotImplementedError)."""

    bound: list[str] = Field(default_factory=list)

    def bind_tools(self, tools, **kwargs):
        self.bound = [t.name for t in tools]
        return self


@tool
def hardware_metrics(arch: str) -> dict:
    """Latency (ms) of an NB201 cell on the FPGA of HW-NAS-Bench."""
    return {"latency_ms": float(T.hwnasbench_latency_ms["fpga"][nb201.cell_to_index(arch)])}


def test_tool_call_then_answer_is_recorded():
    call = AIMessage(
        content="",
        tool_calls=[{"name": "hardware_metrics", "args": {"arch": FRESH[0]}, "id": "c1"}],
        usage_metadata={"input_tokens": 100, "output_tokens": 10, "total_tokens": 110},
    )
    final = AIMessage(
        content=answer(FRESH[0]),
        usage_metadata={"input_tokens": 150, "output_tokens": 30, "total_tokens": 180},
    )
    model = ToolCallingFake(responses=[call, final])
    llm = ChatBackend(model, label="fake-tools", backoff_s=0)
    res = design(ctx(1), llm, SPACE, tools=[hardware_metrics])
    assert [c.arch for c in res.children] == [FRESH[0]] and not res.fallback_used
    assert model.bound == ["hardware_metrics"]
    att = res.attempts[0]
    assert len(att.tool_calls) == 1
    tc = att.tool_calls[0]
    expected = T.hwnasbench_latency_ms["fpga"][nb201.cell_to_index(FRESH[0])]
    assert tc["name"] == "hardware_metrics" and tc["args"] == {"arch": FRESH[0]}
    assert json.loads(tc["result"])["latency_ms"] == pytest.approx(expected)
    assert (att.prompt_tokens, att.completion_tokens) == (250, 40)
    assert [c["step"] for c in att.llm_calls] == [0, 1]
    assert "hardware_metrics" in att.prompt[-1]["content"]  # the prompt names the tool


def test_tools_are_skipped_when_the_model_cannot_bind_them():
    res = design(ctx(1), backend(answer(FRESH[0])), SPACE, tools=[hardware_metrics])
    assert [c.arch for c in res.children] == [FRESH[0]]
    assert "hardware_metrics" not in res.attempts[0].prompt[-1]["content"]


def test_trace_records_replay_the_same_design(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-SECRET-must-not-leak")
    live = backend(answer(OUTSIDE), answer(FRESH[2]))
    res = design(ctx(1), live, SPACE)
    events = [e for a in res.attempts for e in llm_call_events(a)]
    dump = json.dumps([a.model_dump(mode="json") for a in res.attempts])
    assert "SECRET" not in dump
    path = tmp_path / "trace.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in reversed(events)) + "\n")
    replayed = design(ctx(1), ReplayBackend(path), SPACE)
    assert [c.arch for c in replayed.children] == [c.arch for c in res.children] == [FRESH[2]]
    assert replayed.attempts[0].errors == res.attempts[0].errors
