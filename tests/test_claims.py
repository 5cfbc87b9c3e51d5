"""Structured claims: words become claims the offline Designer acts on; contradicting
evidence revises a claim instead of adding its opposite; claims learnt on one device
change the first round on another; bad knowledge-base input is refused untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_designer import OFFLINE, SPACE, context

from agentnas.agents import claim_use as cu
from agentnas.agents.designer import design
from agentnas.agents.schemas import HeuristicView, NewHeuristic, ReflectionResult
from agentnas.cli import main
from agentnas.graph.config import RunConfig
from agentnas.graph.knowledge import apply_reflection, load_heuristics, transfers
from agentnas.graph.runner import start_run
from agentnas.memory.claim import Claim, claim_for_text, claim_id, pool
from agentnas.memory.heuristic import Heuristic, Scope
from agentnas.memory.knowledge_base import KnowledgeBase
from agentnas.tools.spaces import nb201

AVOID = "avoid avg_pool_3x3 on the edges into the output node"
INTO_OUTPUT = (3, 4, 5)  # 3<-0, 3<-1, 3<-2


def test_words_become_a_claim():
    c = claim_for_text("nb201", AVOID, "positive", "user")
    assert c is not None
    assert (c.op, c.edges, c.objective, c.direction) == (
        "avg_pool_3x3", ("3<-0", "3<-1", "3<-2"), "any", "down",
    )  # fmt: skip
    swap = claim_for_text("nb201", "replace skip with nor_conv_3x3 on 1<-0: raises accuracy",
                          "positive", "user")  # fmt: skip
    assert (swap.op, swap.instead_of, swap.edges, swap.objective, swap.direction) == (
        "nor_conv_3x3", "skip_connect", ("1<-0",), "accuracy", "up",
    )  # fmt: skip
    assert swap.hardware_independent  # accuracy travels; latency does not
    slow = claim_for_text("nb201", "nor_conv_3x3 is slower", "positive", "user")
    assert slow.objective == "latency" and slow.direction == "up"
    assert not slow.hardware_independent
    assert claim_for_text("nb201", "prefer deep cells", "positive", "user") is None
    assert claim_for_text("photonic-mlp", AVOID, "positive", "user") is None


def _pooled_into_output(children) -> int:
    return sum(nb201.parse_cell(c.arch)[e] == "avg_pool_3x3" for c in children for e in INTO_OUTPUT)


@pytest.mark.parametrize("part_id", [1, 2])
def test_a_users_words_change_what_the_offline_designer_proposes(part_id):
    ctx = context(part_id=part_id, n_children=6)
    plain = design(ctx, OFFLINE, SPACE).children
    words = HeuristicView(id="u1", text=AVOID, polarity="negative")  # words only, no claim
    steered = design(ctx.model_copy(update={"heuristics": [words]}), OFFLINE, SPACE).children
    assert _pooled_into_output(plain) > 0  # the premise: without the rule, it pools there
    assert _pooled_into_output(steered) < _pooled_into_output(plain)


def _obs(direction: str, effect: float, n: int, device: str) -> NewHeuristic:
    c = Claim(op="avg_pool_3x3", instead_of="skip_connect", edges=("3<-2",),
              objective="accuracy", direction=direction, effect=effect, evidence=n,
              devices=(device,), source="reflector", hardware_independent=True)  # fmt: skip
    up = direction == "up"
    return NewHeuristic(text=f"obs {effect}", claim=c, polarity="positive" if up else "negative",
                        evidence_for=n, evidence_against=0)  # fmt: skip


class _Store:
    """The KB's write used by apply_reflection, kept in memory."""

    def __init__(self) -> None:
        self.rows: dict[str, dict] = {}

    def import_(self, records):
        for r in records:
            self.rows[r["id"]] = r
        return len(records)


