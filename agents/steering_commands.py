"""Steering commands: what a user may ask of a running search, as typed commands, the
context the steering agent sees at a round boundary, and what those commands mean.

The graph applies the commands at round boundaries (``steer`` node, ``graph/steering.py``);
:mod:`agentnas.agents.steering` produces them from chat messages, with an LLM or with the
rule-based interpreter of :mod:`agentnas.agents.steering_rules`. These models are pure data
(no LLM, no graph), so every side can import them without import cycles.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

SteerAction = Literal[
    "instruct",  # free text shown to every Designer from now on
    "focus",  # give these partitions the round's budget (empty list = all again)
    "add_heuristic",  # store a user heuristic in the knowledge base
    "extend_budget",  # more distinct evaluations
    "extend_rounds",  # more rounds
    "stop",  # finish after this round and write the report
    "continue",  # nothing to change
]


class SteerCommand(BaseModel):
    action: SteerAction
    text: str = ""
    partitions: list[int] = Field(default_factory=list)
    amount: int = Field(default=0, ge=0)
    polarity: Literal["positive", "negative"] = "positive"


class SteerPartition(BaseModel):
    """A partition as the user sees it: cells whose ``feature`` lies in [low, high]."""

    id: int
    feature: str
    low: float
    high: float
    size: int = 0


class SteerContext(BaseModel):
    """What the steering agent knows about the run at a round boundary."""

    round: int = 0
    space: str = ""
    hardware: str = ""
    objectives: list[str] = Field(default_factory=list)
    partitions: list[SteerPartition] = Field(default_factory=list)
    front: list[dict[str, Any]] = Field(default_factory=list)  # a few rows: arch + metrics
    budget: int = 0  # current limit (distinct evaluations, seeds included)
    rounds: int = 0  # current limit
    evaluations: int = 0  # so far
    heuristics: int = 0  # active heuristics in scope
    focus: list[int] = Field(default_factory=list)  # current focus (empty = all)


class SteerAnswer(BaseModel):
    """What the steering prompt asks an LLM for."""

    commands: list[SteerCommand] = Field(default_factory=list)
    reply: str = ""


def check_commands(commands: list[SteerCommand], ctx: SteerContext) -> list[str]:
    """Why a list of commands cannot be applied (empty when it can)."""
    ids = {p.id for p in ctx.partitions}
    errors = []
    for c in commands:
        if c.action == "focus" and ids and not set(c.partitions) <= ids:
            bad = sorted(set(c.partitions) - ids)
            errors.append(f"focus names partitions {bad} that do not exist (ids: {sorted(ids)})")
        if c.action in ("extend_budget", "extend_rounds") and c.amount <= 0:
            errors.append(f"{c.action} needs an amount > 0")
        if c.action in ("instruct", "add_heuristic") and not c.text.strip():
            errors.append(f"{c.action} needs a non-empty text")
    return errors


def _partition_name(p: SteerPartition | None, i: int) -> str:
    if p is None:
        return f"p{i}"
    values = f"{p.low:g}" if p.low == p.high else f"{p.low:g}–{p.high:g}"
    return f"p{i} ({p.feature} {values})"


def describe(commands: list[SteerCommand], ctx: SteerContext) -> list[str]:
    """One line per command saying what will change at the next round boundary."""
    budget, rounds = ctx.budget, ctx.rounds
    by_id = {p.id: p for p in ctx.partitions}
    lines = []
    for c in commands:
        if c.action == "extend_budget":
            lines.append(f"budget +{c.amount} evaluations ({budget} → {budget + c.amount})")
            budget += c.amount
        elif c.action == "extend_rounds":
            lines.append(f"rounds +{c.amount} ({rounds} → {rounds + c.amount})")
            rounds += c.amount
        elif c.action == "focus" and not c.partitions:
            lines.append("focus cleared: every partition gets budget again")
        elif c.action == "focus":
            names = ", ".join(_partition_name(by_id.get(i), i) for i in c.partitions)
            lines.append(f"from now on the budget goes only to {names}")
        elif c.action == "add_heuristic":
            scope = f", partition {c.partitions[0]}" if len(c.partitions) == 1 else ""
            lines.append(f"new user heuristic ({c.polarity}{scope}) in the KB: {c.text}")
        elif c.action == "instruct":
            lines.append(f"instruction to every Designer from now on: {c.text}")
        elif c.action == "stop":
            lines.append("stop: the run finishes at this boundary and writes its report")
        else:
            lines.append("no change: the run continues")
    return lines
