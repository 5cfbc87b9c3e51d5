"""Prompt templates, one per role, each showing the JSON schema of the expected answer.

The Designer prompt follows PEL-NAS (partition constraint, the partition's Pareto parents
with their metrics, the knowledge base's heuristics, crossover or mutation) and UH-NAS
(for physical backends, the accuracy lost to non-idealities: ``clean_accuracy``,
``robust_accuracy``, ``degradation`` are shown when the metrics carry them). The steering
prompt shows the run at a round boundary and the actions the user may ask for.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from agentnas.agents.schemas import (
    DesignAnswer,
    DesignerContext,
    HeuristicView,
    PartitionAnswer,
    PartitionerContext,
    ReflectionAnswer,
    ReflectorContext,
    ScoredArch,
)
from agentnas.agents.steering_commands import SteerAnswer, SteerContext
from agentnas.agents.structured import schema_text
from agentnas.tools.objectives import Objective

ROBUSTNESS_METRICS = ("clean_accuracy", "robust_accuracy", "degradation")

PARTITIONER_SYSTEM = (
    "You are the Partitioner of a hardware-aware neural architecture search. You split the "
    "search space into partitions by one complexity feature so that separate designers "
    "explore every cost range. Answer with one JSON object only."
)

DESIGNER_SYSTEM = (
    "You are a Designer in a multi-objective, hardware-aware neural architecture search. "
    "You propose new architectures inside your partition by crossover or mutation of the "
    "Pareto parents you are shown, using the design heuristics when they apply. You may call "
    "the tools you are given to look up metrics before answering. Your final answer is one "
    "JSON object only, matching the schema."
)

REFLECTOR_SYSTEM = (
    "You are the Reflector of a hardware-aware neural architecture search. After each round "
    "you read what the designers tried and what it did to each objective, and you maintain a "
    "knowledge base of short, testable design heuristics: add new ones, revise the evidence "
    "(or wording) of existing ones, retire ones the evidence contradicts. Answer with one "
    "JSON object only."
)

STEER_SYSTEM = (
    "You are the steering assistant of a running hardware-aware neural architecture search. "
    "The user talks to you between rounds; you turn what they say into typed commands that "
    "the search applies at the next round boundary, and you reply in one or two sentences "
    "saying what will change. Answer with one JSON object only."
)


_VERB = {"max": "maximise", "min": "minimise"}


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def metrics_line(metrics: dict[str, float], objectives: Sequence[Objective]) -> str:
    """Objectives first (with their direction), then robustness figures when present."""
    parts = []
    for o in objectives:
        if o.metric in metrics:
            parts.append(f"{o.metric}={_fmt(metrics[o.metric])} ({o.direction})")
    names = {o.metric for o in objectives}
    for m in ROBUSTNESS_METRICS:
        if m in metrics and m not in names:
            parts.append(f"{m}={_fmt(metrics[m])}")
    if (
        "clean_accuracy" in metrics
        and "robust_accuracy" in metrics
        and "degradation" not in metrics
    ):
        lost = metrics["clean_accuracy"] - metrics["robust_accuracy"]
        parts.append(f"accuracy lost to non-idealities={_fmt(lost)}")
    return ", ".join(parts)


def _claim_note(h: HeuristicView) -> str:
    """The structured claim in a few words, so a model weighs it as the offline policy
    does: measured effect, evidence, where it was seen, whether it travels."""
    c = h.claim
    if c is None:
        return ""
    size = f" {c.effect:+.3g}" if c.effect is not None else ""
    travels = "any device" if c.hardware_independent else "this device only"
    return f"; claim: {c.objective} {c.direction}{size}, n={c.evidence}, {travels}"


def heuristics_block(heuristics: Sequence[HeuristicView]) -> str:
    """Heuristics, most evidence first, each with its confidence (the Laplace share of
    supporting evidence, the weight the offline policy gives it) and its claim."""
    if not heuristics:
        return "(none yet)"
    ranked = sorted(heuristics, key=lambda h: -(h.evidence_for + h.evidence_against))
    return "\n".join(
        f"- [{h.id}] ({h.polarity}; evidence +{h.evidence_for}/-{h.evidence_against}, "
        f"confidence {(h.evidence_for + 1) / (h.evidence_for + h.evidence_against + 2):.2f}"
        f"{_claim_note(h)}) {h.text}"
        for h in ranked
    )


def parents_block(parents: Sequence[ScoredArch], objectives: Sequence[Objective]) -> str:
    if not parents:
        return "(no parents yet: propose diverse seeds inside the partition)"
    return "\n".join(f"- {p.arch}: {metrics_line(p.metrics, objectives)}" for p in parents)


def partitioner_prompt(ctx: PartitionerContext) -> str:
    hist = json.dumps(ctx.feature_histograms, sort_keys=True)
    sample_note = " (counts from a random sample)" if ctx.histogram_is_sample else ""
    return (
        f"Search space: {ctx.space}. {ctx.space_description}\n"
        f"Hardware: {ctx.hardware}\n"
        f"Split the space into exactly {ctx.k} partitions by ONE feature. Feature histograms "
        f"(feature -> value -> number of architectures{sample_note}):\n{hist}\n"
        f"The default is '{ctx.default_feature}'. Give {ctx.k} inclusive [low, high] ranges "
        "of the feature's values, ascending, disjoint, each holding at least one value, "
        "together covering every value.\n"
        f"Answer schema: {schema_text(PartitionAnswer)}"
    )


def hard_rules_block(ctx: DesignerContext) -> str:
    """The user's constraints and avoid/prefer rules: hard, checked on every child."""
    lines = [f"- constraint: {c.text()}" for c in ctx.constraints]
    lines += [f"- rule: {r.text()}" for r in ctx.rules]
    if not lines:
        return ""
    return (
        "Hard rules from the user: a child known or predicted to break one is refused "
        "(use the hardware tool to check a metric when you have it):\n" + "\n".join(lines) + "\n"
    )


