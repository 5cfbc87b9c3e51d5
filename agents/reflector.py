"""The Reflector: after each round, turns what the Designers tried (parents → child, each
objective's change, rationales) into knowledge-base edits: add, revise, retire heuristics.

With an LLM: the answer is :class:`ReflectionAnswer` JSON; unknown ids in ``revise`` or
``retire`` are dropped (noted in the attempt), extra additions beyond ``max_new`` too; an
unparseable answer gets ``max_repairs`` repairs, then the offline statistics decide and
``fallback_used`` says so. Offline: :func:`agentnas.agents.offline_reflector.reflect_offline`.
The graph applies the edits to the knowledge base; this module never touches it.
"""

from __future__ import annotations

import time
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from agentnas.agents import prompts
from agentnas.agents.llm import OFFLINE_LABEL, LLMBackend
from agentnas.agents.offline_reflector import reflect_offline
from agentnas.agents.role_loop import Verdict, ask_role, reject
from agentnas.agents.schemas import (
    Attempt,
    CallKey,
    ReflectionAnswer,
    ReflectionResult,
    ReflectorContext,
)


def _space(name: str) -> Any | None:
    from agentnas.tools.spaces.registry import get_space

    try:
        return get_space(name)
    except Exception:  # an unknown space only disables edit statistics
        return None


def _offline(ctx: ReflectorContext, space: Any, attempt: int, note: str = "") -> ReflectionResult:
    t0 = time.perf_counter()
    if space is None:
        add, revise, retire = [], [], []
        summary = {"content": f"no space '{ctx.space}': no edit statistics", "tool_calls": []}
    else:
        add, revise, retire, summary = reflect_offline(ctx, space)
    content = summary["content"] + (f" ({note})" if note else "")
    att = Attempt(
        role="reflector",
        key=CallKey(node="reflect", round=ctx.round, partition=None, attempt=attempt),
        label=OFFLINE_LABEL,
        answer={"content": content, "tool_calls": []},
        parsed={
            "add": [a.model_dump(mode="json") for a in add],
            "revise": [r.model_dump(mode="json") for r in revise],
            "retire": retire,
        },
        seconds=time.perf_counter() - t0,
    )
    return ReflectionResult(add=add, revise=revise, retire=retire, attempts=[att])


def check_reflection(
    answer: ReflectionAnswer, ctx: ReflectorContext
) -> tuple[ReflectionAnswer, list[str]]:
    """Drop edits of unknown ids and additions beyond ``max_new``; say what was dropped."""
    known = {h.id for h in ctx.heuristics}
    errors = [
        f"revise: unknown heuristic id {r.id!r} dropped" for r in answer.revise if r.id not in known
    ]
    errors += [
        f"retire: unknown heuristic id {i!r} dropped" for i in answer.retire if i not in known
    ]
    if len(answer.add) > ctx.max_new:
        errors.append(
            f"add: {len(answer.add) - ctx.max_new} additions beyond {ctx.max_new} dropped"
        )
    clean = ReflectionAnswer(
        add=answer.add[: ctx.max_new],
        revise=[r for r in answer.revise if r.id in known],
        retire=list(dict.fromkeys(i for i in answer.retire if i in known)),
    )
    return clean, errors


def reflect(
    ctx: ReflectorContext, llm: LLMBackend, *, space: Any | None = None, max_repairs: int = 1
) -> ReflectionResult:
    """Knowledge-base edits for this round (see the module docstring). ``space``
    defaults to the registry's space named ``ctx.space``."""
    space = space if space is not None else _space(ctx.space)
    if not llm.is_llm:
        return _offline(ctx, space, 0)
    messages: list[BaseMessage] = [
        SystemMessage(prompts.REFLECTOR_SYSTEM),
        HumanMessage(prompts.reflector_prompt(ctx)),
    ]

    def check(
        answer: ReflectionAnswer | None, errors: list[str], att: Attempt
    ) -> Verdict[ReflectionAnswer]:
        """Any readable answer is accepted, minus the edits it may not make."""
        if answer is None:
            return reject(errors)
        clean, dropped = check_reflection(answer, ctx)
        att.parsed = clean.model_dump(mode="json")
        return Verdict(value=clean, errors=dropped)

    outcome = ask_role(
        llm,
        messages,
        role="reflector",
        key=lambda i: CallKey(node="reflect", round=ctx.round, partition=None, attempt=i),
        schema=ReflectionAnswer,
        check=check,
        max_repairs=max_repairs,
        what="reflection",
        tool_name="reflection",
    )
    attempts = outcome.attempts
    if outcome.value is not None:
        clean = outcome.value
        return ReflectionResult(
            add=clean.add, revise=clean.revise, retire=clean.retire, attempts=attempts
        )
    fallback = _offline(ctx, space, len(attempts), note=f"fallback: {outcome.reason}")
    return ReflectionResult(
        add=fallback.add, revise=fallback.revise, retire=fallback.retire,
        attempts=[*attempts, *fallback.attempts], fallback_used=True,
        fallback_reason=outcome.reason,
    )  # fmt: skip
