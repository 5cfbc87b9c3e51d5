"""How much of an LLM run the model actually decided, read from the trace.

A model that answers ``{}`` (or garbage, or nothing) to every call still "finishes" a run:
each role falls back to the offline policy for that call. The summary therefore reports,
per role, how many decisions used the model's answer, and says plainly when most did not.
Counted per decision (Partitioner once; one Designer per partition and round; one
Reflector per round), the last record of each winning when a resumed step ran again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentnas.graph.trace import read_trace

ROLES = ("partitioner", "designer", "reflector")
MOSTLY = 0.5
"""Below this share of model answers used, the run is called mostly the offline policy's."""


def _decisions(events: list[dict[str, Any]]) -> dict[str, dict[tuple[Any, ...], bool]]:
    """role -> {decision key: whether the model's answer was used}."""
    out: dict[str, dict[tuple[Any, ...], bool]] = {r: {} for r in ROLES}
    for e in events:
        kind = e.get("event")
        if kind == "partitions":
            out["partitioner"][(0,)] = not e.get("fallback_used")
        elif kind == "design_context":
            out["designer"][(e.get("round"), e.get("partition"))] = True
        elif kind == "designer_fallback":
            out["designer"][(e.get("round"), e.get("partition"))] = False
        elif kind == "kb_changes" and "fallback_used" in e:
            out["reflector"][(e.get("round"),)] = not e.get("fallback_used")
    return out


def llm_usage(run_dir: Path, is_llm: bool) -> dict[str, Any]:
    """``{"answers_used": {role: {"decisions", "used", "share"}}, "fell_back": n,
    "mostly_offline": bool}`` for an LLM run; ``{}`` for an offline one."""
    if not is_llm:
        return {}
    per_role = _decisions(read_trace(Path(run_dir) / "trace.jsonl"))
    used_all = total = 0
    table: dict[str, dict[str, Any]] = {}
    for role, decisions in per_role.items():
        used = sum(decisions.values())
        n = len(decisions)
        table[role] = {"decisions": n, "used": used, "share": round(used / n, 4) if n else None}
        used_all, total = used_all + used, total + n
    share = used_all / total if total else 0.0
    return {
        "answers_used": table,
        "fell_back": total - used_all,
        "answers_used_share": round(share, 4),
        "mostly_offline": share < MOSTLY,
    }


def usage_line(summary: dict[str, Any]) -> str | None:
    """One plain sentence for the CLI: the share of model answers used, and a warning when
    the results are mostly the offline policy's. ``None`` for an offline run."""
    table = summary.get("answers_used")
    if not table:
        return None
    parts = ", ".join(
        f"{role} {t['used']}/{t['decisions']}" for role, t in table.items() if t["decisions"]
    )
    line = (
        f"model answers used: {parts}; {summary.get('fell_back', 0)} decisions fell back "
        f"to the offline policy"
    )
    if summary.get("mostly_offline"):
        line += (
            f". Most answers of {summary.get('llm')} were not usable: these results are "
            f"mostly the offline policy's, not the model's"
        )
    return line
