"""The Reflector: offline statistics become parseable rules with evidence; LLM answers are
validated (unknown ids dropped and noted); bad answers fall back, saying so."""

from __future__ import annotations

import json

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage

from agentnas.agents.llm import OFFLINE_LABEL, ChatBackend, make_llm
from agentnas.agents.offline_reflector import ACCURACY_CLIP
from agentnas.agents.reflector import reflect
from agentnas.agents.schemas import HeuristicView, Outcome, ReflectorContext
from agentnas.tools.benchmark_tables import load_nb201
from agentnas.tools.spaces import nb201

T = load_nb201()
OBJ = ["accuracy", "latency_ms"]


def metrics(cell: str) -> dict[str, float]:
    i = nb201.cell_to_index(cell)
    return {
        "accuracy": float(T.acc200["cifar10"][i]),
        "latency_ms": float(T.hwnasbench_latency_ms["eyeriss"][i]),
    }


def outcome(parent_ops: list[str], edge: int, op: str, part: int = 1) -> Outcome:
    parent = nb201.format_cell(parent_ops)
    child_ops = list(parent_ops)
    child_ops[edge] = op
    child = nb201.format_cell(child_ops)
    pm, cm = metrics(parent), metrics(child)
    return Outcome(
        partition=part, child=child, parents=[parent], operator="mutation",
        child_metrics=cm, parent_metrics=[pm], deltas={k: cm[k] - pm[k] for k in OBJ},
    )  # fmt: skip


# edge 3 (3<-0): none -> skip_connect adds a residual; real table values decide the effect
BASES = [
    ["nor_conv_3x3", "none", "nor_conv_1x1", "none", "nor_conv_1x1", "nor_conv_1x1"],
    ["nor_conv_3x3", "nor_conv_1x1", "none", "none", "none", "nor_conv_1x1"],
    ["nor_conv_1x1", "nor_conv_3x3", "nor_conv_1x1", "none", "nor_conv_1x1", "nor_conv_1x1"],
]
RESIDUAL = [outcome(b, 3, "skip_connect") for b in BASES]


def ctx(outcomes, heuristics=(), **kw) -> ReflectorContext:
    return ReflectorContext(
        space="nb201", hardware="hwnasbench:eyeriss", objectives=OBJ, round=4,
        outcomes=list(outcomes), heuristics=list(heuristics), **kw,
    )  # fmt: skip


def test_the_residual_edge_is_measured_to_help():
    # the premise of the next test, checked on the real tables: skip on 3<-0 is free on
    # eyeriss and raises accuracy for these parents
    for o in RESIDUAL:
        assert o.deltas["accuracy"] > 0 and abs(o.deltas["latency_ms"]) < 1e-9


def test_offline_reflection_writes_measured_claims():
    res = reflect(ctx(RESIDUAL), make_llm("offline"))
    assert not res.fallback_used and res.attempts[0].label == OFFLINE_LABEL
    claims = {(h.claim.op, h.claim.instead_of, h.claim.edges, h.claim.objective): h
              for h in res.add}  # fmt: skip
    # none -> skip_connect on 3<-0, canonical as "none instead of skip_connect" (sign flipped)
    acc = claims[("none", "skip_connect", ("3<-0",), "accuracy")]
    assert acc.claim.direction == "down" and acc.claim.effect < 0  # the residual helps
    assert acc.polarity == "negative" and (acc.evidence_for, acc.evidence_against) == (3, 0)
    assert acc.claim.hardware_independent and acc.claim.evidence == 3
    assert acc.claim.devices == ("hwnasbench:eyeriss",)
    # each observation clipped (one disconnection must not dominate a claim)
    want = -sum(min(o.deltas["accuracy"], ACCURACY_CLIP) for o in RESIDUAL) / 3
    assert abs(acc.claim.effect - want) < 1e-9
    assert "accuracy" in acc.text and "3<-0" in acc.text
    # latency did not move: no latency claim is made from nothing
    assert ("none", "skip_connect", ("3<-0",), "latency") not in claims


def test_existing_rules_gain_evidence_and_contradicted_ones_retire():
    good = HeuristicView(
        id="h-good", text="residual helps [rule p1: e3<-0=skip_connect]",
        polarity="positive", evidence_for=1, partition=1,
    )  # fmt: skip
    wrong = HeuristicView(
        id="h-wrong", text="residual hurts [rule p*: e3<-0=skip_connect]",
        polarity="negative", evidence_for=0, evidence_against=1,
    )  # fmt: skip
    free_text = HeuristicView(id="h-llm", text="prefer deep cells", evidence_for=5)
    res = reflect(ctx(RESIDUAL, [good, wrong, free_text]), make_llm("offline"))
    rev = {r.id: r for r in res.revise}
    assert (rev["h-good"].evidence_for_delta, rev["h-good"].evidence_against_delta) == (3, 0)
    assert (rev["h-wrong"].evidence_for_delta, rev["h-wrong"].evidence_against_delta) == (0, 3)
    assert "h-llm" not in rev  # not in the offline template: left alone
    assert res.retire == ["h-wrong"]
    assert all(h.claim is not None for h in res.add)  # NB201: claims, no more tagged rules


def test_max_new_is_respected():
    many = [
        outcome(b, e, op) for b in BASES for e, op in ((3, "skip_connect"), (1, "avg_pool_3x3"))
    ]
    res = reflect(ctx(many, max_new=1, max_new_claims=1), make_llm("offline"))
    assert len(res.add) <= 1


def fake(*contents: str) -> ChatBackend:
    model = FakeMessagesListChatModel(responses=[AIMessage(content=c) for c in contents])
    return ChatBackend(model, label="fake", backoff_s=0)


def test_llm_reflection_drops_unknown_ids():
    known = HeuristicView(id="h1", text="anything")
    reply = {
        "add": [{"text": "avoid avg_pool on 3<-2", "polarity": "negative", "partition": 1}],
        "revise": [{"id": "h1", "evidence_for_delta": 2}, {"id": "ghost", "evidence_for_delta": 1}],
        "retire": ["ghost2"],
    }
    res = reflect(ctx(RESIDUAL, [known]), fake("```json\n" + json.dumps(reply) + "\n```"))
    assert not res.fallback_used
    assert [h.text for h in res.add] == ["avoid avg_pool on 3<-2"]
    assert [r.id for r in res.revise] == ["h1"] and res.retire == []
    errors = res.attempts[0].errors
    assert any("'ghost'" in e for e in errors) and any("'ghost2'" in e for e in errors)
    assert "partition 1" in res.attempts[0].prompt[-1]["content"]


def test_llm_garbage_falls_back_to_statistics():
    res = reflect(ctx(RESIDUAL), fake("I'm sorry, I can't do that.", "still no json"))
    assert res.fallback_used
    assert "refusal" in res.attempts[0].errors[0]
    assert "refusal" in res.attempts[1].prompt[-1]["content"]  # the reason went back
    assert (
        res.attempts[-1].label == OFFLINE_LABEL and "fallback" in res.attempts[-1].answer["content"]
    )
    assert any(h.claim.edges == ("3<-0",) and h.claim.op == "none" for h in res.add)
