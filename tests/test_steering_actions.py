"""Typed steering actions: the offline parser maps ordinary phrasings and slash forms to
them (units understood), validation against the run refuses what cannot be applied
(impossible constraints answered with the best achievable value), questions and small
talk change nothing, and the hard rules bind every Designer."""

from __future__ import annotations

import random

import pytest

from agentnas.agents.hard_rules import Constraint, OpRule, RuleJudge, status_of
from agentnas.agents.llm import make_llm
from agentnas.agents.offline_policy import design_offline
from agentnas.agents.schemas import ChildAnswer, DesignerContext, Partition, ScoredArch
from agentnas.agents.steering import (
    SteerContext,
    SteerPartition,
    changes_run,
    interpret,
    interpret_offline,
)
from agentnas.agents.steering_commands import Achievable, check_commands
from agentnas.agents.validation import validate_children
from agentnas.graph.steering import apply_commands
from agentnas.tools.hardware.registry import get_backend
from agentnas.tools.spaces.nb201 import OPS, all_cells, parse_cell
from agentnas.tools.spaces.registry import get_space

RANGES = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 6)]
OUTPUT = ["3<-0", "3<-1", "3<-2"]


@pytest.fixture
def ctx() -> SteerContext:
    return SteerContext(
        round=1,
        space="nb201",
        hardware="hwnasbench:fpga",
        objectives=["accuracy", "latency_ms"],
        partitions=[
            SteerPartition(id=i, feature="n_nor_conv_3x3", low=lo, high=hi, size=10)
            for i, (lo, hi) in enumerate(RANGES)
        ],
        budget=60,
        rounds=6,
        evaluations=18,
        heuristic_ids=["h1234567890", "habcdef0000"],
        metrics={
            "accuracy": Achievable(low=10.0, high=94.37, known="space"),
            "latency_ms": Achievable(low=0.85, high=9.5, known="space"),
            "energy_mj": Achievable(low=2.0, high=40.0, known="seen"),
        },
        operations=list(OPS),
        edges=["1<-0", "2<-0", "2<-1", *OUTPUT],
        output_edges=OUTPUT,
    )


def only(message: str, ctx: SteerContext):
    commands, notes = interpret_offline(message, ctx)
    assert len(commands) == 1, (message, commands, notes)
    return commands[0]


@pytest.mark.parametrize(
    ("message", "metric", "op", "value"),
    [
        ("keep latency under 3 ms", "latency_ms", "<", 3.0),
        ("latency under 3 ms", "latency_ms", "<", 3.0),
        ("latency_ms < 3", "latency_ms", "<", 3.0),
        ("latency must be at most 2500 us", "latency_ms", "<=", 2.5),
        ("keep it below 0.004 s", "latency_ms", "<", 4.0),
        ("energy below 5 mJ", "energy_mj", "<", 5.0),
        ("energy_mj <= 5", "energy_mj", "<=", 5.0),
        ("energy at most 0.005 J", "energy_mj", "<=", 5.0),
        ("accuracy >= 93", "accuracy", ">=", 93.0),
        ("accuracy at least 93%", "accuracy", ">=", 93.0),
        ("accuracy above 0.9", "accuracy", ">", 90.0),
        ("/constraint latency < 3", "latency_ms", "<", 3.0),
        ("/constraint energy <= 5 mJ", "energy_mj", "<=", 5.0),
    ],
)
def test_constraint_phrases_and_units(ctx, message, metric, op, value):
    c = only(message, ctx)
    assert (c.action, c.metric, c.op) == ("constrain", metric, op)
    assert c.value == pytest.approx(value)


@pytest.mark.parametrize(
    ("message", "metric"),
    [("clear the latency constraint", "latency_ms"), ("remove all constraints", None),
     ("/constraint clear", None), ("/constraint clear energy", "energy_mj")],
)  # fmt: skip
def test_clear_constraint(ctx, message, metric):
    c = only(message, ctx)
    assert (c.action, c.metric) == ("clear_constraint", metric)


@pytest.mark.parametrize(
    ("message", "action", "op", "edges"),
    [
        ("avoid avg_pool_3x3 near the output", "avoid", "avg_pool_3x3", OUTPUT),
        ("no avg pools near the output", "avoid", "avg_pool_3x3", OUTPUT),
        ("don't use skip connections", "avoid", "skip_connect", []),
        ("avoid none on edge 3<-0", "avoid", "none", ["3<-0"]),
        ("prefer nor_conv_3x3 on edge 3<-2", "prefer", "nor_conv_3x3", ["3<-2"]),
        ("prefer 3x3 convs in the last edge", "prefer", "nor_conv_3x3", ["3<-2"]),
        ("/avoid avg_pool_3x3 near the output", "avoid", "avg_pool_3x3", OUTPUT),
        ("/prefer nor_conv_1x1 3<-1", "prefer", "nor_conv_1x1", ["3<-1"]),
    ],
)
def test_operation_rules(ctx, message, action, op, edges):
    c = only(message, ctx)
    assert (c.action, c.op, c.edges) == (action, op, edges)


