"""The steering agent: turns a chat message into steering commands.

The graph applies commands at round boundaries (``steer`` node); ``agentnas chat`` and
``agentnas steer`` (through ``RUN_DIR/steer.jsonl``) produce them with :func:`interpret`:
with an LLM, the model answers JSON ``{"commands": [...], "reply": "..."}`` (repaired
through :mod:`agentnas.agents.role_loop`, then the offline interpreter decides and the
reply says so);
without one, the deterministic rule-based interpreter :func:`interpret_offline`
("offline policy (no LLM)", :mod:`agentnas.agents.steering_rules`) does. The commands and
the context are defined in :mod:`agentnas.agents.steering_commands` (re-exported here);
the prompt is in :mod:`agentnas.agents.prompts`. Only the command models are used by the
graph.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from agentnas.agents import prompts
from agentnas.agents.llm import OFFLINE_LABEL, LLMBackend
from agentnas.agents.role_loop import Verdict, ask_role, reject
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
    fallback_reason: str | None = None


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

    def check(answer: SteerAnswer | None, errors: list[str], _att: Attempt) -> Verdict[SteerAnswer]:
        if answer is None:
            return reject(errors)
        errors = check_commands(answer.commands, context) or (
            [] if answer.commands else ["commands is empty; use [{'action': 'continue'}]"]
        )
        return Verdict(errors=errors) if errors else Verdict(value=answer)

    outcome = ask_role(
        llm,
        messages,
        role="steering",
        key=lambda i: CallKey(node="steer", round=context.round, attempt=attempt_offset + i),
        schema=SteerAnswer,
        check=check,
        max_repairs=max_repairs,
        list_field="commands",
        tool_name="steer",
    )
    parsed = outcome.value
    if parsed is not None:
        reply = parsed.reply.strip() or "; ".join(describe(parsed.commands, context))
        return SteerResult(
            commands=parsed.commands, reply=reply, attempts=outcome.attempts, label=llm.label
        )
    reason = outcome.reason
    prefix = f"{llm.label} gave no usable answer ({reason[:160]}); {OFFLINE_LABEL} decided: "
    result = _offline_result(message, context, prefix, outcome.attempts, attempt_offset)
    return result.model_copy(update={"fallback_reason": reason})
