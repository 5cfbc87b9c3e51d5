"""The data the agents exchange with the graph, and the answers they ask an LLM for.

Everything is a pydantic v2 model that round-trips through ``model_dump(mode="json")``, so
the graph can keep it in its JSON-native state, checkpoint it and write it to the trace.
The contract with the graph is ``/work/notes/AGENTS_CONTRACT.md``; fields marked "added"
are optional extensions with defaults, so a caller that ignores them still works.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from agentnas.agents.hard_rules import Constraint, OpRule
from agentnas.memory.claim import Claim
from agentnas.tools.objectives import Objective, objective_of

Role = Literal["partitioner", "designer", "reflector", "steering"]
Polarity = Literal["positive", "negative"]


def _objectives(value: Any) -> Any:
    """Objectives as :class:`Objective` objects; a name or metric (``"latency_ms"``) is
    looked up in the registry, so a caller may still pass strings."""
    if not isinstance(value, list | tuple):
        return value
    out = []
    for item in value:
        if isinstance(item, str):
            found = objective_of(item)
            if found is None:
                raise ValueError(f"unknown objective {item!r}")
            item = found
        out.append(item)
    return out


Objectives = Annotated[list[Objective], BeforeValidator(_objectives)]
"""The run's objectives (name, metric, direction, unit), in the run's order."""


# ---------------------------------------------------------------- LLM bookkeeping


class CallKey(BaseModel):
    """Identifies one LLM call independently of thread scheduling, so a replay can answer
    parallel Designers correctly. ``step`` (added) numbers the calls inside one attempt's
    tool loop (0 = the first request)."""

    node: str
    round: int
    partition: int | None = None
    attempt: int = 0
    step: int = 0

    def tuple(self) -> tuple[str, int, int | None, int, int]:
        return (self.node, self.round, self.partition, self.attempt, self.step)


class Attempt(BaseModel):
    """One try of one role: the prompt, the raw answer, what was parsed, what was wrong.
    The graph writes each one to the trace. For the offline policy ``prompt`` is empty and
    ``answer`` holds a summary of the rule-based decision. ``llm_calls`` (added) lists every
    model request of the attempt (tool loop included) as replayable records; see
    :func:`agentnas.agents.llm.llm_call_events`."""

    role: Role
    key: CallKey
    label: str = ""  # added: "offline policy (no LLM)" or the model label; never a secret
    prompt: list[dict[str, str]] = Field(default_factory=list)
    answer: dict[str, Any] = Field(default_factory=dict)
    parsed: dict[str, Any] | None = None
    errors: list[str] = Field(default_factory=list)
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    llm_calls: list[dict[str, Any]] = Field(default_factory=list)
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # model requests this attempt sent (retries of failed requests included) and, of
    # those, the retries: what :func:`agentnas.agents.usage.usage_of` counts
    requests: int = 0
    retries: int = 0


# ---------------------------------------------------------------- partitioner


class Partition(BaseModel):
    """Cells whose ``feature`` value lies in ``[low, high]`` (inclusive); ``size`` is the
    number of cells (enumerable space) or of sampled cells (otherwise).

    Membership has one rule, :func:`partition_of`, used by the seeder, the Designers'
    validation, the offline policy and the graph's bookkeeping alike."""

    id: int
    feature: str
    low: float
    high: float
    size: int

    def contains(self, features: Mapping[str, Any], plan: Sequence[Partition] = ()) -> bool:
        """Whether a cell with these ``features`` belongs here under the run's ``plan``
        (every partition; :func:`partition_of`). Without the plan only the range itself
        can be checked: the value must lie in ``[low, high]``."""
        if plan and any(p.id == self.id for p in plan):
            return partition_of(features, plan) == self.id
        v = features.get(self.feature)
        return v is not None and self.low <= float(v) <= self.high


def partition_of(features: Mapping[str, Any], plan: Sequence[Partition]) -> int | None:
    """The id of the partition a cell with these ``features`` belongs to.

    The rule: the partition whose range holds the value; a value in no range (between or
    beyond the ranges, possible when the plan came from a sample of a non-enumerable
    space) belongs to the nearest range, the lower one on a tie, so every cell has exactly
    one partition. None only when the plan is empty or the cell lacks the feature."""
    if not plan:
        return None
    v = features.get(plan[0].feature)
    if v is None:
        return None
    v = float(v)
    best, best_gap = None, float("inf")
    for p in sorted(plan, key=lambda q: (q.low, q.high)):
        if p.low <= v <= p.high:
            return p.id
        gap = p.low - v if v < p.low else v - p.high
        if gap < best_gap:
            best, best_gap = p.id, gap
    return best


class PartitionerContext(BaseModel):
    space: str
    space_description: str
    hardware: str
    k: int = Field(ge=1)
    feature_histograms: dict[str, dict[str, int]]  # feature -> value (as text) -> count
    default_feature: str
    histogram_is_sample: bool = False  # added: True when counts come from a sample


class PartitionResult(BaseModel):
    partitions: list[Partition]
    feature: str
    rationale: str
    attempts: list[Attempt] = Field(default_factory=list)
    fallback_used: bool = False
    fallback_reason: str | None = None


class PartitionAnswer(BaseModel):
    """What the Partitioner asks an LLM for: a feature and k inclusive value ranges."""

    feature: str
    groups: list[list[float]] = Field(
        description="k inclusive [low, high] value ranges, ascending, covering every value"
    )
    rationale: str = ""