@pytest.mark.parametrize(
    ("message", "action", "partitions"),
    [("freeze p3", "freeze", [3]), ("freeze partitions 4 and 5", "freeze", [4, 5]),
     ("unfreeze p3", "unfreeze", [3]), ("/unfreeze", "unfreeze", []),
     ("/focus p1 p2", "focus", [1, 2]), ("/focus all", "focus", [])],
)  # fmt: skip
def test_partition_actions(ctx, message, action, partitions):
    c = only(message, ctx)
    assert (c.action, c.partitions) == (action, partitions)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("/budget +50", {"action": "extend_budget", "amount": 50}),
        ("/budget 100", {"action": "extend_budget", "amount": 40}),
        ("/rounds +2", {"action": "extend_rounds", "amount": 2}),
        ("2 more rounds", {"action": "extend_rounds", "amount": 2}),
        ("+50 evaluations", {"action": "extend_budget", "amount": 50}),
        ("pause", {"action": "pause"}),
        ("/pause", {"action": "pause"}),
        ("resume", {"action": "resume"}),
        ("/stop", {"action": "stop"}),
        ("/heuristic rm h1234", {"action": "retire_heuristic", "id": "h1234567890"}),
        ("/heuristic edit habc keep it short", {"action": "edit_heuristic", "id": "habcdef0000"}),
    ],
)
def test_limits_run_control_and_heuristics(ctx, message, expected):
    got = only(message, ctx).model_dump()
    assert {k: got[k] for k in expected} == expected


QUESTIONS = [
    "why was |nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|none~2| chosen?",
    "why is partition 5 so slow?",
    "why was f1 chosen",
    "what happened in round 2?",
    "what limits p3?",
    "which cell is the best?",
    "how did you pick f2?",
    "explain round 1",
    "tell me about partition 0",
    "show me the lineage of f3",
    "is partition 4 done?",
    "why so few cells in p2?",
    "what is the fastest cell?",
    "who designed f1?",
    "does p1 hold the front?",
    "did round 3 help?",
    "/why f1",
    "/why p2",
    "/why r1",
    "can you tell me why p5 is slow?",
]
NON_ACTIONS = [
    "hello", "hi there", "thanks!", "thank you", "lol", "cool", "nice work", "good job",
    "hmm", "ok thanks", "ad 50 evls", "focsu on teh cheap ones", "lantecy undr 3",
    "asdfgh", "the weather is nice", "blorp", "??", "/frobnicate", "/constraint banana",
    "why",
]  # fmt: skip


@pytest.mark.parametrize("message", QUESTIONS)
def test_questions_are_typed_questions_that_change_nothing(ctx, message):
    c = only(message, ctx)
    assert c.action == "question" and not changes_run([c])
    if "p5" in message or "partition 5" in message:
        assert c.target == "p5"
    if "f1" in message:
        assert c.target == "f1"


def test_question_targets(ctx):
    assert only(QUESTIONS[0], ctx).target == QUESTIONS[0].split()[2]
    assert only("what happened in round 2?", ctx).target == "r2"


@pytest.mark.parametrize("message", NON_ACTIONS)
def test_small_talk_and_typos_change_nothing(ctx, message):
    commands, notes = interpret_offline(message, ctx)
    assert not changes_run(commands), commands
    if not commands:
        assert notes  # never silent: "not understood" with forms, or a friendly reply


def test_not_understood_lists_the_closest_forms(ctx):
    commands, notes = interpret_offline("ad 50 evaluations", ctx)
    assert commands == [] and "'add 50 evaluations'" in notes[0]
    commands, notes = interpret_offline("/constraint banana", ctx)
    assert commands == [] and "usage: /constraint" in notes[0]


def test_impossible_constraint_is_answered_with_the_best_value_and_not_applied(ctx):
    result = interpret("keep latency under 0.5 ms", ctx, make_llm("offline"))
    assert result.commands == []
    assert "the lowest is 0.85 ms" in result.reply and "not applied" in result.reply
    result = interpret("accuracy at least 99", ctx, make_llm("offline"))
    assert result.commands == [] and "the highest is 94.37 %" in result.reply
    seen = interpret("energy below 1 mJ", ctx, make_llm("offline"))  # range known from cells seen
    assert seen.commands == [] and "cell evaluated so far" in seen.reply


