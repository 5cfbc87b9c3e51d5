"""Steering actions: everything a user may ask of a running search, as typed pydantic
models, the context the steering agent sees at a round boundary, the check of actions
against the run and the plain-words confirmation of what they change.

Every message (chat line, ``agentnas steer``, a ``chat --script`` line) becomes zero or
more actions: the offline parser (:mod:`agentnas.agents.steering_rules`) and the LLM
steering agent (structured output, :mod:`agentnas.agents.steering`) return the same
models and go through the same :func:`check_commands`. A message that yields none is
"not understood" and changes nothing; there is no free-text instruction.

``SteerCommand`` is the discriminated union of the action models (field ``action``), so
one JSON object per action round-trips through ``steer.jsonl``, the trace and the
checkpoint. The graph applies them at round boundaries (``graph/steering.py``). Pure data:
no LLM, no graph, so every side imports it without cycles.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from agentnas.agents.hard_rules import UNITS, Comparison, Constraint, OpRule
from agentnas.agents.schemas import Objectives


class _Action(BaseModel):
    text: str = ""  # the user's words that produced it (kept for the trace)


class Constrain(_Action):
    """A hard bound on one metric: no child known or predicted to break it is proposed."""

    action: Literal["constrain"] = "constrain"
    metric: str
    op: Comparison
    value: float

    def constraint(self) -> Constraint:
        return Constraint(metric=self.metric, op=self.op, value=self.value)


class ClearConstraint(_Action):
    action: Literal["clear_constraint"] = "clear_constraint"
    metric: str | None = None  # None: every constraint


class Focus(_Action):
    """Give the budget only to these partitions (empty = all partitions again)."""

    action: Literal["focus"] = "focus"
    partitions: list[int] = Field(default_factory=list)


class Freeze(_Action):
    """No more budget for these partitions."""

    action: Literal["freeze"] = "freeze"
    partitions: list[int]


class Unfreeze(_Action):
    action: Literal["unfreeze"] = "unfreeze"
    partitions: list[int] = Field(default_factory=list)  # empty: every frozen partition


class Avoid(_Action):
    """Never propose a child with ``op`` (on ``edges``; empty = any edge)."""

    action: Literal["avoid"] = "avoid"
    op: str
    edges: list[str] = Field(default_factory=list)

    def rule(self) -> OpRule:
        return OpRule(kind="avoid", op=self.op, edges=self.edges)


class Prefer(_Action):
    """Every child carries ``op`` on at least one of ``edges`` (empty = any edge)."""

    action: Literal["prefer"] = "prefer"
    op: str
    edges: list[str] = Field(default_factory=list)

    def rule(self) -> OpRule:
        return OpRule(kind="prefer", op=self.op, edges=self.edges)


class ClearRules(_Action):
    """Drop the user's avoid/prefer rules (for ``op``, or all when empty)."""

    action: Literal["clear_rules"] = "clear_rules"
    op: str = ""


class ExtendBudget(_Action):
    action: Literal["extend_budget"] = "extend_budget"
    amount: int = Field(gt=0)


class ExtendRounds(_Action):
    action: Literal["extend_rounds"] = "extend_rounds"
    amount: int = Field(gt=0)


class Pause(_Action):
    """A run driven by ``agentnas run`` waits at the next round boundary for ``resume``."""

    action: Literal["pause"] = "pause"


class Resume(_Action):
    action: Literal["resume"] = "resume"


class Stop(_Action):
    action: Literal["stop"] = "stop"


class Continue(_Action):
    action: Literal["continue"] = "continue"


class AddHeuristic(_Action):
    """A design rule in words, stored in the KB with source "user"."""

    action: Literal["add_heuristic"] = "add_heuristic"
    text: str = Field(min_length=1)
    polarity: Literal["positive", "negative"] = "positive"
    partitions: list[int] = Field(default_factory=list)  # [id]: scoped to one partition


class EditHeuristic(_Action):
    action: Literal["edit_heuristic"] = "edit_heuristic"
    id: str = Field(min_length=1)
    text: str = Field(min_length=1)


class RetireHeuristic(_Action):
    action: Literal["retire_heuristic"] = "retire_heuristic"
    id: str = Field(min_length=1)


class Question(_Action):
    """Read-only: answered from the trace and candidates; changes nothing."""

    action: Literal["question"] = "question"
    text: str = Field(min_length=1)
    target: str = ""  # a cell, fN, pN, rN, or "" for a free question


