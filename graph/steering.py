"""Applying steering actions at a round boundary: pure, so a resumed run re-applies
exactly what the interrupted one did.

The state keeps what binds the search from now on: ``constraints`` (one per metric, the
newest wins), the user's ``rules`` (avoid/prefer an operation), ``focus`` and ``frozen``
partitions, the limits, and ``paused``. Heuristic actions come back as a
:class:`~agentnas.agents.schemas.ReflectionResult` for the knowledge base (source
"user"); avoid/prefer rules are stored there too, as heuristics in words carrying the
rule tag the offline policy reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agentnas.agents.hard_rules import Constraint, OpRule
from agentnas.agents.schemas import NewHeuristic, ReflectionResult, Revision
from agentnas.agents.steering import parse_command
from agentnas.tools.spaces.base import SlotSpace

STEER_FILE = "steer.jsonl"
SCRIPT_FILE = "steering.txt"  # a chat's lines that moved the run: its ``chat --script`` replay


def record_script_line(run_dir: Path, line: str) -> None:
    """Append one chat line that moved the run (applied actions, ``continue``, ``/quit``)
    to RUN_DIR/steering.txt. Read back with ``chat --script``, the file moves every pause
    the same way again: each of its lines is read at the pause it was typed at, and the
    questions and read-only commands in between change nothing, so they are left out."""
    with (Path(run_dir) / SCRIPT_FILE).open("a", encoding="utf-8") as fh:
        fh.write(" ".join(line.split()) + "\n")
        fh.flush()


def read_steer_file(run_dir: Path, seen: int) -> tuple[list[Any], list[str], int]:
    """Actions appended to RUN_DIR/steer.jsonl since line ``seen``: (actions, bad lines,
    new seen). A line is one action as JSON. A last line without its newline is still
    being written by ``agentnas steer``: it is left for the next round boundary instead of
    being counted as read (and lost)."""
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
            commands.append(parse_command(json.loads(line)))
        except (json.JSONDecodeError, ValidationError, TypeError):
            bad.append(line[:200])
    return commands, bad, len(lines)


def script_from_steers(steers: list[dict[str, Any]]) -> str:
    """A ``chat --script`` that applies the traced ``steer`` events (``{"round",
    "command"}``, as ``agentnas steer`` sent them to an ``agentnas run``) at the same
    pauses: one line per pause up to the last steered one, a JSON list of the round's
    actions or ``continue``. Empty when nothing was steered."""
    by_round: dict[int, list[Any]] = {}
    for e in steers:
        by_round.setdefault(int(e["round"]), []).append(e["command"])
    if not by_round:
        return ""
    lines = [
        json.dumps(by_round[r], separators=(",", ":")) if r in by_round else "continue"
        for r in range(max(by_round) + 1)
    ]
    return "".join(line + "\n" for line in lines)


def script_actions(line: str) -> list[Any] | None:
    """The actions of a script line written by :func:`script_from_steers` (a JSON list of
    actions, or one action), or None when the line is not one."""
    text = line.strip()
    if not text.startswith(("[", "{")):
        return None
    try:
        items = json.loads(text)
        items = items if isinstance(items, list) else [items]
        return [parse_command(item) for item in items]
    except (json.JSONDecodeError, ValidationError, TypeError):
        return None


def constraints_of(state: dict[str, Any]) -> list[Constraint]:
    return [Constraint.model_validate(c) for c in state.get("constraints") or []]


def rules_of(state: dict[str, Any]) -> list[OpRule]:
    return [OpRule.model_validate(r) for r in state.get("rules") or []]


def rule_heuristic(rule: OpRule, space: Any) -> NewHeuristic:
    """An avoid/prefer rule as a KB heuristic in words; a one-edge rule carries the
    ``[rule p*: …]`` tag the offline policy's rule reader
    (:func:`~agentnas.agents.offline_policy.parse_rule`) weighs edits with."""
    plural = "s" if len(rule.edges) > 1 else ""
    if not rule.edges:
        where = "anywhere" if rule.op and not _in_every_slot(rule, space) else "on any edge"
    elif rule.edges == ["3<-0", "3<-1", "3<-2"]:
        where = "near the output (edges 3<-0, 3<-1, 3<-2)"
    elif not any("<-" in e for e in rule.edges):  # a space of named slots (photonic-mlp)
        where = f"in slot{plural} {', '.join(rule.edges)}"
    else:
        where = f"on edge{plural} {', '.join(rule.edges)}"
    verb = "Avoid" if rule.kind == "avoid" else "Prefer"
    # the offline policy's rule tag names an NB201 edge
    one_edge = len(rule.edges) == 1 and "<-" in rule.edges[0]
    tag = f" [rule p*: e{rule.edges[0]}={rule.op}]" if one_edge else ""
    return NewHeuristic(
        text=f"{verb} {rule.op} {where} (user rule){tag}",
        polarity="negative" if rule.kind == "avoid" else "positive",
    )


def _in_every_slot(rule: OpRule, space: Any) -> bool:
    """Whether the rule's operation is one the space places in any of its slots (a
    :class:`~agentnas.tools.spaces.base.SlotSpace`'s operation; worded "on any edge")."""
    return isinstance(space, SlotSpace) and rule.op in space.vocabulary().operations


