"""Partitioner: the offline rule on NB201, plan validation, LLM plans and fallback."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage

from agentnas.agents.llm import OFFLINE_LABEL, ChatBackend, make_llm
from agentnas.agents.partitioner import (
    PartitionError,
    merge_groups,
    partition_of,
    plan_partitions,
    validate_partitions,
)
from agentnas.agents.schemas import Partition, PartitionerContext
from agentnas.tools.spaces import nb201
from agentnas.tools.spaces.registry import get_space


def nb201_histograms() -> dict[str, dict[str, int]]:
    hists: dict[str, Counter] = {}
    for cell in nb201.all_cells():
        for feat, value in nb201.op_counts(cell).items():
            hists.setdefault(feat, Counter())[str(value)] += 1
    return {f: dict(c) for f, c in hists.items()}


HIST = nb201_histograms()


def ctx(k: int = 6, **kw) -> PartitionerContext:
    return PartitionerContext(
        space="nb201",
        space_description="NB201 cells",
        hardware="hwnasbench:fpga",
        k=k,
        feature_histograms=HIST,
        default_feature="n_nor_conv_3x3",
        **kw,
    )


def fake(*contents: str) -> ChatBackend:
    model = FakeMessagesListChatModel(responses=[AIMessage(content=c) for c in contents])
    return ChatBackend(model, label="fake-llm", backoff_s=0)


def test_nb201_histogram_is_the_known_one():
    counts = [HIST["n_nor_conv_3x3"][str(i)] for i in range(7)]
    assert counts == [4096, 6144, 3840, 1280, 240, 24, 1]


def test_offline_k6_merges_the_two_rarest_counts():
    res = plan_partitions(ctx(6), make_llm("offline"))
    assert [p.size for p in res.partitions] == [4096, 6144, 3840, 1280, 240, 25]
    assert [(p.low, p.high) for p in res.partitions][-1] == (5.0, 6.0)
    assert res.feature == "n_nor_conv_3x3" and not res.fallback_used
    assert res.attempts[0].label == OFFLINE_LABEL and res.attempts[0].prompt == []
    validate_partitions(res.partitions, HIST["n_nor_conv_3x3"], 6)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 7])
def test_offline_plans_cover_the_space(k):
    res = plan_partitions(ctx(k), make_llm("offline"))
    assert len(res.partitions) == k
    assert sum(p.size for p in res.partitions) == 15625
    validate_partitions(res.partitions, HIST["n_nor_conv_3x3"], k)


def test_more_partitions_than_values_gives_one_per_value():
    res = plan_partitions(ctx(9), make_llm("offline"))
    assert len(res.partitions) == 7 and "fewer than the 9" in res.rationale


def test_merge_groups_prefers_smallest_adjacent_pair():
    assert merge_groups([5, 1, 1, 5], 3) == [(0, 0), (1, 2), (3, 3)]


def test_partition_of_every_cell_matches_its_count():
    parts = plan_partitions(ctx(6), make_llm("offline")).partitions
    rng = random.Random(0)
    for cell in rng.sample(list(nb201.all_cells()), 300):
        n = nb201.op_counts(cell)["n_nor_conv_3x3"]
        assert partition_of(nb201.op_counts(cell), parts) == min(n, 5)
    assert partition_of({"other": 1.0}, parts) is None


def P(i, lo, hi):
    return Partition(id=i, feature="n_nor_conv_3x3", low=lo, high=hi, size=0)


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ([P(0, 0, 2), P(1, 2, 6)], "overlap"),
        ([P(0, 0, 2), P(1, 4, 6)], "3 of n_nor_conv_3x3 are in no partition"),
        ([P(0, 0, 6), P(1, 7, 9)], "holds no value"),
        ([P(0, 0, 6)], "expected 2 partitions"),
    ],
)
def test_validate_partitions_says_why(plan, message):
    k = 2 if message != "holds no value" else None
    with pytest.raises(PartitionError, match=message):
        validate_partitions(plan, HIST["n_nor_conv_3x3"], k)


def test_valid_llm_plan_is_used():
    answer = {"feature": "n_nor_conv_1x1", "groups": [[0, 0], [1, 1], [2, 6]], "rationale": "r"}
    res = plan_partitions(ctx(3), fake("Here you go:\n```json\n" + json.dumps(answer) + "\n```"))
    assert not res.fallback_used and res.feature == "n_nor_conv_1x1"
    assert [p.size for p in res.partitions] == [4096, 6144, 15625 - 4096 - 6144]
    assert res.attempts[0].label == "fake-llm" and res.attempts[0].parsed["groups"][2] == [2, 6]


def test_invalid_llm_plan_is_repaired_then_falls_back():
    bad_feature = json.dumps({"feature": "n_widgets", "groups": [[0, 6]]})
    gap = json.dumps({"feature": "n_nor_conv_3x3", "groups": [[0, 1], [3, 3], [4, 6]]})
    res = plan_partitions(ctx(3), fake(bad_feature, gap))
    assert res.fallback_used
    assert "not one of the space's features" in res.attempts[0].errors[0]
    assert "in no partition" in res.attempts[1].errors[0]
    # the repair request carried the first reason back to the model
    assert "n_widgets" in res.attempts[1].prompt[-1]["content"]
    assert res.attempts[-1].label == OFFLINE_LABEL
    assert "fallback to the offline rule" in res.rationale
    assert len(res.partitions) == 3


def test_photonic_space_partitions_from_a_sample():
    space = get_space("photonic-mlp")
    rng = random.Random(0)
    hist: dict[str, Counter] = {}
    for arch in space.sample(rng, 400):
        for feat, v in space.features(arch).items():
            hist.setdefault(feat, Counter())[str(v)] += 1
    c = PartitionerContext(
        space="photonic-mlp",
        space_description="MLP",
        hardware="optical-mzi:realistic",
        k=4,
        feature_histograms={f: dict(h) for f, h in hist.items()},
        default_feature="mzi_count",
        histogram_is_sample=True,
    )
    res = plan_partitions(c, make_llm("offline"))
    assert len(res.partitions) == 4 and sum(p.size for p in res.partitions) == 400
    for arch in space.sample(rng, 50):  # unseen values still land in exactly one partition
        assert partition_of(space.features(arch), res.partitions) in range(4)