def test_contradicting_evidence_revises_instead_of_duplicating():
    kb = _Store()
    one = ReflectionResult(add=[_obs("up", 0.6, 3, "hwnasbench:eyeriss")])
    snap, ch1 = apply_reflection(kb, [], one, "nb201", "hwnasbench:eyeriss", 1, "reflector")
    assert [c["action"] for c in ch1] == ["add"] and len(snap) == 1
    first = Heuristic.model_validate(snap[0])
    assert first.polarity == "positive" and first.claim.direction == "up"
    # the same claim, measured the other way on another device, with more evidence
    two = ReflectionResult(add=[_obs("down", -0.9, 5, "hwnasbench:fpga")])
    snap, ch2 = apply_reflection(kb, snap, two, "nb201", "hwnasbench:fpga", 2, "reflector")
    assert [c["action"] for c in ch2] == ["merge"] and len(snap) == 1 and len(kb.rows) == 1
    h = Heuristic.model_validate(snap[0])
    assert h.id == first.id  # hardware-independent: one id on every device
    assert h.claim.evidence == 8 and h.claim.direction == "down"
    assert abs(h.claim.effect - (0.6 * 3 - 0.9 * 5) / 8) < 1e-12
    assert (h.evidence_for, h.evidence_against) == (5, 3) and h.polarity == "negative"
    assert h.claim.devices == ("hwnasbench:eyeriss", "hwnasbench:fpga")
    assert "lowered accuracy" in h.text


def test_pool_refuses_different_claims_and_ids_ignore_hardware_for_accuracy():
    a = _obs("up", 1.0, 1, "x").claim
    b = a.model_copy(update={"edges": ("3<-1",)})
    with pytest.raises(ValueError):
        pool(a, b)
    assert claim_id("nb201", "hwnasbench:fpga", None, a) == claim_id("nb201", "e", None, a)
    lat = a.model_copy(update={"objective": "latency", "hardware_independent": False})
    assert claim_id("nb201", "hwnasbench:fpga", None, lat) != claim_id("nb201", "e", None, lat)


def test_latency_claims_stay_on_their_device_even_when_rescoped():
    lat = Claim(op="nor_conv_3x3", instead_of="none", objective="latency", direction="up",
                effect=2.0, evidence=4, devices=("hwnasbench:fpga",))  # fmt: skip
    h = Heuristic(id="c1", text="t", claim=lat,
                  scope=Scope(space="nb201", hardware="hwnasbench:eyeriss"))  # fmt: skip
    assert not transfers(h, "hwnasbench:eyeriss") and transfers(h, "hwnasbench:fpga")
    acc = lat.model_copy(update={"objective": "accuracy", "hardware_independent": True})
    assert transfers(h.model_copy(update={"claim": acc}), "hwnasbench:pixel3")


def test_measured_claims_become_priors_weighted_by_evidence():
    def view(effect, n):
        c = Claim(op="nor_conv_3x3", instead_of="none", edges=("1<-0",), objective="accuracy",
                  direction="up" if effect > 0 else "down", effect=effect, evidence=n)  # fmt: skip
        return HeuristicView(id=f"c{n}", text="x", claim=c)

    v, ev = cu.op_priors([view(2.0, 10), view(-2.0, 1)], "accuracy", SPACE.vocabulary())
    e, conv, none = 0, nb201.OPS.index("nor_conv_3x3"), nb201.OPS.index("none")
    assert v[e, conv] - v[e, none] > 1.0  # the better-evidenced claim wins
    assert ev[e, conv] == 11 and ev[1].sum() == 0
    assert cu.op_priors([view(2.0, 10)], "latency_ms", SPACE.vocabulary()) is None


def _round1_children(run_dir: Path) -> list[str]:
    import csv

    with (run_dir / "candidates.csv").open() as fh:
        return sorted(r["arch"] for r in csv.DictReader(fh) if r["round"] == "1")


def test_an_imported_kb_from_another_device_changes_the_first_round(tmp_path: Path, capsys):
    learn = RunConfig(hardware="hwnasbench:eyeriss", budget=40, rounds=3, seed=1)
    start_run(learn, tmp_path / "eyeriss")
    export = tmp_path / "kb.json"
    assert (
        main(["kb", "--kb", str(tmp_path / "eyeriss" / "kb"), "export", "--out", str(export)]) == 0
    )
    assert main(["kb", "--kb", str(tmp_path / "moved"), "import", str(export)]) == 0
    capsys.readouterr()
    with KnowledgeBase(tmp_path / "moved", create=False) as kb:
        carried = load_heuristics(kb, "nb201", "hwnasbench:fpga")
        everything = kb.list()
    # accuracy claims travel, eyeriss latency claims do not; imported ones say so
    assert carried and all(r["claim"]["hardware_independent"] for r in carried)
    assert any(h.claim and h.claim.objective == "latency" for h in everything)
    assert all(r["claim"]["source"] == "imported" for r in carried)

    def fpga(kb_dir: Path | None, out: str) -> list[str]:
        cfg = RunConfig(hardware="hwnasbench:fpga", budget=24, rounds=1, seed=0,
                        kb_dir=str(kb_dir) if kb_dir else None)  # fmt: skip
        start_run(cfg, tmp_path / out)
        return _round1_children(tmp_path / out)

    cold, warm = fpga(None, "cold"), fpga(tmp_path / "moved", "warm")
    assert len(cold) == len(warm) == 16  # 24 less 8 seeds (a third of the budget)
    assert cold != warm