def _rules_after(rules: list[dict[str, Any]], c: Any) -> list[dict[str, Any]]:
    if c.action == "clear_rules":
        return [r for r in rules if c.op and r["op"] != c.op]
    new = c.rule().model_dump()
    # the newest word on an operation wins: "prefer X" replaces "avoid X" on the same edges
    kept = [r for r in rules if not (r["op"] == new["op"] and r["edges"] == new["edges"])]
    return [*kept, new]


def _partitions(c: Any, focus: list[int], frozen: list[int], n: int) -> tuple[list[int], list[int]]:
    ids = {p for p in c.partitions if 0 <= p < n}
    if c.action == "focus":
        return sorted(ids), frozen
    if c.action == "freeze":
        return focus, sorted(set(frozen) | ids)
    return focus, (sorted(set(frozen) - ids) if ids else [])  # unfreeze


def apply_commands(
    state: dict[str, Any], commands: list[Any], n_partitions: int, space: Any
) -> tuple[dict[str, Any], ReflectionResult]:
    """State updates for ``commands`` and the knowledge-base changes they ask for (rules
    are worded in ``space``'s vocabulary)."""
    limits = dict(state["limits"])
    focus = list(state.get("focus", []))
    frozen = list(state.get("frozen", []))
    constraints = [dict(c) for c in state.get("constraints") or []]
    rules = [dict(r) for r in state.get("rules") or []]
    done = bool(state.get("done"))
    paused = bool(state.get("paused"))
    kb = ReflectionResult()
    for c in commands:
        a = c.action
        if a == "constrain":
            new = c.constraint().model_dump()
            constraints = [x for x in constraints if x["metric"] != new["metric"]] + [new]
        elif a == "clear_constraint":
            constraints = [x for x in constraints if c.metric and x["metric"] != c.metric]
        elif a in ("avoid", "prefer", "clear_rules"):
            rules = _rules_after(rules, c)
            if a != "clear_rules":
                kb.add.append(rule_heuristic(c.rule(), space))
        elif a in ("focus", "freeze", "unfreeze"):
            focus, frozen = _partitions(c, focus, frozen, n_partitions)
        elif a == "add_heuristic":
            part = c.partitions[0] if len(c.partitions) == 1 else None
            kb.add.append(NewHeuristic(text=c.text, polarity=c.polarity, partition=part))
        elif a == "edit_heuristic":
            kb.revise.append(Revision(id=c.id, text=c.text))
        elif a == "retire_heuristic":
            kb.retire.append(c.id)
        elif a in ("extend_budget", "extend_rounds"):
            limits["budget" if a == "extend_budget" else "rounds"] += c.amount
            done = False
        elif a in ("pause", "resume"):
            paused = a == "pause"
        elif a == "stop":
            done, paused = True, False
    binding = (constraints, rules) != (state.get("constraints") or [], state.get("rules") or [])
    return {
        "rules_round": state.get("round", 0) + 1 if binding else state.get("rules_round", 0),
        "limits": limits,
        "focus": focus,
        "frozen": frozen,
        "constraints": constraints,
        "rules": rules,
        "paused": paused,
        "done": done,
    }, kb
