"""LLM backends: spec parsing, retries/backoff, timeout, budget, tokens, replay by key."""

from __future__ import annotations

import json

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage

from agentnas.agents.llm import (
    OFFLINE_LABEL,
    ChatBackend,
    LLMBudgetExhausted,
    LLMCallFailed,
    ReplayBackend,
    make_llm,
)
from agentnas.agents.schemas import CallKey
from agentnas.tools.errors import UserError

KEY = CallKey(node="design", round=1, partition=2, attempt=0)


class FlakyModel(FakeMessagesListChatModel):
    """Raises ``failures`` times, then answers from ``responses``."""

    failures: int = 0
    seen: int = 0

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen += 1
        if self.seen <= self.failures:
            raise ConnectionError("server said 503")
        return super()._generate(messages, stop, run_manager, **kwargs)


def test_offline_spec_is_labelled_and_has_no_model():
    llm = make_llm("offline")
    assert llm.label == OFFLINE_LABEL == "offline policy (no LLM)"
    assert llm.is_llm is False and llm.chat is None
    with pytest.raises(LLMCallFailed):
        llm.invoke([HumanMessage("hi")], key=KEY)


@pytest.mark.parametrize("spec", ["gpt-4", "openai:", "replay:", "ollama:llama3", "offline:x"])
def test_unknown_spec_is_a_user_error(spec):
    with pytest.raises(UserError, match="offline, openai:MODEL, replay:FILE"):
        make_llm(spec)


def test_openai_needs_a_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError, match="OPENAI_API_KEY"):
        make_llm("openai:gpt-4.1")


def test_openai_backend_never_shows_the_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET-0123456789")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    llm = make_llm("openai:qwen2.5-7b", timeout_s=3, max_retries=1)
    assert llm.label == "openai:qwen2.5-7b" and llm.is_llm
    assert type(llm.chat).__name__ == "ChatOpenAI"
    # retries are the OpenAI client's own (backoff with jitter, Retry-After); none of ours
    assert llm.chat.max_retries == 1 and llm.max_retries == 0
    assert "SECRET" not in llm.label and "SECRET" not in repr(vars(llm).get("label"))


def test_retries_then_answers_and_counts_calls_and_tokens():
    answer = AIMessage(
        content="ok", usage_metadata={"input_tokens": 11, "output_tokens": 4, "total_tokens": 15}
    )
    model = FlakyModel(responses=[answer], failures=2)
    llm = ChatBackend(model, label="fake", max_retries=2, backoff_s=0)
    out = llm.invoke([HumanMessage("hi")], key=KEY)
    assert out.content == "ok"
    assert llm.calls == 3  # two failures + one success
    assert (llm.prompt_tokens, llm.completion_tokens) == (11, 4)


def test_gives_up_after_retries():
    model = FlakyModel(responses=[AIMessage(content="never")], failures=10)
    llm = ChatBackend(model, label="fake", max_retries=1, backoff_s=0)
    with pytest.raises(LLMCallFailed, match=r"2 tries.*503"):
        llm.invoke([HumanMessage("hi")], key=KEY)


def test_timeout_is_enforced():
    model = FakeMessagesListChatModel(responses=[AIMessage(content="late")], sleep=0.5)
    llm = ChatBackend(model, label="slow", timeout_s=0.05, max_retries=0, backoff_s=0)
    with pytest.raises(LLMCallFailed, match="no answer within"):
        llm.invoke([HumanMessage("hi")], key=KEY)


def test_budget_exhausted():
    model = FakeMessagesListChatModel(responses=[AIMessage(content="a")])
    llm = ChatBackend(model, label="fake", max_calls=2, backoff_s=0)
    llm.invoke([HumanMessage("1")], key=KEY)
    llm.invoke([HumanMessage("2")], key=KEY)
    with pytest.raises(LLMBudgetExhausted):
        llm.invoke([HumanMessage("3")], key=KEY)
    assert llm.calls == 2


def _event(node, rnd, part, attempt, content, step=0, **extra):
    return {
        "event": "llm_call",
        "node": node,
        "round": rnd,
        "partition": part,
        "attempt": attempt,
        "step": step,
        "answer": {"content": content, "tool_calls": [], **extra},
        "llm": "openai:gpt-4.1",
    }


