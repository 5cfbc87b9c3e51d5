"""``agent-warm``: a knowledge base carried from the other devices of the same bench.

Leave one out: the run on device D with seed S starts from every heuristic that the
``agent`` runs on the *other* devices learnt with the same seed and budget, imported as
they are (ids, scopes, claims, evidence). Which of them D's run then reads is the
graph's own transfer rule (:func:`agentnas.graph.knowledge.transfers`: hardware-
independent claims travel, latency claims stay on the device that measured them), so the
bench measures the warm start the system ships, not one of its own.

``agent-reuse``: the same heuristics plus those runs' measured cells as data for the
accuracy model (``--reuse-evaluations``: table accuracy only, since the devices differ).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentnas.bench.jobs import RUN
from agentnas.bench.spec import BenchSpec, Job


def other_runs(spec: BenchSpec, job: Job) -> list[Path]:
    """The other devices' finished agent run folders (same seed and budget): the
    ``agent-reuse`` method reuses their evaluations (``--reuse-evaluations``)."""
    out = []
    for device in spec.devices:
        if device == job.device:
            continue
        run_dir = Job("agent", device, job.budget, job.seed).folder(Path(spec.out)) / RUN
        if (run_dir / "candidates.csv").is_file():
            out.append(run_dir)
    return out


def carried_records(spec: BenchSpec, job: Job) -> list[dict[str, Any]]:
    """The other devices' active agent heuristics (same seed and budget), as records."""
    from agentnas.memory.knowledge_base import KnowledgeBase

    out: dict[str, dict[str, Any]] = {}
    for device in spec.devices:
        if device == job.device:
            continue
        kb_dir = Job("agent", device, job.budget, job.seed).folder(Path(spec.out)) / RUN / "kb"
        if not kb_dir.is_dir():
            continue
        with KnowledgeBase(kb_dir, create=False) as kb:
            for h in kb.list():
                out.setdefault(h.id, h.model_dump(mode="json"))
    return list(out.values())


def seed_knowledge(spec: BenchSpec, job: Job, kb_dir: Path) -> int:
    """Fill a fresh KB at ``kb_dir`` with :func:`carried_records`; how many were stored."""
    from agentnas.memory.knowledge_base import KnowledgeBase

    records = carried_records(spec, job)
    with KnowledgeBase(kb_dir) as kb:
        return kb.import_(records)