def test_bad_actions_are_refused_with_a_reason(ctx):
    for message, why in [
        ("freeze p9", "do not exist"),
        ("/avoid max_pool near the output", "no operation 'max_pool'"),
        ("avoid max_pool near the output", "no operation 'max_pool'"),
        ("/heuristic rm nosuch", "no heuristic"),
        ("mzi count below 3", "no metric"),
        ("freeze partitions 0-5", "would stop the search"),
    ]:
        result = interpret(message, ctx, make_llm("offline"))
        assert result.commands == [] and why in result.reply, (message, result.reply)


# ---------------------------------------------------------------- applied to the state


def _state(**extra):
    return {"round": 1, "limits": {"budget": 60, "rounds": 6}, **extra}


def test_apply_keeps_one_constraint_per_metric_and_rules_and_freeze(ctx):
    actions = [
        only("latency under 4 ms", ctx),
        only("latency under 3 ms", ctx),
        only("energy below 5 mJ", ctx),
        only("no avg pools near the output", ctx),
        only("freeze p5", ctx),
        only("pause", ctx),
    ]
    updates, kb = apply_commands(_state(), actions, 6, SPACE)
    assert updates["constraints"] == [
        {"metric": "latency_ms", "op": "<", "value": 3.0},
        {"metric": "energy_mj", "op": "<", "value": 5.0},
    ]
    assert updates["rules"] == [{"kind": "avoid", "op": "avg_pool_3x3", "edges": OUTPUT}]
    assert updates["frozen"] == [5] and updates["paused"] is True
    assert updates["rules_round"] == 2
    assert [(h.polarity, "avg_pool_3x3" in h.text) for h in kb.add] == [("negative", True)]
    cleared, _ = apply_commands(
        {**_state(), **updates},
        [only("clear the latency constraint", ctx), only("resume", ctx)],
        6,
        SPACE,
    )
    assert [c["metric"] for c in cleared["constraints"]] == ["energy_mj"]
    assert cleared["paused"] is False


# ---------------------------------------------------------------- the Designer is bound

SPACE = get_space("nb201")
FPGA = get_backend("hwnasbench:fpga")


def _lookup(arch: str) -> dict[str, float]:
    return dict(FPGA.evaluate(arch))


def _history(n: int) -> list[ScoredArch]:
    rng = random.Random(0)
    cells = rng.sample(list(all_cells()), n)
    return [ScoredArch(arch=a, metrics={"accuracy": 90.0, **_lookup(a)}) for a in cells]


@pytest.mark.parametrize("with_lookup", [True, False])
def test_offline_designer_proposes_no_child_breaking_a_constraint(with_lookup):
    history = _history(60)
    part = Partition(id=1, feature="n_nor_conv_3x3", low=1, high=1, size=4000)
    bound = Constraint(metric="latency_ms", op="<", value=3.0)
    ctx = DesignerContext(
        space="nb201", hardware="hwnasbench:fpga", objectives=["accuracy", "latency_ms"],
        round=1, partition=part, parents=history[:5], history=history, n_children=8,
        evaluated=[h.arch for h in history], constraints=[bound],
        rules=[OpRule(kind="avoid", op="avg_pool_3x3", edges=OUTPUT)],
    )  # fmt: skip
    children, summary = design_offline(ctx, SPACE, _lookup if with_lookup else None)
    assert children and "refused by the user's rules" in summary["content"]
    lat = [_lookup(c.arch)["latency_ms"] for c in children]
    ok = sum(v < 3.0 for v in lat)
    # known (table lookup): all of them; predicted (additive model on 60 cells): nearly all
    assert ok == len(lat) if with_lookup else ok >= len(lat) - 1
    for c in children:
        ops = parse_cell(c.arch)
        assert "avg_pool_3x3" not in (ops[3], ops[4], ops[5])


