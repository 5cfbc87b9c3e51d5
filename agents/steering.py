"""The steering agent: turns a chat message into steering commands.

The graph applies commands at round boundaries (``steer`` node); ``agentnas chat`` and
``agentnas steer`` (through ``RUN_DIR/steer.jsonl``) produce them with :func:`interpret`:
with an LLM, the model answers JSON ``{"commands": [...], "reply": "..."}`` (one repair
after an invalid answer, then the offline interpreter decides and the reply says so);
without one, the deterministic rule-based interpreter :func:`interpret_offline`
("offline policy (no LLM)", :mod:`agentnas.agents.steering_rules`) does. The commands and
the context are defined in :mod:`agentnas.agents.steering_commands` (re-exported here);
the prompt is in :mod:`agentnas.agents.prompts`. Only the command models are used by the
graph.
"""

from __future__ import annotations

import time
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from agentnas.agents import prompts
from agentnas.agents.llm import (
    OFFLINE_LABEL,
    LLMBackend,
    LLMBudgetExhausted,
    LLMCallFailed,
    answer_of,
    prompt_record,
)
from agentnas.agents.schemas import Attempt, CallKey
from agentnas.agents.steering_commands import (
    SteerAction,
    SteerAnswer,
    SteerCommand,
    SteerContext,
    SteerPartition,
    check_commands,
    describe,
)
from agentnas.agents.steering_rules import interpret_offline
from agentnas.agents.structured import parse_answer

__all__ = [
    "SteerAction",
    "SteerAnswer",
    "SteerCommand",
    "SteerContext",
    "SteerPartition",
    "SteerResult",
    "check_commands",
    "describe",
    "interpret",
    "interpret_offline",
]


class SteerResult(BaseModel):
    """``commands`` empty means nothing actionable was understood (the chat asks again);
    ``[continue]`` means the user wants the run to go on unchanged."""

    commands: list[SteerCommand]
    reply: str
    attempts: list[Attempt] = Field(default_factory=list)  # role "steering"
    label: str = OFFLINE_LABEL  # who decided: the model label or the offline policy
    fallback_used: bool = False


def _offline_result(
    message: str, ctx: SteerContext, prefix: str = "", attempts: list[Attempt] | None = None,
    attempt_offset: int = 0,
) -> SteerResult:  # fmt: skip
    commands, notes = interpret_offline(message, ctx)
    lines = describe(commands, ctx) + notes
    reply = prefix + ("; ".join(lines) or "nothing to apply")
    attempts = list(attempts or [])
    attempts.append(
        Attempt(
            role="steering",
            key=CallKey(node="steer", round=ctx.round, attempt=attempt_offset + len(attempts)),
            label=OFFLINE_LABEL,
            answer={"content": reply, "tool_calls": []},
            parsed={"commands": [c.model_dump(mode="json") for c in commands], "message": message},
        )
    )
    return SteerResult(
        commands=commands, reply=reply, attempts=attempts, label=OFFLINE_LABEL,
        fallback_used=bool(prefix),
    )  # fmt: skip


def interpret(
    message: str,
    context: SteerContext,
    llm: LLMBackend,
    *,
    max_repairs: int = 1,
    attempt_offset: int = 0,
) -> SteerResult:
    """Turn one chat message into steering commands (see the module docstring).
    ``attempt_offset`` numbers the calls of several messages in one round distinctly, so a
    replay of the trace answers each one."""
    if not llm.is_llm:
        return _offline_result(message, context, attempt_offset=attempt_offset)
    messages: list[Any] = [
        SystemMessage(prompts.STEER_SYSTEM),
        HumanMessage(prompts.steer_prompt(message, context)),
    ]
    attempts: list[Attempt] = []
    reason = "no answer"
    for i in range(max_repairs + 1):
        key = CallKey(node="steer", round=context.round, attempt=attempt_offset + i)
        att = Attempt(role="steering", key=key, label=llm.label, prompt=prompt_record(messages))
        attempts.append(att)
        t0 = time.perf_counter()
        p0, c0 = llm.prompt_tokens, llm.completion_tokens
        try:
            answer_msg = llm.invoke(messages, key=key)
        except (LLMCallFailed, LLMBudgetExhausted) as exc:
            att.errors.append(f"{type(exc).__name__}: {exc}")
            att.seconds = time.perf_counter() - t0
            reason = f"LLM call failed: {exc}"
            break
        att.seconds = time.perf_counter() - t0
        att.prompt_tokens = llm.prompt_tokens - p0
        att.completion_tokens = llm.completion_tokens - c0
        att.answer = answer_of(answer_msg)
        att.llm_calls.append({**key.model_dump(), "answer": att.answer, "llm": llm.label})
        parsed, errors = parse_answer(
            answer_msg, SteerAnswer, list_field="commands", tool_name="steer"
        )
        if parsed is not None:
            att.parsed = parsed.model_dump(mode="json")
            errors = check_commands(parsed.commands, context) or (
                [] if parsed.commands else ["commands is empty; use [{'action': 'continue'}]"]
            )
        if parsed is not None and not errors:
            lines = describe(parsed.commands, context)
            reply = parsed.reply.strip() or "; ".join(lines)
            return SteerResult(
                commands=parsed.commands, reply=reply, attempts=attempts, label=llm.label
            )
        att.errors.extend(errors)
        reason = "; ".join(errors)
        messages = [
            *messages,
            answer_msg,
            HumanMessage(prompts.repair_message(errors, what="answer")),
        ]
    prefix = f"{llm.label} gave no usable answer ({reason[:160]}); {OFFLINE_LABEL} decided: "
    return _offline_result(message, context, prefix, attempts, attempt_offset)