SteerCommand = Annotated[
    Constrain | ClearConstraint | Focus | Freeze | Unfreeze | Avoid | Prefer | ClearRules
    | ExtendBudget | ExtendRounds | Pause | Resume | Stop | Continue | AddHeuristic
    | EditHeuristic | RetireHeuristic | Question,
    Field(discriminator="action"),
]  # fmt: skip
SteerAction = str  # the ``action`` field's value
_ADAPTER: TypeAdapter[Any] = TypeAdapter(SteerCommand)
_LIST_ADAPTER: TypeAdapter[Any] = TypeAdapter(list[SteerCommand])
READ_ONLY = frozenset({"question", "continue"})  # actions that change nothing


def parse_command(data: Any) -> Any:
    """One action from its JSON form (raises pydantic's ValidationError)."""
    if isinstance(data, BaseModel):
        return data
    return _ADAPTER.validate_python(data)


def parse_commands(data: Any) -> list[Any]:
    return _LIST_ADAPTER.validate_python(data)


def changes_run(commands: list[Any]) -> bool:
    return any(c.action not in READ_ONLY for c in commands)


class SteerPartition(BaseModel):
    """A partition as the user sees it: cells whose ``feature`` lies in [low, high]."""

    id: int
    feature: str
    low: float
    high: float
    size: int = 0


class Achievable(BaseModel):
    """The range of one metric: over the whole space (``known="space"``) or over the
    cells evaluated so far (``known="seen"``)."""

    low: float
    high: float
    known: Literal["space", "seen"] = "seen"


class SteerContext(BaseModel):
    """What the steering agent knows about the run at a round boundary."""

    round: int = 0
    space: str = ""
    hardware: str = ""
    objectives: Objectives = Field(default_factory=list)
    partitions: list[SteerPartition] = Field(default_factory=list)
    front: list[dict[str, Any]] = Field(default_factory=list)  # a few rows: arch + metrics
    budget: int = 0  # current limit (distinct evaluations, seeds included)
    rounds: int = 0  # current limit
    evaluations: int = 0  # so far
    heuristics: int = 0  # active heuristics in scope
    heuristic_ids: list[str] = Field(default_factory=list)
    focus: list[int] = Field(default_factory=list)  # current focus (empty = all)
    frozen: list[int] = Field(default_factory=list)
    constraints: list[Constraint] = Field(default_factory=list)
    rules: list[OpRule] = Field(default_factory=list)
    metrics: dict[str, Achievable] = Field(default_factory=dict)  # metric -> its range
    operations: list[str] = Field(default_factory=list)  # what avoid/prefer may name
    edges: list[str] = Field(default_factory=list)
    output_edges: list[str] = Field(default_factory=list)
    input_edges: list[str] = Field(default_factory=list)  # "near the input" (NB201: x<-0)
    full_partitions: list[int] = Field(default_factory=list)  # no unevaluated cell left


class SteerAnswer(BaseModel):
    """What the steering prompt asks an LLM for."""

    commands: list[SteerCommand] = Field(default_factory=list)
    reply: str = ""


def _fmt(metric: str, value: float) -> str:
    unit = UNITS.get(metric, "")
    return f"{value:.4g}" + (f" {unit}" if unit else "")


def impossible(c: Constrain, ctx: SteerContext) -> str | None:
    """Why a constraint cannot be met (tighter than every cell of the space, when the
    space is known, or than every cell seen so far), with the best achievable value."""
    rng = ctx.metrics.get(c.metric)
    if rng is None:
        return None
    best = rng.low if c.op in ("<", "<=") else rng.high
    if c.constraint().holds({c.metric: best}):
        return None
    where = "cell of the space" if rng.known == "space" else "cell evaluated so far"
    word = "lowest" if c.op in ("<", "<=") else "highest"
    hint = best * (1.05 if c.op in ("<", "<=") else 0.95)
    return (
        f"no {where} has {c.metric} {c.op} {c.value:g}: the {word} is "
        f"{_fmt(c.metric, best)}; not applied (try {c.metric} {c.op} {hint:.3g})"
    )


