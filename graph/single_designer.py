"""One Designer for every partition: the ``single_designer`` run option (the bench's
``agent-single-designer`` ablation).

Partitions are kept (seeding, per-partition archives, the budget split of
:mod:`agentnas.graph.allocation`), but a round's Designer tasks are merged into one call
whose partition is the whole space (:data:`WHOLE`), whose parents are every partition's
parents and whose children are the sum of theirs; each child is filed under the
partition it falls in. What this isolates: the value of asking one Designer per niche
(focused prompts, proposals inside each niche) rather than one for all.
"""

from __future__ import annotations

from typing import Any

from agentnas.graph.state import DesignTask

WHOLE = -1  # partition id of the merged task


def merged_task(tasks: list[DesignTask], partitions: list[dict[str, Any]]) -> DesignTask:
    """The round's tasks as one (see the module doc); ``tasks`` is not empty."""
    whole = {
        "id": WHOLE,
        "feature": partitions[0]["feature"],
        "low": min(float(p["low"]) for p in partitions),
        "high": max(float(p["high"]) for p in partitions),
        "size": sum(int(p["size"]) for p in partitions),
    }
    parents, seen = [], set()
    for t in tasks:
        for c in t["parents"]:
            if c["arch"] not in seen:
                seen.add(c["arch"])
                parents.append(c)
    return {
        **tasks[0],
        "partition": whole,
        "n_children": sum(t["n_children"] for t in tasks),
        "parents": parents,
        "partitions": partitions,
    }
