"""Applying steering commands at a round boundary: pure, so a resumed run re-applies
exactly what the interrupted one did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agentnas.agents.steering import SteerCommand

STEER_FILE = "steer.jsonl"


def read_steer_file(run_dir: Path, seen: int) -> tuple[list[SteerCommand], list[str], int]:
    """Commands appended to RUN_DIR/steer.jsonl since line ``seen``: (commands, bad
    lines, new seen). A line is a SteerCommand as JSON, or {"instruction": text}. A last
    line without its newline is still being written by ``agentnas steer``: it is left for
    the next round boundary instead of being counted as read (and lost)."""
    path = Path(run_dir) / STEER_FILE
    if not path.exists():
        return [], [], seen
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if lines and not text.endswith("\n"):
        lines.pop()
    commands, bad = [], []
    for line in lines[seen:]:
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if isinstance(data, dict) and set(data) == {"instruction"}:
                data = {"action": "instruct", "text": str(data["instruction"])}
            commands.append(SteerCommand.model_validate(data))
        except (json.JSONDecodeError, ValidationError, TypeError):
            bad.append(line[:200])
    return commands, bad, len(lines)


def apply_commands(
    state: dict[str, Any], commands: list[SteerCommand], n_partitions: int
) -> tuple[dict[str, Any], list[SteerCommand]]:
    """State updates for ``commands`` and the heuristics to add to the KB."""
    limits = dict(state["limits"])
    instructions = list(state.get("instructions", []))
    focus = list(state.get("focus", []))
    done = bool(state.get("done"))
    heuristics = []
    for c in commands:
        if c.action == "instruct" and c.text.strip():
            instructions.append(c.text.strip())
        elif c.action == "focus":
            focus = sorted({p for p in c.partitions if 0 <= p < n_partitions})
        elif c.action == "add_heuristic" and c.text.strip():
            heuristics.append(c)
        elif c.action == "extend_budget":
            limits["budget"] += c.amount
            done = False
        elif c.action == "extend_rounds":
            limits["rounds"] += c.amount
            done = False
        elif c.action == "stop":
            done = True
    return {
        "limits": limits,
        "instructions": instructions,
        "focus": focus,
        "done": done,
    }, heuristics