def test_llm_children_breaking_the_rules_are_refused_with_reasons():
    judge = RuleJudge(
        SPACE,
        [Constraint(metric="latency_ms", op="<", value=3.0)],
        [OpRule(kind="avoid", op="skip_connect", edges=["3<-0"])],
        lookup=_lookup,
    )
    slow = (
        "|" + "|+|".join("|".join(f"nor_conv_3x3~{j}" for j in range(i)) for i in (1, 2, 3)) + "|"
    )
    skip = "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    fine = "|none~0|+|none~0|none~1|+|nor_conv_1x1~0|none~1|none~2|"
    part = Partition(id=0, feature="n_nor_conv_3x3", low=0, high=6, size=15625)
    accepted, errors = validate_children(
        [ChildAnswer(arch=a) for a in (slow, skip, fine)], space=SPACE, partition=part,
        evaluated=[], dedupe_isomorphic=False, operator="mutation", heuristics_used=[],
        known_heuristics=set(), limit=3, judge=judge,
    )  # fmt: skip
    assert [p.arch for p in accepted] == [fine]
    assert "breaks the constraint latency_ms < 3 ms: known latency_ms=" in errors[0]
    assert "breaks the user's rule 'avoid skip_connect on edges 3<-0'" in errors[1]


def test_status_of_an_evaluated_cell():
    bound = [Constraint(metric="latency_ms", op="<", value=3.0)]
    assert status_of({"latency_ms": 2.0}, bound) == "ok"
    assert status_of({"latency_ms": 3.0}, bound) == "constraint"
    assert status_of({"accuracy": 90.0}, bound) == "ok"  # a metric it does not carry


# ---------------------------------------------------------------- the LLM path


def _backend(*answers: str):
    from langchain_core.language_models import FakeMessagesListChatModel
    from langchain_core.messages import AIMessage

    from agentnas.agents.llm import ChatBackend

    fake = FakeMessagesListChatModel(responses=[AIMessage(content=a) for a in answers])
    return ChatBackend(fake, label="fake:steer", backoff_s=0, max_retries=0)


def test_llm_actions_go_through_the_same_validation(ctx):
    llm = _backend(
        '{"commands": [{"action": "constrain", "metric": "latency_ms", "op": "<", "value": 3},'
        ' {"action": "avoid", "op": "avg_pool_3x3", "edges": ["3<-0", "3<-1", "3<-2"]}],'
        ' "reply": "Latency capped, no pooling at the output."}'
    )
    result = interpret("keep it fast and no pooling at the end", ctx, llm)
    assert [c.action for c in result.commands] == ["constrain", "avoid"]
    assert result.reply == "Latency capped, no pooling at the output."
    # an impossible constraint is the user's wish, not the model's error: no repair, refused
    llm = _backend('{"commands": [{"action": "constrain", "metric": "latency_ms", "op": "<",'
                   ' "value": 0.1}], "reply": "ok"}')  # fmt: skip
    result = interpret("latency under 0.1 ms", ctx, llm)
    assert result.commands == [] and len(result.attempts) == 1
    assert "the lowest is 0.85 ms" in result.reply
    # an operation the space does not have is the model's error: sent back once
    llm = _backend(
        '{"commands": [{"action": "avoid", "op": "max_pool", "edges": []}]}',
        '{"commands": [{"action": "avoid", "op": "avg_pool_3x3", "edges": []}]}',
    )
    result = interpret("no pooling", ctx, llm)
    assert [c.op for c in result.commands] == ["avg_pool_3x3"] and len(result.attempts) == 2
    assert "no operation 'max_pool'" in result.attempts[0].errors[0]


def test_llm_with_no_action_says_not_understood_and_changes_nothing(ctx):
    result = interpret("bananas", ctx, _backend('{"commands": [], "reply": "Sorry?"}'))
    assert result.commands == [] and "not understood" in result.reply


def test_focus_on_a_partition_with_no_cell_left_says_so(ctx):
    full = ctx.model_copy(update={"full_partitions": [5]})
    result = interpret("focus on p5", full, make_llm("offline"))
    assert [c.action for c in result.commands] == ["focus"]
    assert "p5 has no cell left to propose" in result.reply


# ---------------------------------------------------------------- rules on photonic-mlp


@pytest.fixture
def photonic_ctx() -> SteerContext:
    from agentnas.commands.steer_context import _vocab

    return SteerContext(
        round=1, space="photonic-mlp", hardware="optical-mzi:realistic",
        objectives=["accuracy", "energy_mj"], budget=20, rounds=2, evaluations=8,
        **_vocab(get_space("photonic-mlp")),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("message", "kind", "op", "edges"),
    [
        ("avoid tanh", "avoid", "tanh", []),
        ("no tanh activations", "avoid", "tanh", []),
        ("prefer the reck mesh", "prefer", "reck", []),
        ("no width 128 layers near the output", "avoid", "width 128", ["h3"]),
        ("/avoid tanh", "avoid", "tanh", []),
        ("prefer clements", "prefer", "clements", []),
        ("avoid width 128 near the output", "avoid", "width 128", ["h3"]),
        ("avoid width 16 near the input", "avoid", "width 16", ["h1"]),
    ],
)
def test_avoid_prefer_on_photonic_name_its_vocabulary(photonic_ctx, message, kind, op, edges):
    c = only(message, photonic_ctx)
    assert (c.action, c.op, c.edges) == (kind, op, edges)
    assert not check_commands([c], photonic_ctx)