REUSED_SHOWN = 10  # earlier runs' cells an LLM Designer is shown (most accurate first)


def reused_block(ctx: DesignerContext) -> str:
    """Earlier runs' measured cells (``--reuse-evaluations``), labelled as such: data,
    not heuristics, and not evaluations of this run."""
    cells = [s for s in ctx.reused if "accuracy" in s.metrics]
    if not cells:
        return ""
    best = sorted(cells, key=lambda s: (-s.metrics["accuracy"], s.arch))[:REUSED_SHOWN]
    lines = "\n".join(
        f"- {s.arch}: " + ", ".join(f"{k}={v:.4g}" for k, v in sorted(s.metrics.items()))
        for s in best
    )
    return (
        f"Reused evaluations from earlier runs ({len(cells)} cells; the most accurate "
        f"{len(best)} below; they are not evaluations of this run and may be proposed):\n"
        f"{lines}\n"
    )


def designer_prompt(ctx: DesignerContext, space_description: str, tool_names: Sequence[str]) -> str:
    p = ctx.partition
    tools = f"Tools you may call before answering: {', '.join(tool_names)}.\n" if tool_names else ""
    example = ctx.parents[0].arch if ctx.parents else "<architecture string>"
    steering = hard_rules_block(ctx)
    return (
        f"Search space: {ctx.space}. {space_description}\n"
        f"Hardware: {ctx.hardware}. Objectives: "
        + ", ".join(f"{o.metric} ({_VERB[o.direction]})" for o in ctx.objectives)
        + f". Round {ctx.round}.\n"
        f"Partition constraint: every child must have {p.feature} between {p.low:g} and "
        f"{p.high:g} (inclusive) — partition {p.id}.\n"
        f"Pareto parents of this partition, with their measured metrics:\n"
        f"{parents_block(ctx.parents, ctx.objectives)}\n"
        f"Design heuristics from the knowledge base:\n{heuristics_block(ctx.heuristics)}\n"
        f"{reused_block(ctx)}"
        f"{steering}"
        f"{tools}"
        f"Choose crossover (combine two parents) or mutation (change one or two parts of one "
        f"parent), then propose exactly {ctx.n_children} new architectures that could extend "
        "or fill gaps in the Pareto front. Every child must be a legal architecture string "
        f"of this space (like {example}), must not repeat an already evaluated architecture "
        "or another child, and must satisfy the partition constraint. Name the parents you "
        "used and give a one-sentence rationale per child; list the ids of heuristics you "
        "followed.\n"
        f"Answer schema: {schema_text(DesignAnswer)}"
    )


