"""Run-wide LLM accounting: one record, one reducer, one way to count an agent's attempts.

Every role answers through :mod:`agentnas.agents.role_loop`, whose attempts say what each
try cost (:class:`~agentnas.agents.schemas.Attempt`: ``requests``, ``llm_calls``, tokens).
:func:`usage_of` turns one role call's attempts into an :class:`LLMUsage`; the graph adds
it to the checkpointed state with :func:`add_usage` (the state field's reducer), so the
figures are run-wide: they survive a kill and a ``--resume``, and ``summary.json`` reports
them. Budgets (``--max-llm-calls``, and any later token, cost or time limit) read these
figures; nothing else counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict

from agentnas.agents.llm import OFFLINE_LABEL

USAGE_FIELDS = (
    "calls",
    "retries",
    "attempts",
    "repairs",
    "fallbacks",
    "prompt_tokens",
    "completion_tokens",
)


class LLMUsage(TypedDict, total=False):
    """What the model was asked, summed over the run (every field an int, 0 when absent).

    * ``calls`` — requests sent to the model, retries included: what ``--max-llm-calls``
      caps.
    * ``retries`` — of those, repeats of a request that failed (timeout, server error).
    * ``attempts`` — role-loop tries that asked the model: first asks plus repairs.
    * ``repairs`` — of those, tries that sent an invalid answer back with its reasons.
    * ``fallbacks`` — role calls the offline policy completed because the model did not.
    * ``prompt_tokens`` / ``completion_tokens`` — as the server reported them.
    """

    calls: int
    retries: int
    attempts: int
    repairs: int
    fallbacks: int
    prompt_tokens: int
    completion_tokens: int


def zero_usage() -> LLMUsage:
    return LLMUsage(**dict.fromkeys(USAGE_FIELDS, 0))  # type: ignore[typeddict-item]


def add_usage(a: LLMUsage | None, b: LLMUsage | None) -> LLMUsage:
    """Field-wise sum: the reducer of the state's ``llm_usage`` (parallel Designers'
    writes of one superstep add up; a missing field counts 0)."""
    a, b = a or {}, b or {}
    return LLMUsage(**{k: int(a.get(k, 0)) + int(b.get(k, 0)) for k in USAGE_FIELDS})  # type: ignore[typeddict-item]


def usage_of(attempts: Iterable[Any], *, fallback: bool = False) -> LLMUsage:
    """The usage of one role call from its attempts; the offline policy's attempts cost
    nothing. ``fallback``: the role's result was completed by the offline policy."""
    tries = [a for a in attempts if a.label != OFFLINE_LABEL]
    return LLMUsage(
        calls=sum(a.requests for a in tries),
        retries=sum(a.retries for a in tries),
        attempts=len(tries),
        repairs=max(0, len(tries) - 1),
        fallbacks=int(fallback),
        prompt_tokens=sum(a.prompt_tokens for a in tries),
        completion_tokens=sum(a.completion_tokens for a in tries),
    )