def _check_one(c: Any, ctx: SteerContext) -> list[str]:
    ids = {p.id for p in ctx.partitions}
    a = c.action
    if a in ("focus", "freeze", "unfreeze") and ids and not set(c.partitions) <= ids:
        bad = sorted(set(c.partitions) - ids)
        return [f"{a} names partitions {bad} that do not exist (ids: {sorted(ids)})"]
    if a == "freeze":
        if not c.partitions:
            return ["freeze needs partition ids"]
        if ids and ids <= set(ctx.frozen) | set(c.partitions):
            return ["freezing every partition would stop the search; say 'stop' instead"]
    if a == "constrain":
        known = set(ctx.metrics) | {o.metric for o in ctx.objectives}
        if known and c.metric not in known:
            return [f"no metric {c.metric!r} in this run (metrics: {', '.join(sorted(known))})"]
        why = impossible(c, ctx)
        return [why] if why else []
    if a == "clear_constraint" and c.metric and c.metric not in {x.metric for x in ctx.constraints}:
        return [f"no constraint on {c.metric} to clear"]
    if a in ("avoid", "prefer"):
        if ctx.operations and c.op not in ctx.operations:
            return [
                f"no operation {c.op!r} in {ctx.space} (operations: {', '.join(ctx.operations)})"
            ]
        bad_edges = [e for e in c.edges if ctx.edges and e not in ctx.edges]
        if bad_edges:
            return [f"no edge {bad_edges[0]} (edges: {', '.join(ctx.edges)})"]
        if not ctx.operations:
            return [
                f"{ctx.space or 'this space'} has no operations a rule can name, so nothing "
                f"to {a}; say it as a heuristic instead (/heuristic add {a} …), or constrain "
                f"a metric (e.g. 'latency under 3 ms')"
            ]
    if a in ("edit_heuristic", "retire_heuristic") and c.id not in ctx.heuristic_ids:
        near = [h for h in ctx.heuristic_ids if h.startswith(c.id)]
        if len(near) != 1:
            return [f"no heuristic {c.id!r} (/heuristic list shows the ids)"]
    return []


def check_commands(commands: list[Any], ctx: SteerContext) -> list[str]:
    """Why a list of actions cannot be applied to this run (empty when it can)."""
    errors: list[str] = []
    for c in commands:
        errors += _check_one(c, ctx)
    return errors


def _partition_name(p: SteerPartition | None, i: int) -> str:
    if p is None:
        return f"p{i}"
    values = f"{p.low:g}" if p.low == p.high else f"{p.low:g}–{p.high:g}"
    return f"p{i} ({p.feature} {values})"


_FIXED = {
    "stop": "stop: the run finishes at this boundary and writes its report",
    "pause": "pause: the run waits at the next round boundary until you say resume",
    "resume": "resume: the run goes on",
    "continue": "no change: the run continues",
}


def _describe_partitions(c: Any, ctx: SteerContext) -> str:
    by_id = {p.id: p for p in ctx.partitions}
    names = ", ".join(_partition_name(by_id.get(i), i) for i in c.partitions)
    if c.action == "focus":
        if not c.partitions:
            return "focus cleared: every partition gets budget again"
        full = [i for i in c.partitions if i in ctx.full_partitions]
        note = (
            f" (p{', p'.join(map(str, full))} has no cell left to propose: its share goes to "
            "the other partitions)"
            if full
            else ""
        )
        return f"from now on the budget goes only to {names}{note}"
    if c.action == "freeze":
        return f"frozen: {names} get no more budget"
    return f"unfrozen: {names}" if c.partitions else "every partition unfrozen"


def _describe_heuristic(c: Any) -> str:
    if c.action == "add_heuristic":
        scope = f", partition {c.partitions[0]}" if len(c.partitions) == 1 else ""
        return f"new user heuristic ({c.polarity}{scope}) in the KB: {c.text}"
    if c.action == "edit_heuristic":
        return f"heuristic {c.id} reworded: {c.text}"
    return f"heuristic {c.id} retired"


def _describe_one(c: Any, ctx: SteerContext, limits: dict[str, int]) -> str:
    a = c.action
    if a in _FIXED:
        return _FIXED[a]
    if a in ("extend_budget", "extend_rounds"):
        key = "budget" if a == "extend_budget" else "rounds"
        old = limits[key]
        limits[key] += c.amount
        unit = " evaluations" if key == "budget" else ""
        return f"{key} +{c.amount}{unit} ({old} → {limits[key]})"
    if a == "constrain":
        return (
            f"constraint {c.constraint().text()}: from now on no Designer proposes a cell "
            f"known or predicted to break it; cells that break it leave the reported front"
        )
    if a == "clear_constraint":
        return f"constraint on {c.metric} cleared" if c.metric else "every constraint cleared"
    if a in ("focus", "freeze", "unfreeze"):
        return _describe_partitions(c, ctx)
    if a in ("avoid", "prefer"):
        rule = c.rule().text()
        return f"hard rule for every Designer: {rule} (also stored as a user heuristic)"
    if a == "clear_rules":
        return f"user rules on {c.op} dropped" if c.op else "every user avoid/prefer rule dropped"
    if a in ("add_heuristic", "edit_heuristic", "retire_heuristic"):
        return _describe_heuristic(c)
    return f"question (changes nothing): {c.text}"


def describe(commands: list[Any], ctx: SteerContext) -> list[str]:
    """One line per action saying, in plain words, what changes at this boundary."""
    limits = {"budget": ctx.budget, "rounds": ctx.rounds}
    return [_describe_one(c, ctx, limits) for c in commands]
