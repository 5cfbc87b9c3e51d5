"""One rule (``memory.heuristic.merge_into``) folds a heuristic the KB already holds into
its record, whether a Reflector learns the same claim again (``graph.knowledge``), a
user adds a twin text (``KnowledgeBase.add``) or a run's contribution meets what other
runs wrote to a shared KB (``KnowledgeBase.store_run_records``)."""

from __future__ import annotations

from agentnas.agents.schemas import NewHeuristic, ReflectionResult
from agentnas.graph.knowledge import apply_reflection
from agentnas.memory.claim import Claim, claim_for_text, claim_id, describe
from agentnas.memory.heuristic import Heuristic, Scope, merge_into, retired, revised
from agentnas.memory.knowledge_base import KnowledgeBase

SCOPE = Scope(space="nb201", hardware="hwnasbench:fpga")
RULE = "Cells with many nor_conv_3x3 operations have high latency on the FPGA"


def _measured(effect: float, evidence: int) -> Claim:
    return Claim(
        op="nor_conv_3x3", edges=("1<-0",), objective="latency_ms",
        direction="up" if effect > 0 else "down", effect=effect, evidence=evidence,
        source="reflector",
    )  # fmt: skip


def _record(claim: Claim, f: int, a: int) -> Heuristic:
    return Heuristic(
        id=claim_id(SCOPE.space, SCOPE.hardware, None, claim), text=describe(claim),
        scope=SCOPE, polarity="negative", evidence_for=f, evidence_against=a,
        source="reflector", claim=claim,
    )  # fmt: skip


def test_contradicting_evidence_revises_the_claim():
    old = _record(_measured(0.2, 4), 4, 0)
    merged = merge_into(old, 10, 0, _measured(-0.3, 10), 7)  # 10 saw it fall
    assert merged.claim is not None and merged.claim.direction == "down"
    assert merged.claim.evidence == 14
    # latency falls: placing the op is good now, counts read in the new direction
    assert merged.polarity == "positive" and merged.text == describe(merged.claim)
    assert (merged.evidence_for, merged.evidence_against, merged.last_round) == (10, 4, 7)


def test_claims_about_different_things_only_add_evidence():
    old = _record(_measured(0.2, 4), 4, 1)
    other = _measured(0.2, 3).model_copy(update={"objective": "accuracy"})
    merged = merge_into(old.model_copy(update={"status": "retired"}), 2, 1, other, 3)
    assert merged.claim == old.claim and merged.status == "active"
    assert (merged.evidence_for, merged.evidence_against) == (6, 2)


def test_reflection_merge_is_the_rule():
    old = _record(_measured(0.2, 4), 4, 0)
    new = NewHeuristic(
        text="x", polarity="positive", claim=_measured(-0.3, 10), evidence_for=10,
        evidence_against=0,
    )  # fmt: skip

    class Store:  # a plain record store
        def import_(self, rows):
            self.rows = rows

    snapshot, changes = apply_reflection(
        Store(), [old.model_dump(mode="json")], ReflectionResult(add=[new]),
        SCOPE.space, SCOPE.hardware, 5, "reflector:offline",
    )  # fmt: skip
    assert changes[0]["action"] == "merge"
    assert snapshot == [merge_into(old, 10, 0, new.claim, 5).model_dump(mode="json")]


def test_kb_add_of_a_twin_and_a_revival_are_the_rule(tmp_path):
    with KnowledgeBase(tmp_path / "kb") as kb:
        first = kb.add(RULE, SCOPE, evidence_for=2, round=1)
        claim = claim_for_text(SCOPE.space, RULE, "positive", "user")
        again = kb.add(RULE, SCOPE, evidence_for=3, evidence_against=1, round=4)
        assert again == merge_into(first, 3, 1, claim, 4) == kb.get(first.id)
        retired = kb.retire(first.id, round=6)
        revived = kb.add(RULE, SCOPE, evidence_for=1, round=8)
        assert revived == merge_into(retired, 1, 0, claim, 8) == kb.get(first.id)
        assert revived.status == "active"


