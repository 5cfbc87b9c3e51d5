"""How the graph reads and writes the knowledge base, idempotently.

The state keeps the heuristics in scope as full records. A reflection is applied by
computing the new records from that snapshot (absolute evidence counts, deterministic ids)
and upserting them, so re-running a reflect step after a crash (``--resume``) writes the
same values again instead of counting evidence twice.
"""

from __future__ import annotations

from typing import Any

from agentnas.agents.schemas import HeuristicView
from agentnas.memory.heuristic import Heuristic, Scope, heuristic_id


def load_heuristics(kb: Any, space: str, hardware: str) -> list[dict[str, Any]]:
    """Active heuristics for (space, hardware), all partitions, as JSON records."""
    return [h.model_dump(mode="json") for h in kb.list(space=space, hardware=hardware)]


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
    by_id = {r["id"]: Heuristic.model_validate(r) for r in records}
    changed: dict[str, Heuristic] = {}
    changes: list[dict[str, Any]] = []
    for new in result.add:
        partition = new.partition if new.partition is not None and new.partition >= 0 else None
        scope = Scope(space=space, hardware=hardware, partition=partition)
        hid = heuristic_id(new.text, scope, new.polarity)
        if hid in by_id:
            old = by_id[hid]
            h = old.model_copy(
                update={
                    "evidence_for": old.evidence_for + new.evidence_for,
                    "evidence_against": old.evidence_against + new.evidence_against,
                    "last_round": round_,
                    "status": "active",
                }
            )
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
        h = old.model_copy(
            update={
                "text": rev.text or old.text,
                "evidence_for": max(0, old.evidence_for + rev.evidence_for_delta),
                "evidence_against": max(0, old.evidence_against + rev.evidence_against_delta),
                "last_round": round_,
            }
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
        h = old.model_copy(update={"status": "retired", "last_round": round_})
        by_id[hid] = changed[hid] = h
        changes.append({"action": "retire", "id": hid, "text": h.text})
    if changed:
        kb.import_([h.model_dump(mode="json") for h in changed.values()])
    snapshot = [h.model_dump(mode="json") for h in by_id.values() if h.status == "active"]
    return snapshot, changes


def add_user_heuristics(
    kb: Any,
    records: list[dict[str, Any]],
    commands: list[Any],
    space: str,
    hardware: str,
    round_: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Heuristics a user typed while steering, stored with source "user"."""
    from agentnas.agents.schemas import NewHeuristic, ReflectionResult

    adds = [
        NewHeuristic(
            text=c.text,
            polarity=c.polarity,
            partition=c.partitions[0] if len(c.partitions) == 1 else None,
        )
        for c in commands
    ]
    return apply_reflection(
        kb, records, ReflectionResult(add=adds), space, hardware, round_, "user"
    )
