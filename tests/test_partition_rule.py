"""One membership rule for partitions: the range holding the value, else the nearest range
(the lower one on a tie). The seeder's bookkeeping, the Designers' validation and the
offline policy all answer the same for a value that falls in a gap of a sampled plan."""

from __future__ import annotations

import pytest

from agentnas.agents.offline_policy import _inside
from agentnas.agents.schemas import ChildAnswer, DesignerContext, Partition, partition_of
from agentnas.agents.validation import validate_children

PLAN = [
    Partition(id=0, feature="width", low=0, high=1, size=3),
    Partition(id=1, feature="width", low=4, high=6, size=3),
    Partition(id=2, feature="width", low=9, high=9, size=1),
]


class WidthSpace:
    """Cells are their width as text; the only feature is that width."""

    def validate(self, arch: str) -> str:
        return str(int(arch))

    def features(self, arch: str) -> dict[str, float]:
        return {"width": float(arch)}

    def canonical(self, arch: str) -> str:
        return arch


@pytest.mark.parametrize(
    ("width", "home"),
    [(0, 0), (1, 0), (2, 0), (2.5, 0), (3, 1), (4, 1), (7, 1), (7.5, 1), (8, 2), (12, 2), (-5, 0)],
)
def test_every_value_has_exactly_one_home(width, home):
    feats = {"width": width}
    assert partition_of(feats, PLAN) == home
    assert [p.id for p in PLAN if p.contains(feats, PLAN)] == [home]


def test_without_the_feature_or_the_plan_a_cell_has_no_home():
    assert partition_of({"depth": 1}, PLAN) is None
    assert partition_of({"width": 1}, []) is None
    assert not PLAN[0].contains({"depth": 1}, PLAN)
    assert not PLAN[0].contains({"width": 2})  # no plan: only the range itself is known


def test_validation_and_offline_policy_follow_the_same_rule():
    space = WidthSpace()
    ctx = DesignerContext(
        space="width", hardware="none", objectives=["accuracy", "latency_ms"], round=1,
        partition=PLAN[1], plan=PLAN, parents=[], n_children=3,
    )  # fmt: skip
    children = [ChildAnswer(arch=a) for a in ("2", "3", "7", "8")]
    accepted, errors = validate_children(
        children, space=space, partition=PLAN[1], evaluated=[], dedupe_isomorphic=False,
        operator="mutation", heuristics_used=[], known_heuristics=set(), limit=4, plan=PLAN,
    )  # fmt: skip
    assert [p.arch for p in accepted] == ["3", "7"]
    assert len(errors) == 2 and all("outside partition 1" in e for e in errors)
    assert [a for a in ("2", "3", "7", "8") if _inside(space, ctx, a)] == ["3", "7"]
