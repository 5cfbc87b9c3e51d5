"""The knowledge base: real Chroma folders on tmp_path, real MiniLM embeddings.

The model loads once per process (the embedding module caches it); each test opens its own
folder, which costs ~0.1 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings

from agentnas.memory.chroma_folder import COLLECTION
from agentnas.memory.embedding import EMBEDDING_DIM, MiniLMEmbeddingFunction, embed
from agentnas.memory.heuristic import (
    ALL_PARTITIONS,
    Heuristic,
    Scope,
    confidence,
    from_metadata,
    scope_filter,
    technical_tokens,
    to_metadata,
)
from agentnas.memory.knowledge_base import KnowledgeBase
from agentnas.tools.errors import UserError

FPGA = Scope(space="nb201", hardware="hwnasbench:fpga")
LATENCY_RULE = "Cells with many nor_conv_3x3 operations have high latency on the FPGA"
ACCURACY_RULE = "Skip connections on the input edge raise the accuracy of small cells"
UNRELATED_RULE = "Report figures with a white background and readable fonts"


@pytest.fixture(scope="session")
def model_loaded() -> None:
    """Load the model once for the whole session (later embeds take milliseconds)."""
    assert embed(["warm up"]).shape == (1, EMBEDDING_DIM)


@pytest.fixture
def kb(tmp_path: Path, model_loaded: None):
    base = KnowledgeBase(tmp_path / "kb")
    yield base
    base.close()


# ----------------------------------------------------------------------------- pure parts
def test_confidence_is_laplace_smoothed_support_share() -> None:
    h = Heuristic(id="h1", text="t", scope=FPGA)
    assert confidence(h) == 0.5
    assert confidence(h.model_copy(update={"evidence_for": 3})) == pytest.approx(4 / 5)
    both = h.model_copy(update={"evidence_for": 1, "evidence_against": 3})
    assert confidence(both) == pytest.approx(2 / 6)


def test_metadata_round_trip_encodes_all_partitions_without_none() -> None:
    general = Heuristic(id="h1", text="rule", scope=FPGA, polarity="negative", last_round=3)
    meta = to_metadata(general)
    assert meta["partition"] == ALL_PARTITIONS
    assert all(isinstance(v, str | int) for v in meta.values())
    assert from_metadata("h1", "rule", meta) == general
    specific = general.model_copy(update={"scope": FPGA.model_copy(update={"partition": 2})})
    assert to_metadata(specific)["partition"] == 2
    assert from_metadata("h1", "rule", to_metadata(specific)) == specific


def test_technical_tokens_keep_numbers_and_op_names_in_order() -> None:
    assert technical_tokens("Replace nor_conv_3x3 with nor_conv_1x1 on edge 1->3.") == (
        "nor_conv_3x3",
        "nor_conv_1x1",
        "1->3",
    )
    assert technical_tokens("At most 2 convs under 5.5 ms") == ("2", "5.5")


def test_scope_filter_general_vs_specific() -> None:
    only_general = scope_filter("nb201", "cpu", None, general_only=True, active_only=True)
    assert {"partition": ALL_PARTITIONS} in only_general["$and"]
    assert scope_filter(None, None, None, general_only=False, active_only=False) is None
    assert scope_filter("nb201", None, None, general_only=False, active_only=False) == {
        "space": "nb201"
    }


def test_embeddings_are_unit_384_vectors(model_loaded: None) -> None:
    vectors = embed([LATENCY_RULE, ACCURACY_RULE])
    assert vectors.shape == (2, EMBEDDING_DIM)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])


# --------------------------------------------------------------------------- retrieval
def test_query_matches_scope_and_not_other_hardware(kb: KnowledgeBase) -> None:
    added = kb.add(LATENCY_RULE, FPGA, evidence_for=2, round=1, source="reflector:test")
    assert added.evidence_for == 2 and added.created_round == 1 and added.status == "active"

    hits = kb.query("which operations slow the fpga down", "nb201", "hwnasbench:fpga")
    assert [h.id for h, _ in hits] == [added.id]
    assert 0.0 <= hits[0][1] < 0.8
    assert kb.query("slow operations", "nb201", "hwnasbench:pixel3") == []
    assert kb.query("slow operations", "photonic-mlp", "hwnasbench:fpga") == []


def test_partition_specific_and_general_scopes(kb: KnowledgeBase) -> None:
    general = kb.add(LATENCY_RULE, FPGA)
    p2 = kb.add(ACCURACY_RULE, FPGA.model_copy(update={"partition": 2}))

    def ids(partition: int | None) -> set[str]:
        return {h.id for h, _ in kb.query("cells", "nb201", "hwnasbench:fpga", partition, k=10)}

    assert ids(2) == {general.id, p2.id}
    assert ids(3) == {general.id}
    assert ids(None) == {general.id}
    assert {h.id for h in kb.list(partition=3)} == {general.id}
    assert {h.id for h in kb.list()} == {general.id, p2.id}
    assert kb.get(p2.id).scope.partition == 2


def test_semantic_retrieval_ranks_relevant_text_first(kb: KnowledgeBase) -> None:
    for text in (UNRELATED_RULE, ACCURACY_RULE, LATENCY_RULE):
        kb.add(text, FPGA)
    hits = kb.query("reduce latency by using fewer 3x3 convolutions", "nb201", "hwnasbench:fpga")
    assert [h.text for h, _ in hits] == [LATENCY_RULE, ACCURACY_RULE, UNRELATED_RULE]
    distances = [d for _, d in hits]
    assert distances == sorted(distances)
    hits = kb.query("how to make cells more accurate", "nb201", "hwnasbench:fpga", k=1)
    assert [h.text for h, _ in hits] == [ACCURACY_RULE]
    near = kb.query("reduce latency", "nb201", "hwnasbench:fpga", max_distance=0.9)
    assert UNRELATED_RULE not in [h.text for h, _ in near]


# ------------------------------------------------------------------------------ edits
def test_revise_changes_evidence_round_and_text(kb: KnowledgeBase) -> None:
    h = kb.add(LATENCY_RULE, FPGA, evidence_for=1, round=1)
    revised = kb.revise(h.id, evidence_for_delta=2, evidence_against_delta=1, round=4)
    assert (revised.evidence_for, revised.evidence_against, revised.last_round) == (3, 1, 4)
    assert revised.created_round == 1
    assert kb.get(h.id) == revised

    reworded = kb.revise(h.id, text=ACCURACY_RULE, round=5)
    assert kb.get(h.id).text == ACCURACY_RULE and reworded.last_round == 5
    # The stored embedding follows the new text.
    hits = kb.query("how to make cells more accurate", "nb201", "hwnasbench:fpga")
    assert hits[0][1] < 0.6

    with pytest.raises(UserError, match="negative evidence"):
        kb.revise(h.id, evidence_against_delta=-5)
    assert kb.get(h.id).evidence_against == 1


def test_retire_hides_from_query_but_keeps_record(kb: KnowledgeBase) -> None:
    h = kb.add(LATENCY_RULE, FPGA)
    kept = kb.add(ACCURACY_RULE, FPGA)
    retired = kb.retire(h.id, round=3)
    assert retired.status == "retired" and retired.last_round == 3
    assert [x.id for x, _ in kb.query(LATENCY_RULE, "nb201", "hwnasbench:fpga")] == [kept.id]
    assert [x.id for x in kb.list()] == [kept.id]
    assert {x.id for x in kb.list(include_retired=True)} == {h.id, kept.id}
    assert kb.get(h.id).status == "retired"


def test_unknown_ids_are_user_errors(kb: KnowledgeBase) -> None:
    for call in (
        lambda: kb.get("nope"),
        lambda: kb.revise("nope", evidence_for_delta=1),
        lambda: kb.retire("nope", round=1),
        lambda: kb.rm("nope"),
    ):
        with pytest.raises(UserError, match="no heuristic with id 'nope'"):
            call()


def test_rm_deletes(kb: KnowledgeBase) -> None:
    h = kb.add(LATENCY_RULE, FPGA)
    assert kb.rm(h.id).id == h.id
    assert kb.count() == 0
    with pytest.raises(UserError):
        kb.get(h.id)


def test_dedupe_merges_rewording_but_not_different_rules(kb: KnowledgeBase) -> None:
    first = kb.add(
        "Prefer cells with few nor_conv_3x3 operations to keep latency low",
        FPGA,
        evidence_for=2,
        round=1,
    )
    merged, was_merged = kb.add_or_merge(
        "Prefer cells with fewer nor_conv_3x3 ops to keep the latency low",
        FPGA,
        evidence_for=1,
        evidence_against=1,
        round=3,
    )
    assert was_merged and merged.id == first.id
    assert (merged.evidence_for, merged.evidence_against, merged.last_round) == (3, 1, 3)
    assert merged.text == first.text  # keeps its own wording
    assert kb.count() == 1

    # Embeddings barely see numbers and word order; these are different rules.
    one = kb.add("Cells with at most 1 nor_conv_3x3 stay under 5 ms", FPGA)
    two = kb.add("Cells with at most 2 nor_conv_3x3 stay under 5 ms", FPGA)
    swap_a = kb.add("Replacing nor_conv_3x3 with nor_conv_1x1 lowers latency", FPGA)
    swap_b = kb.add("Replacing nor_conv_1x1 with nor_conv_3x3 lowers latency", FPGA)
    assert len({one.id, two.id, swap_a.id, swap_b.id}) == 4

    # Same text, other scope or polarity: separate heuristics.
    other_hw = kb.add(first.text, Scope(space="nb201", hardware="hwnasbench:pixel3"))
    negative = kb.add(first.text, FPGA, polarity="negative")
    p1 = kb.add(first.text, FPGA.model_copy(update={"partition": 1}))
    assert len({first.id, other_hw.id, negative.id, p1.id}) == 4
    assert kb.count() == 8


def test_readding_a_retired_rule_revives_it(kb: KnowledgeBase) -> None:
    h = kb.add(LATENCY_RULE, FPGA, evidence_for=1)
    kb.retire(h.id, round=2)
    again, merged = kb.add_or_merge(LATENCY_RULE, FPGA, evidence_for=1, round=5)
    assert merged and again.id == h.id
    assert (again.status, again.evidence_for, again.last_round) == ("active", 2, 5)
    assert kb.count() == 1


# ---------------------------------------------------------------- persistence, import
def test_reopening_the_folder_keeps_everything(tmp_path: Path, model_loaded: None) -> None:
    folder = tmp_path / "shared-kb"
    with KnowledgeBase(folder) as first_run:
        a = first_run.add(LATENCY_RULE, FPGA, evidence_for=2, round=1)
        b = first_run.add(ACCURACY_RULE, FPGA.model_copy(update={"partition": 0}))
        first_run.retire(b.id, round=2)
        exported = first_run.export()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        second_run = KnowledgeBase(folder)
    chroma_warnings = [w for w in caught if "chromadb" in w.filename]
    assert chroma_warnings == [], [str(w.message) for w in chroma_warnings]
    with second_run:
        assert second_run.export() == exported
        hits = second_run.query("slow fpga cells", "nb201", "hwnasbench:fpga")
        assert [h.id for h, _ in hits] == [a.id]

    # The persisted collection names our embedding function, so a plain Chroma client
    # rebuilds it from the stored config and embeds query texts with it (offline).
    client = chromadb.PersistentClient(str(folder), settings=Settings(anonymized_telemetry=False))
    try:
        collection = client.get_collection(COLLECTION)
        assert isinstance(collection.configuration["embedding_function"], MiniLMEmbeddingFunction)
        assert collection.configuration["hnsw"]["space"] == "cosine"
        found = collection.query(query_texts=["slow fpga cells"], n_results=1)
        assert found["ids"] == [[a.id]]
    finally:
        client.close()


def test_another_process_sees_the_heuristics(tmp_path: Path, model_loaded: None) -> None:
    folder = tmp_path / "kb"
    with KnowledgeBase(folder) as kb:
        h = kb.add(LATENCY_RULE, FPGA, evidence_for=4)
    script = (
        "import json, sys\n"
        "from agentnas.memory.knowledge_base import KnowledgeBase\n"
        "kb = KnowledgeBase(sys.argv[1], create=False)\n"
        "print(json.dumps(kb.export()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(folder)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    records = json.loads(out.stdout)
    assert [(r["id"], r["evidence_for"]) for r in records] == [(h.id, 4)]


def test_export_import_round_trip(tmp_path: Path, model_loaded: None) -> None:
    with KnowledgeBase(tmp_path / "a") as source:
        source.add(LATENCY_RULE, FPGA, evidence_for=3, evidence_against=1, round=2)
        retired = source.add(ACCURACY_RULE, FPGA.model_copy(update={"partition": 4}))
        source.retire(retired.id, round=6)
        source.add(UNRELATED_RULE, FPGA, polarity="negative", source="reflector:test")
        records = source.export()
    assert json.loads(json.dumps(records)) == records  # JSON-able

    with KnowledgeBase(tmp_path / "b") as target:
        assert target.import_(records) == 3
        assert target.export() == records
        top = target.query("fewer 3x3 convolutions for latency", "nb201", "hwnasbench:fpga", k=1)
        assert top[0][0].text == LATENCY_RULE
        bad = [records[0], {"id": "x", "text": "no scope"}]
        with pytest.raises(UserError, match="record 1"):
            target.import_(bad)
        assert target.export() == records


# ------------------------------------------------------------------------ bad folders
def test_corrupt_database_is_a_user_error(tmp_path: Path) -> None:
    folder = tmp_path / "corrupt"
    folder.mkdir()
    (folder / "chroma.sqlite3").write_bytes(b"this is not sqlite at all " * 200)
    for _ in range(2):  # a second attempt must fail the same clear way
        with pytest.raises(UserError, match="cannot open knowledge base"):
            KnowledgeBase(folder)


def test_non_kb_paths_are_user_errors(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not a knowledge base"):
        KnowledgeBase(tmp_path / "project")
    assert sorted(os.listdir(tmp_path / "project")) == ["notes.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="is a file"):
        KnowledgeBase(tmp_path / "file")
    with pytest.raises(UserError, match="no knowledge base"):
        KnowledgeBase(tmp_path / "missing", create=False)
    assert not (tmp_path / "missing").exists()
