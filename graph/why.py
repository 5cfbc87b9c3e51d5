"""Questions about a run, answered from its trace and candidates; nothing is changed.

A TARGET names what the question is about:

- a cell string evaluated in the run (``|nor_conv_3x3~0|+…|``): its lineage back to the
  seeds (parents, operator, designer, rationale, heuristics used, metrics);
- ``fN``: the N-th member of the current front, numbered from 1 like the rows of
  ``front.csv`` (best first on the first objective); answered as that cell;
- ``pN``: partition N (from 0): its range, evaluations, best cells and what limits it;
- ``rN``: round N (0 = seeding): what changed and why.

:func:`answer` returns a :class:`WhyAnswer` with the plain-words ``text`` and the same
facts as JSON-ready ``data``; :func:`question_target` finds the TARGET in a question
typed in plain words ("why was f2 chosen?", "why is partition 5 so slow?"), so chat and
the CLI reach the same answers. Pure: reads a :class:`RunRecord`, imports no CLI.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from agentnas.agents.steering_rules import question_target as text_target
from agentnas.graph.run_record import RunRecord, load_run
from agentnas.graph.why_format import (
    cell_facts,
    lineage_lines,
    metrics_text,
    partition_limits,
    partition_text,
    round_facts,
    round_text,
)
from agentnas.tools.errors import UserError

Kind = Literal["cell", "partition", "round"]

MAX_LINEAGE = 200
"""Ancestors collected for one cell (a crossover-heavy run doubles them per round)."""


class WhyAnswer(BaseModel):
    """An answer: ``text`` for people, ``data`` (the same facts) for machines."""

    kind: Kind
    target: str  # as resolved: the cell string, "p3" or "r2"
    text: str
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def why(run_dir: Path | str, target: str) -> WhyAnswer:
    """Answer a question about the run in ``run_dir`` (UserError for an unknown target)."""
    return answer(load_run(run_dir), target)


def answer(record: RunRecord, target: str) -> WhyAnswer:
    kind, key = resolve_target(record, target)
    if kind == "cell":
        return _cell_answer(record, str(key))
    if kind == "partition":
        return _partition_answer(record, int(key))
    return _round_answer(record, int(key))


def valid_targets(record: RunRecord) -> str:
    """What this run accepts as a TARGET, in one phrase."""
    n_front, n_parts, n_rounds = len(record.front), len(record.partitions), len(record.rounds)
    forms = ["a cell string evaluated in this run"]
    if n_front:
        forms.append(f"f1..f{n_front} (front members)")
    if n_parts:
        forms.append(f"p0..p{n_parts - 1} (partitions)")
    if n_rounds:
        forms.append(f"r0..r{n_rounds - 1} (rounds)")
    return ", ".join(forms)


_SHORT = re.compile(r"^([fpr])(\d+)$", re.I)


def resolve_target(record: RunRecord, target: str) -> tuple[Kind, str | int]:
    """``target`` -> ("cell", arch) | ("partition", id) | ("round", n), or UserError."""
    t = target.strip()
    if t in record.by_arch:
        return "cell", t
    m = _SHORT.match(t)
    if m:
        letter, n = m.group(1).lower(), int(m.group(2))
        if letter == "f" and 1 <= n <= len(record.front):
            return "cell", record.front[n - 1]
        if letter == "p" and any(int(p["id"]) == n for p in record.partitions):
            return "partition", n
        if letter == "r" and any(int(r["round"]) == n for r in record.rounds):
            return "round", n
    shown = t if len(t) <= 80 else t[:77] + "..."
    raise UserError(f"unknown target '{shown}'; give {valid_targets(record)}")


def question_target(text: str, record: RunRecord | None = None) -> str | None:
    """The TARGET a plain-words question is about, or None when it names none: the
    run's own cells first, then the steering parser's one text rule for the rest.

    A cell string wins (with ``record``: also any evaluated cell written in the text, e.g.
    a photonic ``h=64,32;k=4;bits=6``), then ``fN``, ``pN`` (``partition 5``), ``rN``
    (``round 3``).
    """
    if record is not None:
        for arch in sorted(record.by_arch, key=len, reverse=True):
            if arch in text:
                return arch
    return text_target(text) or None


# --------------------------------------------------------------------------- cells


def lineage(record: RunRecord, arch: str) -> list[dict[str, Any]]:
    """The cell and its ancestors, each once, nearest first (breadth-first over parents)."""
    out, seen, queue = [], {arch}, [arch]
    while queue and len(out) < MAX_LINEAGE:
        a = queue.pop(0)
        cell = record.by_arch.get(a)
        if cell is None:
            out.append({"arch": a, "evaluated": False})
            continue
        out.append(cell_facts(record, cell))
        for p in cell["parents"]:
            if p not in seen:
                seen.add(p)
                queue.append(p)
    return out


def _cell_answer(record: RunRecord, arch: str) -> WhyAnswer:
    nodes = lineage(record, arch)
    me = nodes[0]
    ancestors = nodes[1:]
    seeds = [n["arch"] for n in ancestors if n.get("operator") == "seed"]
    if me["operator"] == "seed":
        seeds = [arch]
    outside = [n["arch"] for n in ancestors if not n.get("evaluated", True)]
    head = (
        (f"{me['front']} " if me["front"] else "")
        + f"{arch}: round {me['round']}, partition p{me['partition']}, "
        f"{me['operator']} by {me['designer']}"
    )
    lines = [head, f"  metrics: {metrics_text(record, me['metrics'])}; status {me['status']}"]
    if me["rationale"]:
        lines.append(f"  why: {me['rationale']}")
    lines += [f"  heuristic used: {h['id']}: {h['text']}" for h in me["heuristics_used"]]
    if me["operator"] == "seed":
        lines.append("  a seed: sampled uniformly inside its partition, it has no parents")
    else:
        lines.append(
            f"  lineage: {len(ancestors)} ancestor(s), {len(seeds)} seed(s)"
            + (f", {len(outside)} not evaluated in this run" if outside else "")
        )
        lines += lineage_lines(record, arch)
    data = {"cell": me, "ancestors": ancestors, "seeds": seeds}
    return WhyAnswer(kind="cell", target=arch, text="\n".join(lines), data=data)


# --------------------------------------------------------------------------- partitions


def _partition_answer(record: RunRecord, pid: int) -> WhyAnswer:
    part = next(p for p in record.partitions if int(p["id"]) == pid)
    cells = [c for c in record.cells if c["partition"] == pid]
    limits = partition_limits(record, part, cells)
    text, data = partition_text(record, part, cells, limits)
    return WhyAnswer(kind="partition", target=f"p{pid}", text=text, data=data)


# --------------------------------------------------------------------------- rounds


def _round_answer(record: RunRecord, rnd: int) -> WhyAnswer:
    facts = round_facts(record, rnd)
    return WhyAnswer(kind="round", target=f"r{rnd}", text=round_text(record, facts), data=facts)
