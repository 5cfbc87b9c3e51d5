"""How the graph reads and writes the knowledge base, idempotently.

The state keeps the heuristics in scope as full records. A reflection is applied by
computing the new records from that snapshot (absolute evidence counts, deterministic ids)
and upserting them, so re-running a reflect step after a crash (``--resume``) writes the
same values again instead of counting evidence twice.
"""

from __future__ import annotations

from typing import Any

from agentnas.agents.schemas import HeuristicView
from agentnas.memory.claim import claim_for_text, claim_id
from agentnas.memory.heuristic import (
    Heuristic,
    Scope,
    heuristic_id,
    merge_into,
    retired,
    revised,
)


def check_kb_space(kb_dir: str | None, space: str) -> None:
    """Refuse a ``--kb DIR`` that holds heuristics, none of them for ``space``: a KB of
    another search space would silently teach nothing (and collect unrelated rules).
    Reads only; a missing or empty folder is a new KB and passes."""
    if not kb_dir:
        return
    from pathlib import Path

    from agentnas.memory.knowledge_base import KnowledgeBase
    from agentnas.tools.errors import UserError

    path = Path(kb_dir)
    if not path.is_dir() or not any(path.iterdir()):
        return
    with KnowledgeBase(path, create=False) as kb:
        spaces = sorted({h.scope.space for h in kb.list(include_retired=True)})
    if spaces and space not in spaces:
        raise UserError(
            f"knowledge base {path} holds heuristics for space {', '.join(spaces)} only, not "
            f"'{space}'; give a KB of this space with --kb, or a new folder"
        )


def transfers(h: Heuristic, hardware: str) -> bool:
    """Whether a heuristic applies on ``hardware``: a hardware-independent claim (accuracy
    structure is the same on every device) wherever it was learnt; a hardware-bound claim
    (latency) only on a device it was measured on, even when a tool re-scoped the record
    to another device; a heuristic without claim where its scope says."""
    c = h.claim
    if c is not None and c.hardware_independent:
        return True
    if c is not None and c.devices:
        return hardware in c.devices
    return h.scope.hardware == hardware


def load_heuristics(kb: Any, space: str, hardware: str) -> list[dict[str, Any]]:
    """Active heuristics for ``space`` that apply on ``hardware`` (:func:`transfers`),
    all partitions, as JSON records."""
    return [h.model_dump(mode="json") for h in kb.list(space=space) if transfers(h, hardware)]


DESIGNER_LIMIT_LLM = 30  # heuristics an LLM Designer reads (nearest 5 + most evidenced)
DESIGNER_LIMIT_OFFLINE = 400  # the offline Designer reads every claim that applies


def designer_heuristics(
    kb: Any, space: str, hardware: str, partition: int, query: str, *, llm: bool
) -> list[HeuristicView]:
    """What one Designer sees: the heuristics nearest to ``query`` in this (space,
    hardware, partition), then every other one that applies here (hardware-independent
    claims from other devices included, :func:`transfers`), most evidence first.

    The offline Designer weighs every claim it reads by evidence, so it skips the nearest
    search (the one step that needs the embedding model): an LLM reads a short list whose
    head must be what is nearest to its task."""
    found = (
        [h for h, _ in kb.query(query, space, hardware, partition=partition, k=5)] if llm else []
    )
    seen = {h.id for h in found}
    rest = [
        h
        for h in kb.list(space=space)
        if h.id not in seen
        and transfers(h, hardware)
        and (h.scope.partition is None or h.scope.partition == partition)
    ]
    rest.sort(key=lambda h: (-(h.evidence_for + h.evidence_against), h.id))
    limit = DESIGNER_LIMIT_LLM if llm else DESIGNER_LIMIT_OFFLINE
    chosen = [*found, *rest][:limit]
    return heuristic_views([h.model_dump(mode="json") for h in chosen])


def heuristic_views(records: list[dict[str, Any]]) -> list[HeuristicView]:
    views = []
    for r in records:
        if r.get("status", "active") != "active":
            continue
        views.append(
            HeuristicView(
                id=r["id"],
                text=r["text"],
                polarity=r.get("polarity", "positive"),
                evidence_for=r.get("evidence_for", 0),
                evidence_against=r.get("evidence_against", 0),
                partition=(r.get("scope") or {}).get("partition"),
                claim=r.get("claim"),
                hardware=(r.get("scope") or {}).get("hardware", ""),
            )
        )
    return views


