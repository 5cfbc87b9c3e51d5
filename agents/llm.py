"""LLM backends behind one small interface: ``make_llm("offline" | "openai:MODEL" |
"replay:FILE")``.

* ``openai:MODEL`` — ``langchain_openai.ChatOpenAI`` with the key and base URL taken from
  the environment (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``), so OpenAI, vLLM, Ollama and
  llama.cpp servers all work. The key never leaves the client object: labels, attempts and
  trace records carry the model name only.
* ``offline`` — no model at all; the agents see ``is_llm == False`` and play their role
  with the deterministic rule-based policy (:mod:`agentnas.agents.offline_policy`).
* ``replay:FILE`` — answers from a recorded ``trace.jsonl`` (matched by :class:`CallKey`,
  because parallel Designers make the global order unstable) or from a plain JSONL of
  ``{"content": …}`` lines, answered in order.

Any ``BaseChatModel`` can be wrapped with :class:`ChatBackend`, which is how tests drive
the agents with langchain-core fake chat models. Retries (with exponential backoff),
timeouts, a call budget and token counts live here, once, for every role.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage

from agentnas.agents.schemas import Attempt, CallKey
from agentnas.tools.errors import EndpointError, UserError

OFFLINE_LABEL = "offline policy (no LLM)"
SECRET_ENV = ("OPENAI_API_KEY",)
"""Environment variables whose values never appear in an error, attempt or trace."""
REDACTED = "[redacted]"
STOP_AFTER = 3
"""Endpoint faults in a row (each after the client's own retries) that stop a run."""


def redact(text: str) -> str:
    """``text`` with the value of every :data:`SECRET_ENV` variable replaced by
    ``[redacted]``: a server or proxy may echo the key in its error message, and errors
    go into attempts, fallback reasons and the trace."""
    for name in SECRET_ENV:
        secret = os.environ.get(name, "")
        if len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


class LLMBudgetExhausted(Exception):
    """A cap of the run (``--max-llm-calls``, tokens, cost, time) is spent: no request is
    sent, and the role falls back to the offline policy for this call.
    ``tries``: requests this call had sent before the budget ran out."""

    def __init__(self, message: str, *, tries: int = 0) -> None:
        super().__init__(message)
        self.tries = tries


class LLMCallFailed(Exception):
    """A model call failed after all retries (timeout, server error, no replay answer).
    ``tries``: requests sent for it, each counted against the budget."""

    def __init__(self, message: str, *, tries: int = 0) -> None:
        super().__init__(message)
        self.tries = tries


def as_key(key: CallKey | dict[str, Any]) -> CallKey:
    return key if isinstance(key, CallKey) else CallKey.model_validate(key)


def answer_of(message: AIMessage) -> dict[str, Any]:
    """The JSON-native record of a model answer: its text and its tool calls."""
    content = message.content if isinstance(message.content, str) else json.dumps(message.content)
    calls = [
        {"name": c.get("name", ""), "args": c.get("args", {}), "id": c.get("id") or ""}
        for c in (message.tool_calls or [])
    ]
    return {"content": content, "tool_calls": calls}


def message_of(answer: dict[str, Any]) -> AIMessage:
    """Inverse of :func:`answer_of` (used by the replay backend)."""
    calls = [
        {"name": c["name"], "args": c.get("args", {}), "id": c.get("id") or f"call_{i}"}
        for i, c in enumerate(answer.get("tool_calls") or [])
    ]
    p, c = int(answer.get("prompt_tokens", 0)), int(answer.get("completion_tokens", 0))
    usage = {"input_tokens": p, "output_tokens": c, "total_tokens": p + c} if p or c else None
    return AIMessage(
        content=str(answer.get("content") or ""), tool_calls=calls, usage_metadata=usage
    )


def tokens_of(message: AIMessage) -> tuple[int, int]:
    """(prompt, completion) tokens of one answer: ``usage_metadata`` when the server sent
    it, else the older ``response_metadata["token_usage"]``, else zeros."""
    usage = getattr(message, "usage_metadata", None) or {}
    if usage:
        return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    tu = (message.response_metadata or {}).get("token_usage") or {}
    return int(tu.get("prompt_tokens", 0)), int(tu.get("completion_tokens", 0))


def prompt_record(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """Messages as ``[{"role", "content"}]`` for attempts and the trace."""
    out = []
    for m in messages:
        content = m.content if isinstance(m.content, str) else json.dumps(m.content)
        out.append({"role": m.type, "content": content})
    return out


def llm_call_events(attempt: Attempt) -> list[dict[str, Any]]:
    """Trace records (``"event": "llm_call"``) for every model request of an attempt, in the
    form :class:`ReplayBackend` reads back. The graph writes these next to the attempt."""
    return [{"event": "llm_call", **record} for record in attempt.llm_calls]


class LLMBackend:
    """What the agents call. Subclasses implement :meth:`request`.

    ``calls`` counts the requests sent, retries included, and enforces ``max_calls`` under
    a lock, so parallel Designers never overrun it; ``caps`` (set by the graph:
    :class:`~agentnas.agents.usage.Caps`) adds the token, cost and time limits, checked
    before each request against these counters and ``clock()`` (the run's wall seconds).
    The counters start from the run's earlier requests and tokens (:meth:`resume_from`)
    so a resumed run shares one budget with the process that was killed. ``on_request``
    and ``on_answer`` (set by the graph) journal each request before it is sent and the
    tokens of each answer as it arrives. The run's accounting is
    :mod:`agentnas.agents.usage`; these counters only guard the caps."""

    label: str = ""
    is_llm: bool = True
    chat: BaseChatModel | None = None

    def __init__(self, *, max_calls: int | None = None) -> None:
        self.max_calls = max_calls
        self.calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.on_request: Callable[[CallKey], None] | None = None
        self.on_answer: Callable[[int, int], None] | None = None
        self.caps: Any = None  # agents.usage.Caps of the run, or None
        self.clock: Callable[[], float] = lambda: 0.0
        self.in_flight = 0  # requests sent whose answer has not come back yet
        self._lock = threading.Lock()

    def resume_from(self, calls: int, prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        """Count the requests and tokens an earlier process of the same run already spent."""
        with self._lock:
            self.calls = max(self.calls, int(calls))
            self.prompt_tokens = max(self.prompt_tokens, int(prompt_tokens))
            self.completion_tokens = max(self.completion_tokens, int(completion_tokens))

    def spent(self) -> dict[str, int]:
        """Run-wide requests and tokens as far as this process knows them."""
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }

    def expected(self) -> dict[str, int]:
        """:meth:`spent` plus the tokens the requests in flight are expected to bring (the
        mean per request so far): parallel Designers asking at once do not each see the
        budget as it was before any of them was answered."""
        spent = self.spent()
        answered = self.calls - self.in_flight
        if self.in_flight and answered > 0:
            for k in ("prompt_tokens", "completion_tokens"):
                spent[k] += round(self.in_flight * spent[k] / answered)
        return spent

    def cap_reached(self) -> str | None:
        """The cap (``max_calls`` or one of ``caps``) that is spent, in words, or None.
        Token and cost caps count the requests in flight at their expected size."""
        if self.max_calls is not None and self.calls >= self.max_calls:
            return f"LLM call budget of {self.max_calls} calls is spent"
        if self.caps is None:
            return None
        return self.caps.reached(self.expected(), self.clock())

    def _reserve_call(self, key: CallKey, tries: int = 0) -> None:
        with self._lock:
            spent = self.cap_reached()
            if spent is not None:
                raise LLMBudgetExhausted(spent, tries=tries)
            self.calls += 1
            self.in_flight += 1
            if self.on_request is not None:
                self.on_request(key)

    def _release_call(self) -> None:
        """A reserved request came back (answer or failure) or was given up."""
        with self._lock:
            self.in_flight = max(0, self.in_flight - 1)

    def _count_tokens(self, message: AIMessage) -> tuple[int, int]:
        p, c = tokens_of(message)
        with self._lock:
            self.prompt_tokens += p
            self.completion_tokens += c
            if self.on_answer is not None:
                self.on_answer(p, c)
        return p, c

    def request(
        self,
        messages: Sequence[BaseMessage],
        *,
        key: CallKey | dict[str, Any],
        tools: Sequence[Any] | None = None,
    ) -> tuple[AIMessage, int]:
        """The model's answer and the number of requests it took (retries included)."""
        raise NotImplementedError

    def invoke(
        self,
        messages: Sequence[BaseMessage],
        *,
        key: CallKey | dict[str, Any],
        tools: Sequence[Any] | None = None,
    ) -> AIMessage:
        return self.request(messages, key=key, tools=tools)[0]

    def supports_tools(self) -> bool:
        return False


class OfflineBackend(LLMBackend):
    """No model: agents check ``is_llm`` and use the rule-based policy instead."""

    label = OFFLINE_LABEL
    is_llm = False

    def request(self, messages, *, key, tools=None) -> tuple[AIMessage, int]:  # type: ignore[override]
        raise LLMCallFailed("the offline policy has no LLM to call")


class ChatBackend(LLMBackend):
    """Any LangChain chat model with retries, backoff, a timeout and a call budget.

    ``timeout_s`` is enforced here for every model: each try runs in its own daemon thread,
    so a hung call is abandoned after ``timeout_s`` and cannot keep the process alive at
    exit (a thread pool's workers would be joined then); ``ChatOpenAI`` additionally gets
    it as its HTTP timeout. ``max_retries`` is the
    number of retries after the first try; the wait before retry i is
    ``backoff_s * 2**i`` seconds.
    """

    def __init__(
        self,
        chat_model: BaseChatModel,
        *,
        label: str,
        max_calls: int | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        backoff_s: float = 1.0,
        on_failure: str = "fallback",
        stop_after: int = STOP_AFTER,
    ) -> None:
        super().__init__(max_calls=max_calls)
        self.chat = chat_model
        self.label = label
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.on_failure = on_failure
        self.stop_after = stop_after
        self.failed_calls = 0  # calls that failed after every retry (the role fell back)
        self._streak = 0  # consecutive endpoint faults
        self._tools_ok: bool | None = None

    def supports_tools(self) -> bool:
        if self._tools_ok is None:
            try:
                self.chat.bind_tools([])  # type: ignore[union-attr]
                self._tools_ok = True
            except NotImplementedError:
                self._tools_ok = False
            except Exception:  # some servers refuse an empty tool list; try for real later
                self._tools_ok = True
        return self._tools_ok

    def _runnable(self, tools: Sequence[Any] | None) -> Any:
        if tools and self.supports_tools():
            try:
                return self.chat.bind_tools(list(tools))  # type: ignore[union-attr]
            except NotImplementedError:
                self._tools_ok = False
        return self.chat

    def request(self, messages, *, key, tools=None) -> tuple[AIMessage, int]:  # type: ignore[override]
        k = as_key(key)  # refuse malformed keys early
        runnable = self._runnable(tools)
        last: Exception | None = None
        for i in range(self.max_retries + 1):
            self._reserve_call(k, tries=i)
            try:
                message = _call_with_timeout(runnable.invoke, list(messages), self.timeout_s)
            except LLMBudgetExhausted:
                raise
            except Exception as exc:  # timeouts, server errors, rate limits, network: retry
                last = exc
            else:
                if not isinstance(message, AIMessage):
                    message = AIMessage(content=str(getattr(message, "content", message)))
                self._count_tokens(message)
                with self._lock:
                    self._streak = 0
                return message, i + 1
            finally:
                self._release_call()
            if i < self.max_retries and self.backoff_s > 0:
                time.sleep(self.backoff_s * 2**i)
        self._failed(last)
        raise LLMCallFailed(
            redact(
                f"{self.label}: call failed after {self.max_retries + 1} tries: "
                f"{type(last).__name__}: {last}"
            ),
            tries=self.max_retries + 1,
        )

    def _failed(self, exc: Exception | None) -> None:
        """Count a failed call; under ``on_failure="stop"``, :data:`STOP_AFTER` endpoint
        faults in a row (:func:`endpoint_fault`) stop the run with :class:`EndpointError`.
        Other failures (a fake model raising, an odd exception) only fall back."""
        cause = endpoint_fault(exc)
        with self._lock:
            self.failed_calls += 1
            self._streak = self._streak + 1 if cause else 0
            streak = self._streak
        if cause and self.on_failure == "stop" and streak >= self.stop_after:
            raise EndpointError(
                redact(
                    f"LLM endpoint {self.label} failed {streak} calls in a row: {cause}; the "
                    f"run is checkpointed: fix the endpoint, then agentnas run --resume "
                    f"RUN_DIR (or start with --on-llm-failure fallback)"
                )
            )


def endpoint_fault(exc: BaseException | None) -> str | None:
    """What is wrong with the endpoint, in words, when ``exc`` is the endpoint's fault
    (the OpenAI client's errors: connection refused, DNS, timeouts, 401/403, unknown
    model, 429/5xx left after its retries); ``None`` for anything else."""
    try:
        import openai
    except ImportError:  # pragma: no cover - langchain-openai brings it
        return None
    base = os.environ.get("OPENAI_BASE_URL") or "the OpenAI API"
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return f"no answer from {base} in time (timeout)"
    if isinstance(exc, openai.APIConnectionError):
        inner: BaseException | None = exc
        while isinstance(inner, openai.APIError):  # down to the socket's own words
            inner = inner.__cause__ or inner.__context__
        detail = f" ({inner})" if inner else ""
        return f"cannot connect to {base}{detail}"
    if isinstance(exc, openai.AuthenticationError):
        return f"{base} refused the API key (401): check OPENAI_API_KEY"
    if isinstance(exc, openai.PermissionDeniedError):
        return f"{base} denied access (403): check the key's permissions"
    if isinstance(exc, openai.NotFoundError):
        return f"{base} has no such model or path (404): check the model name and OPENAI_BASE_URL"
    if isinstance(exc, openai.RateLimitError):
        return f"{base} kept rate-limiting (429) through every retry"
    if isinstance(exc, openai.APIStatusError):
        return f"{base} answered HTTP {exc.status_code} through every retry"
    return None


def _call_with_timeout(fn: Any, arg: Any, timeout_s: float) -> Any:
    """``fn(arg)`` in a daemon thread; its result or exception, or :class:`TimeoutError`
    after ``timeout_s`` seconds (the thread is then abandoned: Python cannot stop it, but
    as a daemon it does not delay interpreter exit)."""
    done = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn(arg)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="llm-call", daemon=True).start()
    if not done.wait(timeout_s):
        raise TimeoutError(f"no answer within {timeout_s:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


class ReplayBackend(LLMBackend):
    """Answers recorded earlier: by :class:`CallKey` from a trace, or in order from a JSONL
    of answers. A missing or exhausted answer raises :class:`LLMCallFailed`."""

    def __init__(self, path: str | Path, *, max_calls: int | None = None) -> None:
        super().__init__(max_calls=max_calls)
        self.path = Path(path)
        if not self.path.is_file():
            raise UserError(f"replay file '{path}' does not exist; give a trace.jsonl or a JSONL")
        self._keyed: dict[tuple, deque[dict[str, Any]]] = {}
        self._ordered: deque[dict[str, Any]] = deque()
        original = ""
        lines = self.path.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                if n == len(lines):  # a torn last line of a crashed run's trace
                    continue
                raise UserError(f"replay file '{path}' line {n} is not JSON") from None
            if not isinstance(rec, dict):
                continue
            if rec.get("event") == "llm_call" and isinstance(rec.get("answer"), dict):
                key = CallKey(
                    node=str(rec.get("node", "")),
                    round=int(rec.get("round", 0)),
                    partition=rec.get("partition"),
                    attempt=int(rec.get("attempt", 0)),
                    step=int(rec.get("step", 0)),
                ).tuple()
                self._keyed.setdefault(key, deque()).append(rec["answer"])
                original = original or str(rec.get("llm") or "")
            elif "event" not in rec and ("content" in rec or "tool_calls" in rec):
                self._ordered.append(rec)
        if not self._keyed and not self._ordered:
            raise UserError(
                f"replay file '{path}' holds no recorded LLM answers (a trace of an offline "
                "run has none); give the trace.jsonl of an LLM run or a JSONL of answers"
            )
        self.label = f"replay:{self.path}" + (f" (recorded from {original})" if original else "")

    def supports_tools(self) -> bool:
        return True  # recorded tool calls are replayed as they were made

    def request(self, messages, *, key, tools=None) -> tuple[AIMessage, int]:  # type: ignore[override]
        call_key = as_key(key)
        k = call_key.tuple()
        self._reserve_call(call_key)
        self._release_call()  # answered at once, from the file
        with self._lock:
            if self._keyed:
                queue = self._keyed.get(k)
                answer = queue.popleft() if queue else None
            else:
                answer = self._ordered.popleft() if self._ordered else None
        if answer is None:
            raise LLMCallFailed(f"{self.label}: no recorded answer for call {k}", tries=1)
        message = message_of(answer)
        self._count_tokens(message)
        return message, 1


def make_llm(
    spec: str = "offline",
    *,
    seed: int = 0,
    max_calls: int | None = None,
    timeout_s: float = 60,
    max_retries: int = 2,
    on_failure: str = "stop",
) -> LLMBackend:
    """Build the backend a user named with ``--llm``. ``on_failure``: "stop" (a dead
    endpoint stops the run, exit 3) or "fallback" (the offline policy answers instead)."""
    kind, _, arg = (spec or "offline").partition(":")
    if kind == "offline" and not arg:
        return OfflineBackend(max_calls=max_calls)
    if kind == "replay" and arg:
        return ReplayBackend(arg, max_calls=max_calls)
    if kind == "openai" and arg:
        if not os.environ.get("OPENAI_API_KEY"):
            raise UserError(
                "--llm openai:MODEL needs OPENAI_API_KEY in the environment (any non-empty "
                "value for local vLLM/Ollama/llama.cpp servers, with OPENAI_BASE_URL); "
                "or use --llm offline"
            )
        from langchain_openai import ChatOpenAI

        # retries are the OpenAI client's own: exponential backoff with jitter on
        # timeouts, connection errors, 408/409/429 (honouring Retry-After) and 5xx
        chat = ChatOpenAI(
            model=arg,
            base_url=os.environ.get("OPENAI_BASE_URL") or None,
            timeout=timeout_s,
            max_retries=max_retries,
            seed=seed,
        )
        # the watchdog thread allows every try its timeout plus the client's waits
        # (at most 8 s each, Retry-After up to 60 s)
        watchdog = timeout_s * (max_retries + 1) + 10 * max_retries
        return ChatBackend(
            chat, label=f"openai:{arg}", max_calls=max_calls, timeout_s=watchdog,
            max_retries=0, on_failure=on_failure,
        )  # fmt: skip
    raise UserError(f"unknown --llm '{spec}'; accepted: offline, openai:MODEL, replay:FILE")


def call_model(
    llm: LLMBackend,
    messages: Sequence[BaseMessage],
    *,
    key: CallKey,
    attempt: Attempt,
    tools: Sequence[Any] | None = None,
    max_tool_steps: int = 4,
) -> tuple[AIMessage, list[BaseMessage]]:
    """One attempt's conversation: ask, run the tools the model calls (recording each call
    and its result in ``attempt.tool_calls``), ask again, until the model answers without
    calling a known tool or ``max_tool_steps`` tool rounds are used. Every request is
    recorded in ``attempt.llm_calls`` for replay; tokens are added to the attempt.
    Returns the final answer and the transcript (input messages included)."""
    from langchain_core.messages import ToolMessage

    by_name = {getattr(t, "name", ""): t for t in (tools or [])}
    transcript = list(messages)
    message = AIMessage(content="")
    for step in range(max_tool_steps + 1):
        k = key.model_copy(update={"step": step})
        offer = tools if (tools and step < max_tool_steps) else None
        try:
            message, tries = llm.request(transcript, key=k, tools=offer)
        except (LLMCallFailed, LLMBudgetExhausted) as exc:
            attempt.requests += exc.tries
            attempt.retries += max(0, exc.tries - 1)
            raise
        attempt.requests += tries
        attempt.retries += tries - 1
        p, c = tokens_of(message)
        attempt.prompt_tokens += p
        attempt.completion_tokens += c
        record = {**answer_of(message), "prompt_tokens": p, "completion_tokens": c}
        attempt.llm_calls.append({**k.model_dump(), "answer": record, "llm": llm.label})
        calls = [tc for tc in (message.tool_calls or []) if tc.get("name") in by_name]
        if not calls or offer is None:
            return message, transcript
        transcript.append(message)
        for tc in message.tool_calls:
            name, args = tc.get("name", ""), tc.get("args") or {}
            tool = by_name.get(name)
            if tool is None:
                result = f"unknown tool {name!r}; available: {', '.join(by_name)}"
            else:
                try:
                    result = tool.invoke(args)
                except Exception as exc:  # a tool refusing bad arguments is an answer too
                    result = f"tool error: {type(exc).__name__}: {exc}"
            text = result if isinstance(result, str) else json.dumps(result, default=str)
            attempt.tool_calls.append({"name": name, "args": args, "result": text[:4000]})
            transcript.append(ToolMessage(content=text, tool_call_id=tc.get("id") or name))
    return message, transcript


def attempt_call(
    llm: LLMBackend,
    messages: Sequence[BaseMessage],
    attempt: Attempt,
    *,
    tools: Sequence[Any] | None = None,
    max_tool_steps: int = 4,
) -> tuple[AIMessage, list[BaseMessage]] | str:
    """:func:`call_model` under ``attempt.key`` for an agent's repair loop, which must
    never crash: fills ``attempt.seconds`` and ``attempt.answer``; on any exception it
    records it in ``attempt.errors`` and returns the reason (a string) instead of the
    answer and transcript. Budget and call failures read "LLM unavailable (…)", anything
    else "LLM call raised …"."""
    t0 = time.perf_counter()
    try:
        message, transcript = call_model(
            llm, messages, key=attempt.key, attempt=attempt, tools=tools,
            max_tool_steps=max_tool_steps,
        )  # fmt: skip
    except EndpointError:
        raise  # the endpoint is down: the run stops (exit 3), this is no bad answer
    except (LLMCallFailed, LLMBudgetExhausted) as exc:
        why = redact(f"{type(exc).__name__}: {exc}")
        attempt.errors.append(why)
        return f"LLM unavailable ({why})"
    except Exception as exc:  # a bug-free model can still raise odd things; never crash
        why = redact(f"{type(exc).__name__}: {exc}")
        attempt.errors.append(why)
        return f"LLM call raised {why}"
    finally:
        attempt.seconds = time.perf_counter() - t0
    attempt.answer = answer_of(message)
    return message, transcript