def test_a_runs_contribution_to_a_shared_kb_merges_by_the_same_rule(tmp_path):
    from agentnas.memory.knowledge_base import merge_contribution

    seen = _record(_measured(0.5, 4), 4, 0)  # what the run loaded
    current = _record(_measured(0.5, 10), 10, 0)  # another run added 6 rising edits since
    # the run saw 8 edits fall by 1.5: its record turned (its counts read downwards)
    mine = _record(_measured((0.5 * 4 - 1.5 * 8) / 12, 12), 8, 4).model_copy(
        update={"polarity": "positive", "last_round": 6}
    )
    merged = merge_contribution(current, mine, seen)
    assert merged.claim.evidence == 18 and merged.claim.effect == (0.5 * 10 - 1.5 * 8) / 18
    assert merged == merge_into(current, 8, 0, merged.claim.model_copy(
        update={"effect": -1.5, "evidence": 8, "direction": "down"}), 6)  # fmt: skip
    assert merged.polarity == "positive" and merged.text == describe(merged.claim)
    assert (merged.evidence_for, merged.evidence_against) == (8, 10)
    retired = merge_contribution(current, mine.model_copy(update={"status": "retired"}), seen)
    assert retired.status == "retired"  # the run's retirement stands
    with KnowledgeBase(tmp_path / "kb") as kb:  # and it is what the shared KB stores
        kb.import_([current.model_dump(mode="json")])
        kb.store_run_records(
            [mine.model_dump(mode="json")], {seen.id: seen.model_dump(mode="json")}
        )
        assert kb.get(current.id) == merged


def test_a_revision_is_one_rule_for_the_reflector_and_the_kb(tmp_path):
    """``revised`` edits in place for both: a Reflector's revision clamps a count at 0 (its
    delta counts what it saw), a user's ``kb revise`` that would go below 0 is refused."""
    from agentnas.agents.schemas import Revision
    from agentnas.tools.errors import UserError

    old = _record(_measured(0.2, 4), 4, 1)

    class Store:
        def import_(self, rows):
            self.rows = rows

    rev = Revision(id=old.id, text="  ", evidence_for_delta=2, evidence_against_delta=-3)
    snapshot, _ = apply_reflection(
        Store(), [old.model_dump(mode="json")], ReflectionResult(revise=[rev]),
        SCOPE.space, SCOPE.hardware, 9, "reflector:offline",
    )  # fmt: skip
    want = revised(old, evidence_for_delta=2, evidence_against_delta=-3, round_=9, clamp=True)
    assert snapshot == [want.model_dump(mode="json")]
    assert (want.evidence_for, want.evidence_against, want.text) == (6, 0, old.text)
    with KnowledgeBase(tmp_path / "kb") as kb:
        first = kb.add(RULE, SCOPE, evidence_for=2, round=1)
        edited = kb.revise(first.id, text="Fewer nor_conv_3x3 on the FPGA", evidence_for_delta=1)
        assert edited == revised(first, text="Fewer nor_conv_3x3 on the FPGA",
                                 evidence_for_delta=1) == kb.get(first.id)  # fmt: skip
        try:
            kb.revise(first.id, evidence_against_delta=-1)
        except UserError as exc:
            assert "negative evidence" in str(exc) and kb.get(first.id) == edited
        else:
            raise AssertionError("a negative count was stored")
        assert kb.retire(first.id, round=4) == retired(edited, 4) == kb.get(first.id)
    store = Store()
    active, _ = apply_reflection(
        store, [old.model_dump(mode="json")], ReflectionResult(retire=[old.id]),
        SCOPE.space, SCOPE.hardware, 9, "reflector:offline",
    )  # fmt: skip
    assert active == [] and store.rows == [retired(old, 9).model_dump(mode="json")]
