"""The Partitioner: split the space into k partitions by one complexity feature, so each
Designer explores its own range of cost (PEL-NAS's answer to the LLM's exploration bias).

With an LLM, the model may pick the feature and the value ranges; the plan is validated
against the space's feature histograms (the feature must exist; the ranges must cover every
value, be disjoint and non-empty, and be k of them). An invalid plan goes back with the
reason (:mod:`agentnas.agents.role_loop`, ``max_repairs`` times), then the offline rule
decides and the result says so.

Offline rule: start with one group per feature value and merge the adjacent pair with the
smallest combined size until k groups remain. For NB201's ``n_nor_conv_3x3`` (counts
0..6 hold 4096/6144/3840/1280/240/24/1 cells) and k=6 that merges 5 and 6:
[0],[1],[2],[3],[4],[5..6].
"""

from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage

from agentnas.agents import prompts
from agentnas.agents.llm import OFFLINE_LABEL, LLMBackend
from agentnas.agents.role_loop import Verdict, ask_role, reject
from agentnas.agents.schemas import (
    Attempt,
    CallKey,
    Partition,
    PartitionAnswer,
    PartitionerContext,
    PartitionResult,
    partition_of,
)
from agentnas.agents.validation import (
    PartitionError,
    histogram_values,
    validate_partitions,
)
from agentnas.tools.errors import UserError

__all__ = [
    "PartitionError",
    "merge_groups",
    "offline_partitions",
    "partition_of",
    "plan_partitions",
    "validate_partitions",
]


def merge_groups(counts: list[int], k: int) -> list[tuple[int, int]]:
    """Contiguous groups (first, last index into ``counts``) after merging the smallest
    adjacent pair until at most ``k`` remain. Ties go to the pair nearest the end, where
    the rare, complex cells sit."""
    groups = [(i, i, c) for i, c in enumerate(counts)]
    while len(groups) > max(k, 1):
        sizes = [groups[i][2] + groups[i + 1][2] for i in range(len(groups) - 1)]
        best = min(range(len(sizes)), key=lambda i: (sizes[i], -i))
        a, b = groups[best], groups[best + 1]
        groups[best : best + 2] = [(a[0], b[1], a[2] + b[2])]
    return [(g[0], g[1]) for g in groups]


def partitions_from_ranges(
    feature: str, ranges: list[tuple[float, float]], histogram: dict[str, int]
) -> list[Partition]:
    values = histogram_values(histogram)
    out = []
    for i, (lo, hi) in enumerate(sorted(ranges)):
        size = sum(c for v, c in values if lo <= v <= hi)
        out.append(Partition(id=i, feature=feature, low=float(lo), high=float(hi), size=size))
    return out


def offline_partitions(feature: str, histogram: dict[str, int], k: int) -> list[Partition]:
    """The rule-based plan (see the module docstring)."""
    values = histogram_values(histogram)
    if not values:
        raise UserError(f"feature '{feature}' has no values to partition")
    groups = merge_groups([c for _, c in values], k)
    ranges = [(values[a][0], values[b][0]) for a, b in groups]
    return partitions_from_ranges(feature, ranges, histogram)


def _describe(parts: list[Partition]) -> str:
    return ", ".join(
        f"p{p.id}=[{p.low:g}..{p.high:g}] ({p.size})" if p.low != p.high else
        f"p{p.id}=[{p.low:g}] ({p.size})"
        for p in parts
    )  # fmt: skip


def plan_partitions(
    ctx: PartitionerContext, llm: LLMBackend, *, max_repairs: int = 1
) -> PartitionResult:
    """Split the space into ``ctx.k`` partitions (see the module docstring)."""
    if ctx.default_feature not in ctx.feature_histograms:
        raise UserError(
            f"partition feature '{ctx.default_feature}' is not a feature of {ctx.space}; "
            f"features: {', '.join(sorted(ctx.feature_histograms))}"
        )
    attempts: list[Attempt] = []
    reason = ""
    if llm.is_llm:
        result, reason = _plan_with_llm(ctx, llm, attempts, max_repairs)
        if result is not None:
            return result
    feature = ctx.default_feature
    hist = ctx.feature_histograms[feature]
    parts = offline_partitions(feature, hist, ctx.k)
    n_values = len(hist)
    why = (
        f"rule: {n_values} values of {feature} merged (smallest adjacent pair first) "
        f"into {len(parts)} contiguous groups: {_describe(parts)}"
    )
    if n_values < ctx.k:
        why += f"; only {n_values} distinct values, so fewer than the {ctx.k} asked for"
    if llm.is_llm:
        why = f"fallback to the offline rule ({reason}); " + why
    attempts.append(
        Attempt(
            role="partitioner",
            key=CallKey(node="partition", round=0, partition=None, attempt=len(attempts)),
            label=OFFLINE_LABEL,
            answer={"content": why, "tool_calls": []},
            parsed={"feature": feature, "groups": [[p.low, p.high] for p in parts]},
        )
    )
    return PartitionResult(
        partitions=parts, feature=feature, rationale=why, attempts=attempts,
        fallback_used=llm.is_llm, fallback_reason=reason if llm.is_llm else None,
    )  # fmt: skip


def _plan_with_llm(
    ctx: PartitionerContext, llm: LLMBackend, attempts: list[Attempt], max_repairs: int
) -> tuple[PartitionResult | None, str]:
    messages = [
        SystemMessage(prompts.PARTITIONER_SYSTEM),
        HumanMessage(prompts.partitioner_prompt(ctx)),
    ]

    def check(
        answer: PartitionAnswer | None, errors: list[str], _att: Attempt
    ) -> Verdict[PartitionAnswer]:
        if answer is None:
            return reject(errors)
        errors = _check_answer(ctx, answer)
        return Verdict(errors=errors) if errors else Verdict(value=answer)

    outcome = ask_role(
        llm,
        messages,
        role="partitioner",
        key=lambda i: CallKey(node="partition", round=0, partition=None, attempt=i),
        schema=PartitionAnswer,
        check=check,
        max_repairs=max_repairs,
        what="partition plan",
        tool_name="partition_plan",
    )
    attempts.extend(outcome.attempts)
    answer = outcome.value
    if answer is None:
        if outcome.model_failed:
            return None, outcome.reason
        return None, f"invalid plan after {len(outcome.attempts)} tries: {outcome.reason}"
    hist = ctx.feature_histograms[answer.feature]
    ranges = [(float(g[0]), float(g[1])) for g in answer.groups]
    parts = partitions_from_ranges(answer.feature, ranges, hist)
    rationale = answer.rationale or f"LLM plan: {_describe(parts)}"
    result = PartitionResult(
        partitions=parts, feature=answer.feature, rationale=rationale,
        attempts=attempts, fallback_used=False,
    )  # fmt: skip
    return result, ""


def _check_answer(ctx: PartitionerContext, answer: PartitionAnswer) -> list[str]:
    if answer.feature not in ctx.feature_histograms:
        return [
            f"feature {answer.feature!r} is not one of the space's features: "
            + ", ".join(sorted(ctx.feature_histograms))
        ]
    bad = [g for g in answer.groups if len(g) != 2]
    if bad:
        return [f"each group must be [low, high]; got {bad[:3]}"]
    hist = ctx.feature_histograms[answer.feature]
    parts = partitions_from_ranges(
        answer.feature, [(float(g[0]), float(g[1])) for g in answer.groups], hist
    )
    try:
        validate_partitions(parts, hist, ctx.k)
    except PartitionError as exc:
        return [str(exc)]
    return []
