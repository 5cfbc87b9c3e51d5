"""A finished (or running) run read back from its folder: the cells it evaluated, its
partitions, its rounds, its steering and its knowledge-base changes.

``why``, ``trace --arch``, ``report``, ``pick``, ``export`` and ``runs`` all read a run
through :func:`load_run`, so they agree on what the run holds. The trace is the source
(it has every field of every evaluation, with full precision); ``candidates.csv`` adds the
``status`` of each cell where it has that column. Reading never writes: a run folder
that is still running can be read at any time.
"""

from __future__ import annotations

import csv
import json
import shlex
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from agentnas.graph.config import DEFAULT_SPACE
from agentnas.graph.trace import read_trace
from agentnas.tools.errors import UserError
from agentnas.tools.folder_format import check_format
from agentnas.tools.objectives import Objective, parse_objectives
from agentnas.tools.spaces.registry import default_objectives


@dataclass
class RunRecord:
    """What one run folder holds, in the order the run made it.

    ``cells``: one dict per evaluated cell (the state's Candidate fields plus ``order``,
    its place in ``candidates.csv``, and ``status``); ``rounds``: the ``select`` event of
    each round (the last one where a resumed run wrote it twice); ``heuristics``: id ->
    text of every heuristic the run loaded, used or wrote.
    """

    run_dir: Path
    config: dict[str, Any]
    objectives: list[Objective]
    events: list[dict[str, Any]]
    cells: list[dict[str, Any]]
    partitions: list[dict[str, Any]]
    partition_feature: str
    rounds: list[dict[str, Any]]
    heuristics: dict[str, str]
    summary: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_arch: dict[str, dict[str, Any]] = {c["arch"]: c for c in self.cells}

    @cached_property
    def front(self) -> list[str]:
        """The current front (the last round's), ordered like ``front.csv``: by the first
        objective, best first, then by the others."""
        last = self.rounds[-1].get("front") or [] if self.rounds else []
        members = [self.by_arch[a] for a in last if a in self.by_arch]
        members.sort(key=self.sort_key)
        return [c["arch"] for c in members]

    def sort_key(self, cell: dict[str, Any]) -> tuple[float, ...]:
        """Objectives in the minimisation convention (best first when sorted)."""
        return tuple(float(cell["metrics"].get(o.metric, 0.0)) * o.sign for o in self.objectives)

    def front_label(self, arch: str) -> str | None:
        """``f1``, ``f2``, … for a member of the current front (1 = first row of front.csv)."""
        front = self.front
        return f"f{front.index(arch) + 1}" if arch in front else None

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == kind]

    @property
    def command(self) -> str:
        """The command that reproduces this run (same settings, same seed, new folder)."""
        return reproduce_command(self.config, self.run_dir)


def load_run(run_dir: Path | str) -> RunRecord:
    """Read ``RUN_DIR`` (trace.jsonl, config.json, candidates.csv, summary.json).

    Raises UserError when the folder is not a run folder.
    """
    run_dir = Path(run_dir)
    path = run_dir / "trace.jsonl"
    if not run_dir.is_dir():
        raise UserError(f"{run_dir} is not a folder; give a run folder (e.g. runs/<timestamp>)")
    if not path.exists():
        raise UserError(f"{run_dir} has no trace.jsonl; give a run folder (e.g. runs/<timestamp>)")
    check_format(run_dir, "run")
    events = read_trace(path)
    config = _read_json(run_dir / "config.json") or next(
        (e.get("config") or {} for e in events if e.get("event") == "run_start"), {}
    )
    summary = _read_json(run_dir / "summary.json") or {}
    names = summary.get("objectives") or config.get("objectives")
    if not names:
        names = list(default_objectives(config.get("space") or DEFAULT_SPACE))
    parts_event = next((e for e in reversed(events) if e.get("event") == "partitions"), {})
    return RunRecord(
        run_dir=run_dir,
        config=config,
        objectives=parse_objectives(list(names)),
        events=events,
        cells=_cells(events, _csv_rows(run_dir / "candidates.csv")),
        partitions=list(parts_event.get("partitions") or []),
        partition_feature=str(parts_event.get("feature", "")),
        rounds=_rounds(events),
        heuristics=_heuristic_texts(events),
        summary=summary,
    )


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{path} is not valid JSON; the run folder is damaged") from None
    return data if isinstance(data, dict) else None