def apply_reflection(
    kb: Any,
    records: list[dict[str, Any]],
    result: Any,
    space: str,
    hardware: str,
    round_: int,
    source: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """New snapshot and the list of changes (for the trace) after ``result``."""
    result = _without_secrets(result)
    by_id = {r["id"]: Heuristic.model_validate(r) for r in records}
    changed: dict[str, Heuristic] = {}
    changes: list[dict[str, Any]] = []
    for new in result.add:
        partition = new.partition if new.partition is not None and new.partition >= 0 else None
        scope = Scope(space=space, hardware=hardware, partition=partition)
        claim = new.claim or claim_for_text(
            space, new.text, new.polarity, "user" if source == "user" else "reflector"
        )
        hid = (
            claim_id(space, hardware, partition, claim)
            if claim is not None
            else heuristic_id(new.text, scope, new.polarity)
        )
        if hid in by_id:
            h = merge_into(by_id[hid], new.evidence_for, new.evidence_against, claim, round_)
            changes.append({"action": "merge", "id": hid, "text": h.text})
        else:
            h = Heuristic(
                id=hid,
                text=new.text,
                scope=scope,
                polarity=new.polarity,
                evidence_for=new.evidence_for,
                evidence_against=new.evidence_against,
                created_round=round_,
                last_round=round_,
                source=source,
                claim=claim,
            )
            changes.append(
                {
                    "action": "add",
                    "id": hid,
                    "text": h.text,
                    "polarity": h.polarity,
                    "partition": partition,
                }
            )
        by_id[hid] = changed[hid] = h
    for rev in result.revise:
        old = by_id.get(rev.id)
        if old is None:
            changes.append({"action": "ignored", "id": rev.id, "why": "unknown heuristic id"})
            continue
        h = revised(
            old,
            text=(rev.text or "").strip() or None,
            evidence_for_delta=rev.evidence_for_delta,
            evidence_against_delta=rev.evidence_against_delta,
            round_=round_,
            polarity=rev.polarity,
            claim=rev.claim,
            clamp=True,
        )
        by_id[rev.id] = changed[rev.id] = h
        changes.append(
            {
                "action": "revise",
                "id": rev.id,
                "for": h.evidence_for,
                "against": h.evidence_against,
                "text": h.text,
            }
        )
    for hid in result.retire:
        old = by_id.get(hid)
        if old is None:
            changes.append({"action": "ignored", "id": hid, "why": "unknown heuristic id"})
            continue
        h = retired(old, round_)
        by_id[hid] = changed[hid] = h
        changes.append({"action": "retire", "id": hid, "text": h.text})
    if changed:
        # other runs may share the KB: store this run's changes without undoing theirs
        rows = [h.model_dump(mode="json") for h in changed.values()]
        store = getattr(kb, "store_run_records", None)
        if store is not None:
            store(rows, {r["id"]: r for r in records}, step=f"round {round_} {source}")
        else:  # a plain record store (tests, tools): nothing to merge with
            kb.import_(rows)
    snapshot = [h.model_dump(mode="json") for h in by_id.values() if h.status == "active"]
    return snapshot, changes


def _without_secrets(result: Any) -> Any:
    """The reflection with secrets masked in every text: a model that echoes the API key
    must not get it into the KB or the checkpoint (both are shared and kept)."""
    from agentnas.graph.trace import redact

    if not hasattr(result, "model_copy"):
        return result
    adds = [a.model_copy(update={"text": redact(a.text)}) for a in result.add]
    revs = [
        r.model_copy(update={"text": redact(r.text) if r.text else r.text}) for r in result.revise
    ]
    return result.model_copy(update={"add": adds, "revise": revs})


def apply_user_changes(
    kb: Any,
    records: list[dict[str, Any]],
    changes: Any,
    space: str,
    hardware: str,
    round_: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Heuristics a user added, reworded or retired while steering (a
    :class:`~agentnas.agents.schemas.ReflectionResult`), stored with source "user"."""
    return apply_reflection(kb, records, changes, space, hardware, round_, "user")


def pool_into(kb: Any, records: list[dict[str, Any]]) -> int:
    """Fold exported records into ``kb`` as a run would learn them: the same claim from
    several runs or devices becomes one heuristic with the pooled evidence (where
    :meth:`~agentnas.memory.knowledge_base.KnowledgeBase.import_` would keep the last
    copy). Retired records are skipped. Returns the number of heuristics written."""
    from agentnas.agents.schemas import NewHeuristic, ReflectionResult

    snapshot = [h.model_dump(mode="json") for h in kb.list()]
    touched: set[str] = set()
    for r in records:
        h = Heuristic.model_validate(r)
        if h.status != "active":
            continue
        new = NewHeuristic(
            text=h.text, polarity=h.polarity, partition=h.scope.partition, claim=h.claim,
            evidence_for=h.evidence_for, evidence_against=h.evidence_against,
        )  # fmt: skip
        snapshot, changes = apply_reflection(
            kb, snapshot, ReflectionResult(add=[new]), h.scope.space, h.scope.hardware,
            h.last_round, h.source,
        )  # fmt: skip
        touched |= {c["id"] for c in changes}
    return len(touched)
