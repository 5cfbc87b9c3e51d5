"""Questions typed while steering (``/why TARGET``, "why is partition 5 slow?"): routed to
the run's question answerer (:mod:`agentnas.graph.why`, the same one ``agentnas why``
uses), read from the run folder, never stored and never changing the run.

A question without a TARGET (cell, ``fN``, ``pN``, ``rN``) is answered with the forms
that have one and the current front's first members, so even a vague question gets an
answer that names real cells.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentnas.tools.errors import UserError

FRONT_NAMED = 3  # front members named in the answer to a question without a target


def _front_hint(ctx: Any) -> str:
    rows = ctx.front[:FRONT_NAMED]
    if not rows:
        return "no cell has been evaluated yet"
    named = "; ".join(
        f"f{i} {r['arch']} ("
        + ", ".join(f"{k} {v:.4g}" for k, v in r.items() if isinstance(v, float))
        + ")"
        for i, r in enumerate(rows, 1)
    )
    return f"current front: {named}"


def answer_question(run_dir: Path, question: Any, ctx: Any) -> str:
    """The answer to one :class:`~agentnas.agents.steering_commands.Question`, from the
    run folder (an unknown target: the message listing the valid ones)."""
    from agentnas.graph.run_record import load_run
    from agentnas.graph.why import answer, question_target

    try:
        record = load_run(run_dir)
        target = str(question.target) or question_target(question.text, record) or ""
        if target:
            return answer(record, target).text
    except UserError as exc:
        return f"{exc}; {_front_hint(ctx)}"
    return (
        "ask about a cell, fN (N-th front member), pN (partition) or rN (round), e.g. "
        f"'/why f1' or 'why is partition 2 slow?'; {_front_hint(ctx)}"
    )
