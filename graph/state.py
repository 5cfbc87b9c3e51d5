"""The graph's state: JSON-native, so every checkpoint is readable and a run resumes from
any superstep.

Lists that parallel Designers append to use ``operator.add`` reducers; LangGraph applies
the writes of one superstep in task order, not completion order, so the state (and the
evaluation order in ``candidates.csv``) is the same however threads were scheduled.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, NotRequired, TypedDict

from agentnas.agents.usage import LLMUsage, UsageSplit, add_split, add_usage


class Candidate(TypedDict):
    """One evaluated architecture."""

    arch: str
    metrics: dict[str, float]
    partition: int | None
    parents: list[str]
    round: int
    operator: str  # "seed" | "mutation" | "crossover" | "fallback-…"
    rationale: str
    heuristics_used: list[str]
    designer: str  # who proposed it: LLM label, or "offline policy (no LLM)"


class RoundStats(TypedDict):
    round: int
    evaluations: int  # evaluated cells so far (status ok or constraint)
    attempted: int  # evaluations attempted so far, failed/infeasible included: the budget
    front_size: int
    hv_ratio: float | None
    igd: float | None
    constraint: str  # constraints in force while the round was designed ("" = none)
    llm_calls: int  # run-wide model requests so far (LLMUsage.calls)
    prompt_tokens: int  # run-wide totals so far (LLMUsage)
    completion_tokens: int
    fallbacks: int
    seconds: float


class SearchState(TypedDict, total=False):
    round: int  # 0 = seeding; design rounds are 1..config.rounds
    partitions: list[dict[str, Any]]  # agents.schemas.Partition dumps
    partition_feature: str
    candidates: Annotated[list[Candidate], operator.add]
    fallbacks: Annotated[list[dict[str, Any]], operator.add]  # designer fallbacks, per round
    # evaluations that failed after retries, or designs the hardware refused (infeasible)
    failed: Annotated[list[dict[str, Any]], operator.add]
    front: list[str]  # global Pareto front (arch strings)
    archives: dict[str, list[str]]  # partition id -> its Pareto front
    history: Annotated[list[RoundStats], operator.add]
    heuristics: list[dict[str, Any]]  # KB records in scope after the last reflection
    # run-wide model requests, retries, repairs, fallbacks and tokens (agents/usage.py):
    # checkpointed, so a resumed run keeps counting where the killed one stopped
    llm_usage: Annotated[LLMUsage, add_usage]
    # the same figures by role and by round ({"roles": {...}, "rounds": {"3": ...}})
    llm_usage_split: Annotated[UsageSplit, add_split]
    wall_s: float  # wall seconds the run has been driven, every process (graph.budgets)
    # caps reached while the offline policy went on (on_llm_failure "fallback")
    caps_reached: Annotated[list[dict[str, Any]], operator.add]
    instructions_seen: int  # lines of RUN_DIR/steer.jsonl already applied
    limits: dict[str, int]  # {"budget", "rounds"}: config values, extended by steering
    focus: list[int]  # partitions that get the budget (empty = all)
    frozen: list[int]  # partitions that get no budget
    constraints: list[dict[str, Any]]  # agents.hard_rules.Constraint dumps, one per metric
    rules: list[dict[str, Any]]  # agents.hard_rules.OpRule dumps (the user's avoid/prefer)
    front_constrained: list[str]  # the front of the cells that satisfy the constraints
    paused: bool  # an autonomous run waits at the boundary for "resume"
    rules_round: int  # first round designed under the constraints/rules in force
    # partitions whose Designer found no cell keeping the user's rules:
    # {"round", "partition", "wave", "asked", "proposed"} (refill hands on asked - proposed)
    barren: Annotated[list[dict[str, int]], operator.add]
    waves: Annotated[list[dict[str, int]], operator.add]  # {"round", "wave"} per Designer task
    done: bool


class DesignTask(TypedDict):
    """What one Designer branch receives through ``Send``."""

    round: int
    partition: dict[str, Any]
    n_children: int
    parents: list[Candidate]
    evaluated: list[str]
    history: list[Candidate]  # every evaluated candidate so far, all partitions
    constraints: list[dict[str, Any]]
    rules: list[dict[str, Any]]
    # every partition of the run: the membership rule needs them (Partition.contains)
    partitions: NotRequired[list[dict[str, Any]]]
    wave: NotRequired[int]  # 0: the round's first Designers; > 0: a refill of the round
