"""``agent-warm``: a knowledge base carried from the other devices of the same bench.

Leave one out: the run on device D with seed S starts from the heuristics that the
``agent`` runs on every *other* device learnt with the same seed and budget. Heuristics
are scoped to the hardware they were learnt on (a rule about FPGA latency is not
silently read on Eyeriss), so carrying them is an explicit act: each active record is
re-scoped to D, its id recomputed, and records that become the same rule have their
evidence added. The source names where it came from (``transfer:hwnasbench:fpga``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentnas.bench.jobs import RUN
from agentnas.bench.spec import BenchSpec, Job


def carried_records(spec: BenchSpec, job: Job) -> list[dict[str, Any]]:
    """The other devices' agent heuristics, re-scoped to ``job.device``."""
    from agentnas.memory.heuristic import Heuristic, Scope, heuristic_id
    from agentnas.memory.knowledge_base import KnowledgeBase

    merged: dict[str, Heuristic] = {}
    for device in spec.devices:
        if device == job.device:
            continue
        kb_dir = Job("agent", device, job.budget, job.seed).folder(Path(spec.out)) / RUN / "kb"
        if not kb_dir.is_dir():
            continue
        with KnowledgeBase(kb_dir, create=False) as kb:
            records = [h for h in kb.list() if h.status == "active"]
        for h in records:
            scope = Scope(space=h.scope.space, hardware=job.device, partition=h.scope.partition)
            hid = heuristic_id(h.text, scope, h.polarity)
            if hid in merged:
                old = merged[hid]
                merged[hid] = old.model_copy(
                    update={
                        "evidence_for": old.evidence_for + h.evidence_for,
                        "evidence_against": old.evidence_against + h.evidence_against,
                    }
                )
            else:
                merged[hid] = h.model_copy(
                    update={
                        "id": hid,
                        "scope": scope,
                        "created_round": 0,
                        "last_round": 0,
                        "source": f"transfer:{h.scope.hardware}",
                    }
                )
    return [h.model_dump(mode="json") for h in merged.values()]


def seed_knowledge(spec: BenchSpec, job: Job, kb_dir: Path) -> int:
    """Fill a fresh KB at ``kb_dir`` with :func:`carried_records`; how many were stored."""
    from agentnas.memory.knowledge_base import KnowledgeBase

    records = carried_records(spec, job)
    with KnowledgeBase(kb_dir) as kb:
        return kb.import_(records)
