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
    changes_run,
    check_commands,
    describe,
    impossible,
    parse_command,
)
from agentnas.agents.steering_rules import interpret_offline, not_understood

__all__ = [
    "SteerAction",
    "SteerAnswer",
    "SteerCommand",
    "SteerContext",
    "SteerPartition",
    "SteerResult",
    "changes_run",
    "check_commands",
    "describe",
    "interpret",
    "interpret_offline",
    "parse_command",
    "validated",
]


class SteerResult(BaseModel):
    """``commands`` empty means nothing was understood or nothing could be applied (the
    reply says why, and nothing changes); ``[continue]`` means the user wants the run to
    go on unchanged; a ``question`` is answered and changes nothing."""

    commands: list[SteerCommand]
    reply: str
    refused: list[str] = Field(default_factory=list)  # why understood actions were dropped
    attempts: list[Attempt] = Field(default_factory=list)  # role "steering"
    label: str = OFFLINE_LABEL  # who decided: the model label or the offline policy
    fallback_used: bool = False
    fallback_reason: str | None = None


def validated(commands: list[Any], ctx: SteerContext) -> tuple[list[Any], list[str]]:
    """The actions that can be applied to this run, and why the others cannot (an
    impossible constraint, a partition that does not exist, …). The same check for the
    offline parser and the LLM's structured answer."""
    kept, refused = [], []
    for c in commands:
        errors = check_commands([c], ctx)
        if errors:
            refused += errors
        else:
            kept.append(c)
    return kept, refused


def _model_errors(commands: list[Any], ctx: SteerContext) -> list[str]:
    """What the model got wrong (a partition, operation or metric that does not exist):
    sent back for a repair. An impossible constraint is the user's wish, not the model's
    error: it is answered with the best achievable value instead."""
    return [
        e
        for c in commands
        if not (c.action == "constrain" and impossible(c, ctx))
        for e in check_commands([c], ctx)
    ]


def _offline_result(
    message: str, ctx: SteerContext, prefix: str = "", attempts: list[Attempt] | None = None,
    attempt_offset: int = 0,
) -> SteerResult:  # fmt: skip
    parsed, notes = interpret_offline(message, ctx)
    commands, refused = validated(parsed, ctx)
    lines = describe(commands, ctx) + notes + refused
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
        fallback_used=bool(prefix), refused=refused,
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
        errors = _model_errors(answer.commands, context)
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
        commands, refused = validated(parsed.commands, context)
        said = parsed.reply.strip() or "; ".join(describe(commands, context))
        notes = refused + ([] if parsed.commands else [not_understood(message)])
        return SteerResult(
            commands=commands, reply="; ".join(x for x in [said, *notes] if x),
            attempts=outcome.attempts, label=llm.label, refused=refused,
        )  # fmt: skip
    reason = outcome.reason
    prefix = f"{llm.label} gave no usable answer ({reason[:160]}); {OFFLINE_LABEL} decided: "
    result = _offline_result(message, context, prefix, outcome.attempts, attempt_offset)
    return result.model_copy(update={"fallback_reason": reason})