def _csv_rows(path: Path) -> dict[str, dict[str, str]]:
    """arch -> its row of candidates.csv (order, status where the column exists)."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["arch"]: r for r in csv.DictReader(fh) if r.get("arch")}


def _cells(events: list[dict[str, Any]], rows: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """Evaluation events as cells, first evaluation of each cell only (a resumed run may
    have traced a re-run step twice), in ``candidates.csv`` order: parallel Designers
    finish in any order, the state (and the CSV) keeps task order. Cells evaluated after
    the CSV was last written follow in trace order."""
    out: dict[str, dict[str, Any]] = {}
    for e in events:
        if e.get("event") != "evaluation" or e.get("arch") in out:
            continue
        arch = str(e["arch"])
        row = rows.get(arch) or {}
        out[arch] = {
            "order": len(out),
            "arch": arch,
            "metrics": dict(e.get("metrics") or {}),
            "partition": e.get("partition"),
            "parents": list(e.get("parents") or []),
            "round": int(e.get("round", 0)),
            "operator": str(e.get("operator", "")),
            "rationale": str(e.get("rationale", "")),
            "heuristics_used": list(e.get("heuristics_used") or []),
            "designer": str(e.get("designer", "")),
            "status": row.get("status") or str(e.get("status") or "ok"),
        }

    def place(c: dict[str, Any]) -> tuple[int, int]:
        order = (rows.get(c["arch"]) or {}).get("order", "")
        return (0, int(order)) if order.isdigit() else (1, c["order"])

    cells = sorted(out.values(), key=place)
    for i, c in enumerate(cells):
        c["order"] = i
    return cells


def _rounds(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_round: dict[int, dict[str, Any]] = {}
    for e in events:
        if e.get("event") == "select":
            by_round[int(e.get("round", 0))] = e
    return [by_round[r] for r in sorted(by_round)]


def _heuristic_texts(events: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in events:
        kind = e.get("event")
        if kind == "kb_loaded":
            items = e.get("heuristics") or []
        elif kind == "kb_changes":
            items = e.get("changes") or []
        elif kind == "design_context":
            items = e.get("heuristics") or []
        else:
            continue
        for h in items:
            if isinstance(h, dict) and h.get("id") and h.get("text"):
                out[str(h["id"])] = str(h["text"])
    return out


def reproduce_command(config: dict[str, Any], run_dir: Path | None = None) -> str:
    """``agentnas run …`` with the settings of ``config`` (a RunConfig dump). A run that
    asked a model is reproduced by replaying its recorded answers (``replay:trace.jsonl``),
    so the command needs no endpoint and gives the same cells. A chat whose lines moved
    the run (RUN_DIR/steering.txt) is reproduced by ``agentnas chat … --script`` that
    file: the same steering at the same pauses."""
    from agentnas.graph.steering import SCRIPT_FILE

    config = dict(config)
    llm = str(config.get("llm") or "offline")
    if run_dir is not None and llm.startswith("openai:"):
        config["llm"] = f"replay:{Path(run_dir) / 'trace.jsonl'}"
    script = Path(run_dir) / SCRIPT_FILE if run_dir is not None else None
    steered = script is not None and script.is_file() and script.stat().st_size > 0
    parts = ["agentnas chat" if steered else "agentnas run"]
    if steered:
        parts.append(f"--script {shlex.quote(str(script))}")
    for key in ("space", "dataset", "hardware"):
        if config.get(key):
            parts.append(f"--{key} {config[key]}")
    if config.get("objectives"):
        parts.append("--objectives " + ",".join(config["objectives"]))
    for key in ("accuracy", "llm", "rounds", "budget", "seed", "partitions"):
        if config.get(key) is not None:
            parts.append(f"--{key.replace('_', '-')} {config[key]}")
    for key in ("max_llm_calls", "token_budget", "cost_budget", "time_budget", "price_in",
                "price_out"):  # fmt: skip
        if config.get(key) is not None:
            parts.append(f"--{key.replace('_', '-')} {config[key]}")
    if config.get("on_llm_failure", "stop") != "stop":
        parts.append(f"--on-llm-failure {config['on_llm_failure']}")
    if config.get("dedupe_isomorphic"):
        parts.append("--dedupe-isomorphic")
    for k, v in (config.get("backend_options") or {}).items():
        parts.append(f"--backend-option {k}={v}")
    if config.get("kb_dir"):
        parts.append(f"--kb {config['kb_dir']}")
    return " ".join(parts)