def test_a_kb_of_another_space_is_refused_untouched(tmp_path: Path, capsys):
    kb = tmp_path / "kb"
    with KnowledgeBase(kb) as base:
        base.add(
            "deeper meshes lose accuracy",
            Scope(space="photonic-mlp", hardware="optical-mzi:realistic"),
        )
    before = sorted((p.name, p.stat().st_size) for p in kb.rglob("*") if p.is_file())
    code = main(["run", "--hardware", "hwnasbench:fpga", "--budget", "20",
                 "--kb", str(kb), "--out", str(tmp_path / "run")])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and "photonic-mlp" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()
    assert sorted((p.name, p.stat().st_size) for p in kb.rglob("*") if p.is_file()) == before


def test_an_export_with_bad_claim_fields_is_refused_untouched(tmp_path: Path, capsys):
    kb = tmp_path / "kb"
    with KnowledgeBase(kb) as base:
        base.add(AVOID, Scope(space="nb201", hardware="hwnasbench:fpga"))
        records = base.export()
    bad = [{**records[0], "id": "other", "claim": {**records[0]["claim"], "direction": "sideways"}}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    assert main(["kb", "--kb", str(kb), "import", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "direction" in err and len(err.splitlines()) == 1
    with KnowledgeBase(kb, create=False) as base:
        assert [h.id for h in base.list()] == [records[0]["id"]]
        assert base.get(records[0]["id"]).claim.op == "avg_pool_3x3"


def test_front_patterns_are_claims_about_edges_and_steer_the_designer():
    from agentnas.agents.offline_reflector import front_patterns
    from agentnas.agents.schemas import ReflectorContext, ScoredArch

    base = ["nor_conv_3x3", "nor_conv_1x1", "nor_conv_1x1", "skip_connect", "nor_conv_1x1",
            "nor_conv_1x1"]  # fmt: skip
    cells = []
    for e in (1, 2, 4):  # three front cells of partition 1, all with skip on 3<-0
        ops = list(base)
        ops[e] = "skip_connect"
        cells.append(ScoredArch(arch=nb201.format_cell(ops), metrics={}, partition=1))
    ctx = ReflectorContext(space="nb201", hardware="hwnasbench:eyeriss", objectives=["accuracy"],
                           round=2, outcomes=[], front=cells, dataset="cifar10")  # fmt: skip
    found = {(h.claim.op, h.claim.edges[0]): h for h in front_patterns(ctx, SPACE)}
    skip = found[("skip_connect", "3<-0")]
    assert skip.partition == 1 and skip.claim.effect == 1.0 and skip.claim.evidence == 3
    assert skip.claim.hardware_independent and skip.claim.objective == "front"
    assert found[("nor_conv_1x1", "2<-0")].claim.effect == pytest.approx(2 / 3)
    # the Designer of partition 1 leans towards the pattern; another partition's does not
    views = [HeuristicView(id=f"f{i}", text=h.text, partition=h.partition, claim=h.claim,
                           evidence_for=h.evidence_for, evidence_against=h.evidence_against)
             for i, h in enumerate(front_patterns(ctx, SPACE))]  # fmt: skip
    ctx1 = context(part_id=1, n_children=6)
    plain = design(ctx1, OFFLINE, SPACE).children
    steered = design(ctx1.model_copy(update={"heuristics": views}), OFFLINE, SPACE).children

    pattern = cu.front_pattern(views, 1, SPACE.vocabulary())
    assert pattern is not None and cu.front_pattern(views, 2, SPACE.vocabulary()) is None

    def typical(children):  # mean probability of the children's ops under the pattern
        return sum(
            pattern[0][e, nb201.OPS.index(op)]
            for c in children for e, op in enumerate(nb201.parse_cell(c.arch))
        ) / len(children)  # fmt: skip

    assert typical(steered) > typical(plain)
    assert any("front-pattern" in c.rationale for c in steered)
    ctx2 = context(part_id=2, n_children=6)
    assert [c.arch for c in design(ctx2, OFFLINE, SPACE).children] == [
        c.arch
        for c in design(ctx2.model_copy(update={"heuristics": views}), OFFLINE, SPACE).children
    ]


def test_kb_import_pool_folds_the_same_claim_from_two_devices(tmp_path: Path, capsys):
    files = []
    for device, effect, n in (("hwnasbench:eyeriss", 0.6, 3), ("hwnasbench:fpga", -0.9, 5)):
        obs = _obs("up" if effect > 0 else "down", effect, n, device)
        h = Heuristic(id="x", text=obs.text, claim=obs.claim, polarity=obs.polarity,
                      evidence_for=n, scope=Scope(space="nb201", hardware=device))  # fmt: skip
        path = tmp_path / f"{device.split(':')[1]}.json"
        path.write_text(json.dumps([h.model_dump(mode="json")]))
        files.append(path)
    kb = str(tmp_path / "kb")
    for f in files:
        assert main(["kb", "--kb", kb, "import", "--pool", str(f)]) == 0
    assert "pooled 1" in capsys.readouterr().out
    with KnowledgeBase(kb, create=False) as base:
        (only,) = base.list()
    assert only.claim.evidence == 8 and only.claim.direction == "down"
    assert only.claim.source == "imported"
    assert only.claim.devices == ("hwnasbench:eyeriss", "hwnasbench:fpga")


def test_claims_speak_a_user_spaces_own_slots_and_operations():
    """A user's space of one op per slot (the toy chain with ``slot_ops``/``from_slot_ops``):
    claims on its slots become priors, front patterns draw its architectures, and words on
    a slot steer its Designer; photonic-mlp only reports its slots (a SlotView)."""
    from toy_plugin import ChainSpace

    from agentnas.agents.offline_policy import design_offline
    from agentnas.agents.schemas import DesignerContext, Partition, ScoredArch
    from agentnas.tools.spaces.base import SlotSpace, SlotView
    from agentnas.tools.spaces.registry import get_space

    class SlotChain(ChainSpace):
        def slot_ops(self, arch: str) -> tuple[str, ...]:
            return tuple(self.validate(arch).removeprefix("chain:").split("-"))

        def from_slot_ops(self, ops) -> str:
            return self.validate("chain:" + "-".join(ops))

    space = SlotChain()
    photonic = get_space("photonic-mlp")
    assert isinstance(space, SlotSpace) and isinstance(SPACE, SlotSpace)
    assert isinstance(photonic, SlotView) and not isinstance(photonic, SlotSpace)
    assert space.from_slot_ops(space.slot_ops("chain:3-0-4-1")) == "chain:3-0-4-1"

    vocab = space.vocabulary()  # slots l1..l4, operations "0".."4"
    swap = Claim(op="4", instead_of="1", edges=("l2",), objective="accuracy", direction="up",
                 effect=3.0, evidence=8)  # fmt: skip
    v, ev = cu.op_priors([HeuristicView(id="m", text="x", claim=swap)], "accuracy", vocab)
    assert v.shape == (4, 5) and v[1, 4] - v[1, 1] > 1.0 and ev[0].sum() == 0

    front = [Claim(op="4", edges=("l2",), objective="front", direction="up", effect=1.0,
                   evidence=20, hardware_independent=True)]  # fmt: skip
    views = [HeuristicView(id="f", text="front", partition=0, claim=c) for c in front]
    part = Partition(id=0, feature="total", low=0, high=16, size=space.size)
    history = [ScoredArch(arch=a, metrics={"accuracy": 50.0 + i, "latency_ms": 1.0 + i},
                          partition=0) for i, a in enumerate(space.enumerate()[::97])]  # fmt: skip
    ctx = DesignerContext(
        space="toy-chain", hardware="toy_plugin:ChainMeter",
        objectives=["accuracy", "latency"], round=2, partition=part,
        parents=history[:4], history=history, n_children=6,
        evaluated=[h.arch for h in history], seed=1, heuristics=views,
    )  # fmt: skip
    children, _ = design_offline(ctx, space, None)
    sampled = [c for c in children if "front-pattern" in c.rationale]
    assert sampled and all(space.slot_ops(c.arch)[1] == "4" for c in sampled)
    plain, _ = design_offline(ctx.model_copy(update={"heuristics": []}), space, None)
    assert not any("front-pattern" in c.rationale for c in plain)
