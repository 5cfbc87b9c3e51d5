"""The steering agent turns chat messages into the right commands: the offline interpreter
for each phrase family, and the LLM path (fake chat models) with repair and fallback."""

from __future__ import annotations

import pytest
from langchain_core.language_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage

from agentnas.agents.llm import OFFLINE_LABEL, ChatBackend, make_llm
from agentnas.agents.steering import (
    SteerCommand,
    SteerContext,
    SteerPartition,
    describe,
    interpret,
    interpret_offline,
)

# NB201's offline partitions by n_nor_conv_3x3: [0],[1],[2],[3],[4],[5..6]
RANGES = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 6)]


@pytest.fixture
def ctx() -> SteerContext:
    return SteerContext(
        round=2,
        space="nb201",
        hardware="hwnasbench:fpga",
        objectives=["accuracy", "latency_ms"],
        partitions=[
            SteerPartition(id=i, feature="n_nor_conv_3x3", low=lo, high=hi, size=10)
            for i, (lo, hi) in enumerate(RANGES)
        ],
        front=[{"arch": "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "accuracy": 70.1}],
        budget=100,
        rounds=10,
        evaluations=40,
        heuristics=3,
    )


def _amount(c) -> int:
    return getattr(c, "amount", 0)


def _parts(c) -> list[int]:
    return getattr(c, "partitions", [])


def one(message: str, ctx: SteerContext) -> SteerCommand:
    commands, notes = interpret_offline(message, ctx)
    assert len(commands) == 1, (message, commands, notes)
    return commands[0]


@pytest.mark.parametrize(
    ("message", "amount"),
    [
        ("more budget 50", 50),
        ("add 50 evaluations", 50),
        ("Give it 25 more evaluations please", 25),
        ("extend the budget by 30", 30),
        ("budget to 180", 80),  # absolute target: 180 - 100
        ("add twenty evaluations", 20),
    ],
)
def test_budget_phrases(ctx, message, amount):
    c = one(message, ctx)
    assert (c.action, c.amount) == ("extend_budget", amount)


@pytest.mark.parametrize(
    ("message", "amount"),
    [("2 more rounds", 2), ("one more round", 1), ("another round", 1), ("rounds to 13", 3)],
)
def test_round_phrases(ctx, message, amount):
    c = one(message, ctx)
    assert (c.action, c.amount) == ("extend_rounds", amount)


def test_budget_cannot_shrink(ctx):
    commands, notes = interpret_offline("budget to 50", ctx)
    assert commands == []
    assert "already 100" in notes[0]


def test_several_requests_in_one_message(ctx):
    commands, _ = interpret_offline("add 50 evaluations and 2 more rounds; focus on p1", ctx)
    assert [(c.action, _amount(c), _parts(c)) for c in commands] == [
        ("extend_budget", 50, []),
        ("extend_rounds", 2, []),
        ("focus", 0, [1]),
    ]
    lines = describe(commands, ctx)
    assert lines[0] == "budget +50 evaluations (100 → 150)"
    assert lines[1] == "rounds +2 (10 → 12)"
    assert "p1 (n_nor_conv_3x3 1)" in lines[2]


@pytest.mark.parametrize(
    ("message", "partitions"),
    [
        ("focus on partitions 4 and 5", [4, 5]),
        ("only partitions 1-3", [1, 2, 3]),
        ("focus on low latency", [0, 1]),
        ("small networks please", [0, 1]),
        ("explore cheap cells", [0, 1]),
        ("focus on high accuracy", [4, 5]),
        ("concentrate on the large ones", [4, 5]),
        ("focus on all partitions", []),
    ],
)
def test_focus_phrases(ctx, message, partitions):
    c = one(message, ctx)
    assert (c.action, c.partitions) == ("focus", partitions)


def test_focus_on_a_missing_partition_is_refused(ctx):
    commands, notes = interpret_offline("focus on partition 9", ctx)
    assert commands == []
    assert notes == ["no partition 9 (ids: [0, 1, 2, 3, 4, 5])"]


def test_low_latency_maps_to_the_lowest_complexity_even_when_ids_are_shuffled(ctx):
    shuffled = ctx.model_copy(
        update={"partitions": [p.model_copy(update={"id": 5 - p.id}) for p in ctx.partitions]}
    )
    assert one("focus on low latency", shuffled).partitions == [4, 5]  # ids of [0] and [1]


@pytest.mark.parametrize(
    ("message", "text", "polarity", "partitions"),
    [
        ("never put none on every edge", "never put none on every edge", "negative", []),
        ("don't use avg_pool_3x3 in p3", "don't use avg_pool_3x3 in p3", "negative", [3]),
        (
            "rule: skip_connect at the output cuts latency",
            "skip_connect at the output cuts latency",
            "positive",
            [],
        ),
        (
            "heuristic: do not stack nor_conv_3x3 in partition 2",
            "do not stack nor_conv_3x3 in partition 2",
            "negative",
            [2],
        ),
        (
            "prefer nor_conv_1x1 over nor_conv_3x3",
            "prefer nor_conv_1x1 over nor_conv_3x3",
            "positive",
            [],
        ),
    ],
)
def test_heuristic_phrases(ctx, message, text, polarity, partitions):
    c = one(message, ctx)
    assert (c.action, c.text, c.polarity, c.partitions) == (
        "add_heuristic",
        text,
        polarity,
        partitions,
    )


@pytest.mark.parametrize("message", ["stop", "finish", "Stop now.", "please stop", "wrap up"])
def test_stop_phrases(ctx, message):
    assert one(message, ctx).action == "stop"


def test_stop_using_is_an_avoid_rule_not_a_stop(ctx):
    c = one("stop using avg_pool_3x3", ctx)
    assert (c.action, c.op, c.edges) == ("avoid", "avg_pool_3x3", [])


@pytest.mark.parametrize("message", ["", "go", "continue", "next", "  Keep going ", "ok"])
def test_continue_phrases(ctx, message):
    assert one(message, ctx).action == "continue"


@pytest.mark.parametrize(
    "message", ["try deeper conv stacks near the input", "mutate the last edge more often"]
)
def test_anything_else_is_not_understood_and_never_an_instruction(ctx, message):
    commands, notes = interpret_offline(message, ctx)
    assert commands == []
    assert notes[0].startswith("not understood") and "Closest forms" in notes[0]


def test_offline_result_is_labelled_and_traced(ctx):
    result = interpret("add 10 evaluations", ctx, make_llm("offline"))
    assert result.label == OFFLINE_LABEL and not result.fallback_used
    assert [c.action for c in result.commands] == ["extend_budget"]
    assert result.reply == "budget +10 evaluations (100 → 110)"
    (att,) = result.attempts
    dumped = att.model_dump(mode="json")
    assert dumped["role"] == "steering" and dumped["label"] == OFFLINE_LABEL
    assert dumped["key"]["node"] == "steer" and dumped["key"]["round"] == 2
    assert dumped["parsed"]["commands"][0]["amount"] == 10


def _backend(*answers: str) -> ChatBackend:
    fake = FakeMessagesListChatModel(responses=[AIMessage(content=a) for a in answers])
    return ChatBackend(fake, label="fake:steer", backoff_s=0, max_retries=0)


def test_llm_answer_is_used(ctx):
    llm = _backend(
        'Sure.\n```json\n{"commands": [{"action": "focus", "partitions": [0, 1]}, '
        '{"action": "extend_rounds", "amount": 3,}], "reply": "Cheap cells, 3 more rounds."}\n```'
    )
    result = interpret("I want cheap ones, and give it three rounds more", ctx, llm)
    assert result.label == "fake:steer" and not result.fallback_used
    assert [(c.action, _parts(c), _amount(c)) for c in result.commands] == [
        ("focus", [0, 1], 0),
        ("extend_rounds", [], 3),
    ]
    assert result.reply == "Cheap cells, 3 more rounds."
    (att,) = result.attempts
    assert att.prompt[0]["role"] == "system" and "partition 5" in att.prompt[1]["content"]
    assert att.llm_calls[0]["node"] == "steer" and att.llm_calls[0]["llm"] == "fake:steer"


def test_llm_invalid_answer_gets_one_repair(ctx):
    llm = _backend(
        '{"commands": [{"action": "focus", "partitions": [7]}]}',
        '{"commands": [{"action": "focus", "partitions": [5]}], "reply": "ok, p5"}',
    )
    result = interpret("focus on the biggest", ctx, llm)
    assert not result.fallback_used and result.commands[0].partitions == [5]
    assert len(result.attempts) == 2
    assert "do not exist" in result.attempts[0].errors[0]
    assert "not accepted" in result.attempts[1].prompt[-1]["content"]  # the repair message


def test_llm_malformed_twice_falls_back_to_offline_and_says_so(ctx):
    llm = _backend("I think you should add some evaluations.", '{"commands": "lots"}')
    result = interpret("add 10 evaluations", ctx, llm)
    assert result.fallback_used and result.label == OFFLINE_LABEL
    assert [(c.action, _amount(c)) for c in result.commands] == [("extend_budget", 10)]
    assert result.reply.startswith("fake:steer gave no usable answer")
    assert OFFLINE_LABEL in result.reply
    assert [a.label for a in result.attempts] == ["fake:steer", "fake:steer", OFFLINE_LABEL]
    assert result.attempts[0].errors and result.attempts[1].errors


def test_llm_failure_falls_back(ctx):
    llm = _backend()  # no answers at all: the fake raises, the backend gives up
    result = interpret("stop", ctx, llm)
    assert result.fallback_used and [c.action for c in result.commands] == ["stop"]
    assert "LLM unavailable" in result.reply


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "add 20 evaluations and avoid none on every edge",
            [("extend_budget", 20, ""), ("add_heuristic", 0, "avoid none on every edge")],
        ),
        (
            "avoid pooling and add 20 evaluations",
            [("extend_budget", 20, ""), ("avoid", 0, "avoid pooling")],
        ),
        ("add 10 evaluations, then stop", [("extend_budget", 10, ""), ("stop", 0, "")]),
    ],
)
def test_extensions_leave_clean_remainders(ctx, message, expected):
    commands, _ = interpret_offline(message, ctx)
    assert [(c.action, _amount(c), c.text) for c in commands] == expected
