"""The Designer: one per partition and round, proposes children; the graph evaluates them.

With an LLM: the prompt (:mod:`agentnas.agents.prompts`) shows the partition constraint,
the partition's Pareto parents with their metrics, the heuristics and the space; the model
may call tools (hardware lookup, accuracy predictor) when its backend supports tool
calling; the final answer is parsed as :class:`DesignAnswer` JSON and every child is
checked (legal, novel, inside the partition). Refused children go back to the model with
the precise reasons, up to ``max_repairs`` times; whatever is still missing is filled by
the offline operator, and the result says so (``fallback_used``, ``fallback_reason``). No
model failure (timeout, budget, garbage, refusal) escapes this function.

Offline (``llm.is_llm`` is False): :func:`agentnas.agents.offline_policy.design_offline`.
"""

from __future__ import annotations

import time
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from agentnas.agents import prompts
from agentnas.agents.llm import OFFLINE_LABEL, LLMBackend
from agentnas.agents.offline_policy import Lookup, design_offline, fallback_children, rule_judge
from agentnas.agents.role_loop import Verdict, ask_role
from agentnas.agents.schemas import (
    Attempt,
    CallKey,
    DesignAnswer,
    DesignerContext,
    DesignResult,
    Proposal,
)
from agentnas.agents.validation import validate_children


def _key(ctx: DesignerContext, attempt: int) -> CallKey:
    return CallKey(node="design", round=ctx.round, partition=ctx.partition.id, attempt=attempt)


def _offline_attempt(
    ctx: DesignerContext, attempt: int, children: list[Proposal], summary: dict[str, Any],
    seconds: float, note: str = "",
) -> Attempt:  # fmt: skip
    content = summary.get("content", "") + (f" ({note})" if note else "")
    return Attempt(
        role="designer",
        key=_key(ctx, attempt),
        label=OFFLINE_LABEL,
        answer={"content": content, "tool_calls": []},
        parsed={"children": [c.model_dump(mode="json") for c in children]},
        seconds=seconds,
    )


def design(
    ctx: DesignerContext,
    llm: LLMBackend,
    space: Any,
    tools: list[Any] | None = None,
    *,
    max_tool_steps: int = 4,
    lookup: Lookup | None = None,
) -> DesignResult:
    """Propose ``ctx.n_children`` children for ``ctx.partition`` (see the module docstring).
    May return fewer only when the partition holds no legal, novel cell any more (or none
    that keeps the user's hard rules). ``lookup`` gives a cell's cheap hardware metrics
    (the backend's table), used to hold children to the user's constraints."""
    if not llm.is_llm:
        t0 = time.perf_counter()
        children, summary = design_offline(ctx, space, lookup)
        att = _offline_attempt(ctx, 0, children, summary, time.perf_counter() - t0)
        return DesignResult(children=children, attempts=[att])

    tool_list = list(tools or []) if llm.supports_tools() else []
    messages: list[BaseMessage] = [
        SystemMessage(prompts.DESIGNER_SYSTEM),
        HumanMessage(
            prompts.designer_prompt(
                ctx, space.describe(), [getattr(t, "name", "") for t in tool_list]
            )
        ),
    ]
    accepted: list[Proposal] = []
    known = {h.id for h in ctx.heuristics}
    judge = rule_judge(ctx, space, ctx.history, lookup, seed=ctx.seed)

    def check(
        answer: DesignAnswer | None, errors: list[str], _att: Attempt
    ) -> Verdict[list[Proposal]]:
        """Keep every valid child across tries; done when ``n_children`` are accepted."""
        if answer is not None and not answer.children:
            errors = ["the answer lists no children"]
        elif answer is not None:
            new, errors = validate_children(
                answer.children,
                space=space,
                partition=ctx.partition,
                evaluated=[*ctx.evaluated, *(p.arch for p in accepted)],
                dedupe_isomorphic=ctx.dedupe_isomorphic,
                operator=answer.operator,
                heuristics_used=answer.heuristics_used,
                known_heuristics=known,
                limit=ctx.n_children - len(accepted),
                plan=ctx.plan,
                judge=judge if judge else None,
            )
            accepted.extend(new)
        missing = ctx.n_children - len(accepted)
        if missing <= 0:
            return Verdict(value=accepted, errors=errors)
        hard = [e for e in errors if not e.startswith("unknown heuristic")]
        if accepted:
            more = (
                f"{len(accepted)} children were accepted ("
                + ", ".join(p.arch for p in accepted)
                + f"); propose {missing} more, different from them"
            )
        else:
            more = f"propose {missing} valid children"
        reason = "; ".join(hard) or f"{missing} valid children still missing"
        return Verdict(errors=errors, feedback=[*hard, more], reason=reason)

    outcome = ask_role(
        llm,
        messages,
        role="designer",
        key=lambda i: _key(ctx, i),
        schema=DesignAnswer,
        check=check,
        max_repairs=ctx.max_repairs,
        list_field="children",
        tool_name="design_answer",
        tools=tool_list or None,
        max_tool_steps=max_tool_steps,
    )
    attempts = outcome.attempts
    if outcome.value is not None:
        return DesignResult(children=outcome.value, attempts=attempts)
    reason = outcome.reason

    # fill what the model did not deliver with the offline operator, and say so
    missing = ctx.n_children - len(accepted)
    t0 = time.perf_counter()
    extra = fallback_children(ctx, space, accepted, missing, lookup)
    why = f"offline operator designed {len(extra)} of {ctx.n_children} children: {reason}"
    summary = {"content": f"fallback to the offline policy: {why}"}
    attempts.append(_offline_attempt(ctx, len(attempts), extra, summary, time.perf_counter() - t0))
    return DesignResult(
        children=[*accepted, *extra], attempts=attempts, fallback_used=True, fallback_reason=why
    )
