"""The one loop every LLM role runs: ask → parse → validate → repair → give up with a reason.

Partitioner, Designer, Reflector and the steering agent each bring their prompt, their
answer schema and a ``check`` that judges a parsed answer; :func:`ask_role` does the rest
the same way for all of them:

* every try is an :class:`~agentnas.agents.schemas.Attempt` (prompt, answer, parsed,
  errors, tool calls, replayable model requests, tokens, seconds), numbered by
  ``key(i)`` so a replay of the trace answers it;
* the answer is read with :func:`~agentnas.agents.structured.parse_answer` (bounded,
  never raises); a parse failure or a refusal by ``check`` goes back to the model with
  the reasons, up to ``max_repairs`` times (per role: :data:`DEFAULT_MAX_REPAIRS`);
* a model failure (timeout, server error, spent budget) ends the loop at once;
* the outcome carries the accepted value, or ``None`` and the reason, for the role's
  offline fallback to state. Accounting of calls, tries and tokens is
  :func:`agentnas.agents.usage.usage_of` over the attempts.

Nothing here raises on a bad answer or a dead model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from langchain_core.messages import BaseMessage, HumanMessage
from pydantic import BaseModel

from agentnas.agents import prompts
from agentnas.agents.llm import LLMBackend, attempt_call, prompt_record
from agentnas.agents.schemas import Attempt, CallKey, Role
from agentnas.agents.structured import parse_answer

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")

DEFAULT_MAX_REPAIRS: dict[str, int] = {
    "partitioner": 1,
    "designer": 2,
    "reflector": 1,
    "steering": 1,
}
"""Repairs after the first ask, per role (``RunConfig.max_repairs`` sets the Designer's,
``RunConfig.role_repairs`` any role's)."""


@dataclass
class Verdict(Generic[R]):
    """What a role's ``check`` says about one answer.

    ``value`` not None: accepted, the loop ends. Otherwise ``errors`` go to the attempt,
    ``feedback`` (default: ``errors``) into the repair message, and ``reason`` (default:
    the errors joined) becomes the outcome's reason if no later try succeeds."""

    value: R | None = None
    errors: list[str] = field(default_factory=list)
    feedback: list[str] | None = None
    reason: str = ""


@dataclass
class RoleOutcome(Generic[R]):
    """``value`` when a try was accepted; otherwise ``reason`` says why not, and
    ``model_failed`` whether the model itself failed (rather than answering badly)."""

    value: R | None
    attempts: list[Attempt]
    reason: str = ""
    model_failed: bool = False


def reject(errors: list[str]) -> Verdict[Any]:
    """The verdict for an answer that could not be read (``parse_answer``'s reasons)."""
    return Verdict(errors=list(errors))


def ask_role(
    llm: LLMBackend,
    messages: Sequence[BaseMessage],
    *,
    role: Role,
    key: Callable[[int], CallKey],
    schema: type[T],
    check: Callable[[T | None, list[str], Attempt], Verdict[R]],
    max_repairs: int,
    what: str = "answer",
    list_field: str | None = None,
    tool_name: str | None = None,
    tools: Sequence[Any] | None = None,
    max_tool_steps: int = 4,
) -> RoleOutcome[R]:
    """Run the loop (see the module docstring). ``check(answer, parse_errors, attempt)``
    gets ``answer=None`` with the parse errors when the answer could not be read;
    ``attempt.parsed`` already holds the parsed answer when there was one."""
    messages = list(messages)
    attempts: list[Attempt] = []
    reason = "no answer"
    for i in range(max(0, max_repairs) + 1):
        att = Attempt(role=role, key=key(i), label=llm.label, prompt=prompt_record(messages))
        attempts.append(att)
        outcome = attempt_call(llm, messages, att, tools=tools, max_tool_steps=max_tool_steps)
        if isinstance(outcome, str):
            return RoleOutcome(None, attempts, reason=outcome, model_failed=True)
        message, transcript = outcome
        answer, errors = parse_answer(message, schema, list_field=list_field, tool_name=tool_name)
        if answer is not None:
            att.parsed = answer.model_dump(mode="json")
        verdict = check(answer, errors, att)
        att.errors.extend(verdict.errors)
        if verdict.value is not None:
            return RoleOutcome(verdict.value, attempts)
        reason = verdict.reason or "; ".join(verdict.errors) or "the answer was not accepted"
        if i < max_repairs:
            feedback = verdict.feedback if verdict.feedback is not None else verdict.errors
            repair = HumanMessage(prompts.repair_message(feedback, what=what))
            messages = [*transcript, message, repair]
    return RoleOutcome(None, attempts, reason=reason)