def test_a_rule_naming_what_the_space_lacks_is_refused_with_what_it_offers(photonic_ctx):
    result = interpret("avoid avg_pool_3x3 near the output", photonic_ctx, make_llm("offline"))
    assert not result.commands
    assert "no operation 'avg_pool_3x3' in photonic-mlp" in result.reply
    assert "tanh" in result.reply and "width 128" in result.reply
    bare = photonic_ctx.model_copy(update={"operations": [], "edges": []})
    errors = check_commands([only("/avoid tanh", photonic_ctx)], bare)
    assert errors and "/heuristic add avoid" in errors[0]


def test_offline_designer_keeps_avoid_and_prefer_rules_on_photonic():
    space = get_space("photonic-mlp")
    rng = random.Random(0)
    archs = sorted(set(space.sample(rng, 40)))
    parents = [
        ScoredArch(arch=a, partition=0, metrics={
            "accuracy": 80 + space.features(a)["width_sum"] / 20,
            "energy_mj": space.features(a)["mzi_count"] / 1e4,
        })
        for a in archs
    ]  # fmt: skip
    part = Partition(id=0, feature="depth", low=1, high=3, size=space.size)
    rules = [OpRule(kind="avoid", op="tanh"), OpRule(kind="prefer", op="clements")]
    ctx = DesignerContext(
        space="photonic-mlp", hardware="optical-mzi:realistic",
        objectives=["accuracy", "energy_mj"], round=1, partition=part, parents=parents[:8],
        history=parents, n_children=6, evaluated=archs, seed=3, rules=rules,
    )  # fmt: skip
    children, _ = design_offline(ctx, space, None)
    assert len(children) == 6
    for c in children:
        slots = dict(zip(space.vocabulary().slots, space.slot_ops(c.arch), strict=True))
        assert slots["act"] != "tanh" and slots["mesh"] == "clements", c.arch
    # and the rules are what refuses the others
    judge = RuleJudge(space, rules=rules)
    assert judge.why("mlp:h=32|act=tanh|mesh=clements|k=8|bits=8|nat=0")
    assert judge.why("mlp:h=32|act=relu|mesh=reck|k=8|bits=8|nat=0")
    assert judge.why("mlp:h=32|act=relu|mesh=clements|k=8|bits=8|nat=0") is None


@pytest.mark.parametrize(
    ("message", "polarity", "tag"),
    [
        ("prefer nor_conv_3x3 on edge 3<-2 where possible", "positive",
         "[rule p*: e3<-2=nor_conv_3x3]"),
        ("ideally avoid avg_pool_3x3 near the output", "negative", ""),
        ("prefer skip_connect if possible", "positive", ""),
    ],
)  # fmt: skip
def test_a_soft_prefer_or_avoid_is_a_user_heuristic_not_a_hard_rule(ctx, message, polarity, tag):
    c = only(message, ctx)
    assert c.action == "add_heuristic" and c.polarity == polarity
    assert c.text.endswith(tag) and message in c.text
    updates, kb = apply_commands({"limits": {"budget": 60, "rounds": 6}}, [c], 6, SPACE)
    assert updates["rules"] == [] and len(kb.add) == 1  # nothing binds the Designers


def test_without_a_soft_word_the_rule_stays_hard(ctx):
    assert only("prefer nor_conv_3x3 on edge 3<-2", ctx).action == "prefer"


def test_traced_steering_becomes_a_script_of_one_line_per_pause():
    from agentnas.graph.steering import script_actions, script_from_steers

    c = {"action": "constrain", "metric": "latency_ms", "op": "<", "value": 3.0}
    a = {"action": "avoid", "op": "avg_pool_3x3", "edges": ["3<-2"]}
    script = script_from_steers(
        [{"round": 0, "command": c}, {"round": 2, "command": a}, {"round": 2, "command": c}]
    )
    lines = script.splitlines()
    assert lines[1] == "continue" and len(lines) == 3
    assert [x.action for x in script_actions(lines[0])] == ["constrain"]
    assert [x.action for x in script_actions(lines[2])] == ["avoid", "constrain"]
    assert script_from_steers([]) == ""
    for not_actions in ("continue", "keep latency under 3 ms", "[1, 2]", "{oops"):
        assert script_actions(not_actions) is None
