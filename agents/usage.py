"""Run-wide LLM accounting: one record, one reducer, one way to count an agent's attempts.

Every role answers through :mod:`agentnas.agents.role_loop`, whose attempts say what each
try cost (:class:`~agentnas.agents.schemas.Attempt`: ``requests``, ``llm_calls``, tokens).
:func:`usage_of` turns one role call's attempts into an :class:`LLMUsage`; the graph adds
it to the checkpointed state with :func:`add_usage` (the state field's reducer), so the
figures are run-wide: they survive a kill and a ``--resume``, and ``summary.json`` reports
them. The caps (``--max-llm-calls``, ``--token-budget``, ``--cost-budget``,
``--time-budget``: :class:`Caps`) read these figures; nothing else counts.

Alongside the total, the state keeps the same figures split by role and by round
(:func:`split_usage`, reduced by :func:`add_split`): ``rounds.csv`` shows the tokens of
each round, ``summary.json`` those of each role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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


UsageSplit = dict[str, dict[str, LLMUsage]]
"""``{"roles": {role: usage}, "rounds": {"3": usage}}``: the state's ``llm_usage_split``."""


def split_usage(role: str, round_: int, usage: LLMUsage | None) -> UsageSplit:
    """One role call's usage filed under its role and its round (the round whose work it
    is: a round's Designers and Reflector, and the steering at the boundary after it; the
    Partitioner is round 0)."""
    u = add_usage(zero_usage(), usage)
    return {"roles": {role: u}, "rounds": {str(int(round_)): dict(u)}}  # type: ignore[dict-item]


def add_split(a: UsageSplit | None, b: UsageSplit | None) -> UsageSplit:
    """Key-wise :func:`add_usage` of two splits: the reducer of ``llm_usage_split``."""
    out: UsageSplit = {"roles": {}, "rounds": {}}
    for part in (a or {}, b or {}):
        for kind in ("roles", "rounds"):
            for key, u in (part.get(kind) or {}).items():
                out[kind][key] = add_usage(out[kind].get(key), u)
    return out


def tokens(usage: Mapping[str, Any] | None) -> int:
    """Input plus output tokens of a usage record."""
    u = usage or {}
    return int(u.get("prompt_tokens", 0)) + int(u.get("completion_tokens", 0))


@dataclass(frozen=True)
class Caps:
    """A run's limits on model use, all run-wide (every process of a resumed run counts)
    and all optional: ``calls`` (requests, retries included), ``tokens`` (input plus
    output), ``cost_usd`` (from the price table), ``seconds`` (wall time of the processes
    that drove the run). ``price_in`` / ``price_out``: USD per million input / output
    tokens of the run's model; without them there is no cost."""

    calls: int | None = None
    tokens: int | None = None
    cost_usd: float | None = None
    seconds: float | None = None
    price_in: float | None = None
    price_out: float | None = None

    @classmethod
    def of(cls, cfg: Any) -> Caps:
        """The caps and prices of a :class:`~agentnas.graph.config.RunConfig`."""
        return cls(
            calls=cfg.max_llm_calls,
            tokens=cfg.token_budget,
            cost_usd=cfg.cost_budget,
            seconds=cfg.time_budget,
            price_in=cfg.price_in,
            price_out=cfg.price_out,
        )

    @property
    def priced(self) -> bool:
        return self.price_in is not None or self.price_out is not None

    def cost(self, usage: Mapping[str, Any] | None) -> float | None:
        """USD of ``usage`` at this run's prices (``None`` without a price table)."""
        if not self.priced:
            return None
        u = usage or {}
        return (
            int(u.get("prompt_tokens", 0)) * (self.price_in or 0.0)
            + int(u.get("completion_tokens", 0)) * (self.price_out or 0.0)
        ) / 1e6

    def reached(self, usage: Mapping[str, Any] | None, seconds: float = 0.0) -> str | None:
        """The first cap that ``usage`` and ``seconds`` have reached, in words (``None``
        while all are below their limits). A cap is reached at its limit: with a token
        budget of 1,000 and 1,000 tokens spent, no further request is sent."""
        u = usage or {}
        if self.calls is not None and int(u.get("calls", 0)) >= self.calls:
            return f"LLM call budget of {self.calls} calls is spent ({int(u.get('calls', 0))} sent)"
        if self.tokens is not None and tokens(u) >= self.tokens:
            return f"token budget of {self.tokens:,} tokens is spent ({tokens(u):,} used)"
        cost = self.cost(u)
        if self.cost_usd is not None and cost is not None and cost >= self.cost_usd:
            return f"cost budget of ${self.cost_usd:g} is spent (${cost:.4f} at the price table)"
        if self.seconds is not None and seconds >= self.seconds:
            return f"time budget of {self.seconds:g} s is spent ({seconds:.0f} s of wall time)"
        return None

    def flag(self, reason: str) -> str:
        """The CLI option that raises the cap named in ``reason`` (from :meth:`reached`)."""
        for words, option in (
            ("call budget", "--max-llm-calls"),
            ("token budget", "--token-budget"),
            ("cost budget", "--cost-budget"),
            ("time budget", "--time-budget"),
        ):
            if words in reason:
                return option
        return "--max-llm-calls"
