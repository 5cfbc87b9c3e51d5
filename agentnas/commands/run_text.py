"""How a search reads on the terminal where ``agentnas run`` and ``agentnas chat`` (and the
chat's views) print it: the opening line, the closing line, figures that may be unknown."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def fmt_value(v: Any, spec: str) -> str:
    """``v`` formatted with ``spec``; ``–`` where it is not known (None)."""
    return "–" if v is None else format(v, spec)


def llm_label(spec: str) -> str:
    """The ``--llm`` setting as the user reads it."""
    return "offline policy (no LLM)" if spec == "offline" else spec


def new_run_dir(out: Path | None) -> Path:
    """``--out``, or ``runs/<timestamp>`` when it is not given."""
    return out or Path("runs") / time.strftime("%Y%m%d-%H%M%S")


def start_line(command: str, cfg: Any, run_dir: Path) -> str:
    """What a new run is about to do (``command``: ``agentnas run`` or ``agentnas chat``)."""
    reuse = (
        f", reusing earlier evaluations from {len(cfg.reuse_evaluations)} run(s) as model data"
        if getattr(cfg, "reuse_evaluations", None)
        else ""
    )
    return (
        f"{command}: {cfg.space} / {cfg.dataset or 'default dataset'} / {cfg.hardware}, "
        f"budget {cfg.budget}, {cfg.rounds} rounds, llm: {llm_label(cfg.llm)}{reuse} → {run_dir}"
    )


def done_line(summary: dict[str, Any], run_dir: Path) -> str:
    """The figures of a finished run (``summary.json``) in one line; attempts that failed
    or were infeasible (they spent budget too) are counted beside the evaluations."""
    lost = int(summary.get("attempted", summary["evaluations"])) - int(summary["evaluations"])
    failed = f" (+{lost} failed or infeasible)" if lost > 0 else ""
    return (
        f"done: {summary['evaluations']} evaluations{failed}, front {summary['front_size']}, "
        f"HV ratio {fmt_value(summary['hv_ratio'], '.4f')}, "
        f"IGD {fmt_value(summary['igd'], '.4f')}, LLM: {summary['llm']}, files in {run_dir}/"
    )
