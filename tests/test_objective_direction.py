"""The agents receive :class:`Objective` objects and take an objective's direction from
it (or, for a metric named by a claim, from the objectives registry), never from the
spelling of its name."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

from agentnas.agents.prompts import metrics_line
from agentnas.agents.schemas import ReflectorContext
from agentnas.agents.steering_commands import SteerContext
from agentnas.tools.objectives import OBJECTIVES, is_maximized, objective_of


def test_registry_gives_direction_by_name_or_metric():
    assert is_maximized("accuracy") and is_maximized("robust_accuracy")
    assert not is_maximized("latency") and not is_maximized("latency_ms")
    assert not is_maximized("energy_mj") and not is_maximized("degradation")
    # a spread of accuracies is a cost, although its name says accuracy
    assert not is_maximized("robust_accuracy_std")
    assert not is_maximized("a_user_metric")  # unknown: a cost
    assert objective_of("latency_ms") is OBJECTIVES["latency"]
    assert objective_of("nothing") is None


def test_contexts_hold_objective_objects_and_accept_names():
    ctx = SteerContext(objectives=["accuracy", "latency_ms"])
    assert ctx.objectives == [OBJECTIVES["accuracy"], OBJECTIVES["latency"]]
    r = ReflectorContext(
        space="s", hardware="h", objectives=[OBJECTIVES["energy"], "accuracy"], round=0,
        outcomes=[],
    )  # fmt: skip
    assert [o.direction for o in r.objectives] == ["min", "max"]
    with pytest.raises(ValidationError, match="unknown objective"):
        SteerContext(objectives=["speed"])


def test_prompt_direction_comes_from_the_objective():
    """An objective whose name says nothing about its direction is shown with its own."""
    score = dataclasses.replace(
        OBJECTIVES["latency"], name="score", metric="score", direction="max"
    )
    line = metrics_line({"score": 3.0, "latency_ms": 2.0}, [score, OBJECTIVES["latency"]])
    assert line == "score=3 (max), latency_ms=2 (min)"