# ---------------------------------------------------------------- designer


class ScoredArch(BaseModel):
    arch: str
    metrics: dict[str, float]
    partition: int | None = None
    round: int = 0


class HeuristicView(BaseModel):
    id: str
    text: str
    polarity: Polarity = "positive"
    evidence_for: int = 0
    evidence_against: int = 0
    partition: int | None = None  # added: the heuristic's scope (None = every partition)
    claim: Claim | None = None  # added: what the search acts on (memory.claim)
    hardware: str = ""  # added: the hardware it was learnt on ("" = unknown)


class DesignerContext(BaseModel):
    space: str
    hardware: str
    objectives: Objectives
    round: int
    partition: Partition
    # every partition of the run, so membership follows the one rule (Partition.contains)
    plan: list[Partition] = Field(default_factory=list)
    parents: list[ScoredArch]
    heuristics: list[HeuristicView] = Field(default_factory=list)
    n_children: int = Field(ge=1)
    evaluated: list[str] = Field(default_factory=list)
    dedupe_isomorphic: bool = False
    seed: int = 0
    max_repairs: int = 2
    # added: every evaluated cell with its metrics (all partitions). The offline policy fits
    # its op-effect model on it; without it, it learns from ``parents`` only.
    history: list[ScoredArch] = Field(default_factory=list)
    # the user's hard rules (agents.hard_rules): every Designer, offline or LLM, is held
    # to them; an LLM sees them in its prompt and gets refused children back with reasons
    constraints: list[Constraint] = Field(default_factory=list)
    rules: list[OpRule] = Field(default_factory=list)
    dataset: str = ""  # added: claims measured on another dataset count less
    # earlier runs' measured cells (--reuse-evaluations): data for the accuracy model, not
    # evaluations of this run (never on its fronts, not in its budget)
    reused: list[ScoredArch] = Field(default_factory=list)

    @property
    def objective_metrics(self) -> list[str]:
        """The objectives' metric keys (``accuracy``, ``latency_ms``), in order."""
        return [o.metric for o in self.objectives]


class Proposal(BaseModel):
    arch: str
    operator: str  # "mutation" | "crossover" | "seed" | "fallback-mutation" | ...
    parents: list[str] = Field(default_factory=list)
    rationale: str = ""
    heuristics_used: list[str] = Field(default_factory=list)


class DesignResult(BaseModel):
    children: list[Proposal]
    attempts: list[Attempt] = Field(default_factory=list)
    fallback_used: bool = False
    fallback_reason: str | None = None


class ChildAnswer(BaseModel):
    """One child in a model's answer; ``cell``/``architecture`` are accepted for ``arch``."""

    model_config = ConfigDict(populate_by_name=True)

    arch: str = Field(validation_alias=AliasChoices("arch", "cell", "architecture", "arch_str"))
    parents: list[str] = Field(default_factory=list)
    rationale: str = ""


class DesignAnswer(BaseModel):
    """What the Designer asks an LLM for."""

    operator: str = Field(default="mutation", description="'mutation' or 'crossover'")
    children: list[ChildAnswer]
    heuristics_used: list[str] = Field(default_factory=list, description="heuristic ids")


# ---------------------------------------------------------------- reflector


class Outcome(BaseModel):
    partition: int
    child: str
    parents: list[str] = Field(default_factory=list)
    operator: str = ""
    rationale: str = ""
    heuristics_used: list[str] = Field(default_factory=list)
    child_metrics: dict[str, float]
    parent_metrics: list[dict[str, float]] = Field(default_factory=list)
    deltas: dict[str, float] = Field(default_factory=dict)  # child − best parent, as measured
    on_front: bool = False


class ReflectorContext(BaseModel):
    space: str
    hardware: str
    objectives: Objectives
    round: int
    outcomes: list[Outcome]
    heuristics: list[HeuristicView] = Field(default_factory=list)
    max_new: int = 3
    dataset: str = ""  # added: recorded in the claims' evidence
    # added: structured claims the offline Reflector may add per round (beside max_new words)
    max_new_claims: int = 200
    # added: every partition's Pareto archive (cells with partition and metrics): the
    # offline Reflector writes which ops its front cells carry (front-pattern claims)
    front: list[ScoredArch] = Field(default_factory=list)


class NewHeuristic(BaseModel):
    text: str = Field(min_length=1)
    polarity: Polarity = "positive"
    partition: int | None = None
    evidence_for: int = Field(default=0, ge=0)
    evidence_against: int = Field(default=0, ge=0)
    claim: Claim | None = None  # added: None = parsed from the text when it names an op


class Revision(BaseModel):
    id: str
    text: str | None = None
    evidence_for_delta: int = 0
    evidence_against_delta: int = 0
    polarity: Polarity | None = None  # added: a claim whose evidence flipped its direction
    claim: Claim | None = None  # added: the claim after pooling this round's evidence


class ReflectionResult(BaseModel):
    add: list[NewHeuristic] = Field(default_factory=list)
    revise: list[Revision] = Field(default_factory=list)
    retire: list[str] = Field(default_factory=list)
    attempts: list[Attempt] = Field(default_factory=list)
    fallback_used: bool = False
    fallback_reason: str | None = None


class ReflectionAnswer(BaseModel):
    """What the Reflector asks an LLM for."""

    add: list[NewHeuristic] = Field(default_factory=list)
    revise: list[Revision] = Field(default_factory=list)
    retire: list[str] = Field(default_factory=list)