def reflector_prompt(ctx: ReflectorContext) -> str:
    lines = []
    for o in ctx.outcomes:
        deltas = ", ".join(f"{k} {v:+.4g}" for k, v in o.deltas.items())
        lines.append(
            f"- partition {o.partition}, {o.operator} of {', '.join(o.parents) or '(seed)'} -> "
            f"{o.child}: {metrics_line(o.child_metrics, ctx.objectives)}; change vs best "
            f"parent: {deltas or 'n/a'}; on global front: {o.on_front}; rationale: "
            f"{o.rationale or '-'}; heuristics used: {', '.join(o.heuristics_used) or '-'}"
        )
    return (
        f"Search space: {ctx.space}. Hardware: {ctx.hardware}. Objectives: "
        + ", ".join(f"{o.metric} ({o.direction})" for o in ctx.objectives)
        + f". Round {ctx.round}.\n"
        f"What the designers tried this round:\n" + ("\n".join(lines) or "(nothing)") + "\n"
        f"Current heuristics:\n{heuristics_block(ctx.heuristics)}\n"
        f"Add at most {ctx.max_new} new heuristics (short, specific, testable; set partition "
        "to a partition id or null for all), revise evidence of existing ones by id "
        "(evidence_for_delta / evidence_against_delta, optional new text), and retire ids the "
        "evidence contradicts. Use only ids listed above.\n"
        f"Answer schema: {schema_text(ReflectionAnswer)}"
    )


_STEER_ACTIONS_HELP = (
    "Actions (field 'action'; use several when the user asks for several things, none "
    "when the message asks for nothing you can do — never invent one): "
    "constrain (metric, op one of < <= > >=, value in the metric's unit: latency_ms in ms, "
    "energy_mj in mJ, accuracy in %; a hard bound for every Designer); clear_constraint "
    "(metric, or null for all); focus (partitions: ids that get the budget; [] = all "
    "again); freeze / unfreeze (partitions; unfreeze [] = all); avoid / prefer (op: an "
    "operation of the space; edges: edge labels such as '3<-2', [] = any edge; 'near the "
    "output' = the edges into the output node; a hard rule for every Designer: when the "
    "user says 'where possible', 'ideally' or similar, use add_heuristic instead); "
    "clear_rules (op, '' = all); extend_budget "
    "/ extend_rounds (amount > 0); pause; resume; stop; continue (no change); "
    "add_heuristic (text, polarity, partitions: [id] or []); edit_heuristic (id, text); "
    "retire_heuristic (id); question (text, target: a cell, fN, pN, rN or ''; for any "
    "question: it is answered from the run and changes nothing). Partitions are ordered "
    "by complexity: 'low latency', 'small', 'cheap' mean the lowest-complexity "
    "partitions, 'high accuracy', 'large' the highest. Use only partition ids, "
    "operations, edges and heuristic ids listed here."
)


def _steer_context_text(ctx: SteerContext) -> str:
    """The run as the steering agent sees it: limits, partitions, some front members."""
    parts = "\n".join(
        f"- partition {p.id}: {p.feature} in [{p.low:g}, {p.high:g}] ({p.size} cells)"
        for p in ctx.partitions
    )
    front = "\n".join(
        "- "
        + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items())
        for r in ctx.front
    )
    return (
        f"Search space {ctx.space or '?'} on {ctx.hardware or '?'}; objectives: "
        f"{', '.join(o.metric for o in ctx.objectives) or '?'}.\n"
        f"Round {ctx.round} just finished: {ctx.evaluations} of {ctx.budget} evaluations "
        f"used, {ctx.rounds} rounds planned, {ctx.heuristics} heuristics in the knowledge "
        f"base, focus: {ctx.focus or 'all partitions'}.\n"
        f"Partitions:\n{parts or '(none)'}\nSome Pareto-front members:\n{front or '(none)'}\n"
        f"Constraints in force: {', '.join(c.text() for c in ctx.constraints) or 'none'}; "
        f"user rules: {', '.join(r.text() for r in ctx.rules) or 'none'}; frozen: "
        f"{ctx.frozen or 'none'}.\nMetrics: "
        + (", ".join(f"{m} {r.low:.4g}..{r.high:.4g}" for m, r in ctx.metrics.items()) or "?")
        + f".\nOperations: {', '.join(ctx.operations) or '(none)'}; edges: "
        f"{', '.join(ctx.edges) or '(none)'}; output edges: {', '.join(ctx.output_edges) or '-'}."
        f"\nHeuristic ids: {', '.join(ctx.heuristic_ids) or '(none)'}"
    )


def steer_prompt(message: str, ctx: SteerContext) -> str:
    """The steering agent's request: the run, the actions it may use, the user's words."""
    return (
        f"{_steer_context_text(ctx)}\n{_STEER_ACTIONS_HELP}\n"
        f"The user says: {message!r}\n"
        f"Answer schema: {schema_text(SteerAnswer)}"
    )


def repair_message(errors: Sequence[str], *, what: str) -> str:
    """The feedback sent back to the model after an invalid answer."""
    reasons = "\n".join(f"- {e}" for e in errors) or "- (no reason recorded)"
    return (
        f"Your {what} was not accepted:\n{reasons}\n"
        "Fix these problems and answer again with one JSON object matching the schema."
    )