def test_replay_matches_by_key_whatever_the_order(tmp_path):
    path = tmp_path / "trace.jsonl"
    events = [
        {"event": "round_start", "round": 1},
        _event("design", 1, 3, 0, "p3 answer", prompt_tokens=7, completion_tokens=2),
        _event("design", 1, 0, 0, "p0 answer"),
        _event("design", 1, 0, 1, "p0 repair"),
        _event("design", 1, 0, 1, "p0 repair after tool", step=1),
        _event("reflect", 1, None, 0, "reflection"),
    ]
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    llm = ReplayBackend(path)
    assert "replay:" in llm.label and "openai:gpt-4.1" in llm.label
    ask = lambda **k: llm.invoke([HumanMessage("x")], key=CallKey(**k)).content  # noqa: E731
    assert ask(node="reflect", round=1, partition=None, attempt=0) == "reflection"
    assert ask(node="design", round=1, partition=0, attempt=1, step=1) == "p0 repair after tool"
    assert ask(node="design", round=1, partition=0, attempt=1) == "p0 repair"
    assert ask(node="design", round=1, partition=3, attempt=0) == "p3 answer"
    assert ask(node="design", round=1, partition=0, attempt=0) == "p0 answer"
    assert (llm.prompt_tokens, llm.completion_tokens) == (7, 2)
    with pytest.raises(LLMCallFailed, match="no recorded answer"):
        ask(node="design", round=1, partition=0, attempt=0)  # used up
    with pytest.raises(LLMCallFailed):
        ask(node="design", round=9, partition=0, attempt=0)


def test_replay_plain_jsonl_in_order(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_text('{"content": "first"}\n\n{"content": "second", "tool_calls": []}\n')
    llm = make_llm(f"replay:{path}")
    assert llm.label == f"replay:{path}"
    assert llm.invoke([], key=KEY).content == "first"
    assert llm.invoke([], key=KEY).content == "second"
    with pytest.raises(LLMCallFailed):
        llm.invoke([], key=KEY)


def test_replay_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        make_llm(f"replay:{tmp_path / 'nope.jsonl'}")


# ------------------------------------------------ hung models, budget, secrets

HUNG_SCRIPT = """
import time
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage
from agentnas.agents.llm import ChatBackend, LLMCallFailed
from agentnas.agents.schemas import CallKey
model = FakeMessagesListChatModel(responses=[AIMessage(content="late")], sleep=60)
llm = ChatBackend(model, label="hung", timeout_s=0.2, max_retries=1, backoff_s=0)
try:
    llm.invoke([HumanMessage("hi")], key=CallKey(node="design", round=0, partition=0, attempt=0))
except LLMCallFailed as exc:
    print("gave up:", exc)
"""


def test_a_hung_model_does_not_keep_the_process_alive():
    """The timeout must bound the whole program, not just the call: a model that never
    answers may not block interpreter exit (it did with a ThreadPoolExecutor, whose
    workers are joined at exit)."""
    import subprocess
    import sys
    import time

    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", HUNG_SCRIPT], capture_output=True, text=True, timeout=40
    )
    took = time.perf_counter() - t0
    assert out.returncode == 0, out.stderr
    assert "gave up" in out.stdout and "no answer within 0.2 s" in out.stdout
    assert took < 30.0  # imports take a few seconds; the hung model sleeps 60


def test_retries_are_paid_from_the_call_budget():
    model = FlakyModel(responses=[AIMessage(content="never")], failures=10)
    llm = ChatBackend(model, label="fake", max_calls=3, max_retries=5, backoff_s=0)
    with pytest.raises(LLMBudgetExhausted):
        llm.invoke([HumanMessage("hi")], key=KEY)
    assert llm.calls == 3 and model.seen == 3


class LeakyModel(FakeMessagesListChatModel):
    """A server whose error message echoes the API key (some proxies do)."""

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        import os

        raise PermissionError(f"401: key {os.environ['OPENAI_API_KEY']} is not allowed")


def test_a_key_echoed_by_the_server_is_redacted(monkeypatch):
    from agentnas.agents.llm import attempt_call
    from agentnas.agents.schemas import Attempt

    monkeypatch.setenv("OPENAI_API_KEY", "sk-SECRET-echoed-0123456789")
    llm = ChatBackend(LeakyModel(responses=[]), label="fake", max_retries=0, backoff_s=0)
    with pytest.raises(LLMCallFailed) as info:
        llm.invoke([HumanMessage("hi")], key=KEY)
    assert "SECRET" not in str(info.value) and "401" in str(info.value)
    att = Attempt(role="designer", key=KEY, label=llm.label)
    reason = attempt_call(llm, [HumanMessage("hi")], att)
    assert isinstance(reason, str) and "SECRET" not in reason
    assert "SECRET" not in json.dumps(att.model_dump(mode="json"))
