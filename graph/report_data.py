"""The data every report plot draws, read from the run's own files.

Plots take what :func:`read_report_data` returns, which is read from ``front.csv``,
``rounds.csv`` and ``candidates.csv`` (the files a user opens), never from a second
computation: the picture and the tables cannot disagree. The fronts of earlier rounds are
the non-dominated cells of ``candidates.csv`` evaluated up to that round (the last one is
``front.csv``'s set).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agentnas.graph.config import DEFAULT_SPACE
from agentnas.graph.run_record import RunRecord
from agentnas.tools.csv_units import metrics_from_row
from agentnas.tools.errors import UserError
from agentnas.tools.objectives import OBJECTIVES, Objective


def read_csv(path: Path, space: str = "") -> list[dict[str, Any]]:
    """A CSV as dicts, numbers as floats (empty cells as None), unit-named columns
    (``energy_nj``, ``accuracy_pct`` …) back under their metric names and units."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [{**{k: _value(v) for k, v in r.items()}, **metrics_from_row(r, space)} for r in rows]


def _value(v: str | None) -> Any:
    if v is None or v == "":
        return None
    try:
        return float(v)
    except ValueError:
        return v


_CONSTRAINT = re.compile(r"^\s*([A-Za-z_]+)\s*(<=|>=|<|>|=)\s*(-?[\d.]+(?:e-?\d+)?)", re.I)


@dataclass(frozen=True)
class ConstraintLine:
    """A bound drawn on a plot: ``metric op value`` in the metric's unit."""

    metric: str
    op: str
    value: float

    @property
    def text(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


def parse_constraints(text: str | None) -> list[ConstraintLine]:
    """``"latency_ms < 3; accuracy >= 93"`` -> lines (objective names become metrics)."""
    out = []
    by_name = {o.name: o.metric for o in OBJECTIVES.values()}
    for part in (text or "").split(";"):
        m = _CONSTRAINT.match(part)
        if m:
            metric = by_name.get(m.group(1), m.group(1))
            out.append(ConstraintLine(metric, m.group(2), float(m.group(3))))
    return out


@dataclass
class ReportData:
    """Rows of the run's CSVs and what the plots derive from them."""

    objectives: list[Objective]
    candidates: list[dict[str, Any]]
    front: list[dict[str, Any]]
    rounds: list[dict[str, Any]]
    constraints: list[ConstraintLine] = field(default_factory=list)
    exact: np.ndarray | None = None  # natural units, columns = objectives
    round_members: dict[int, list[str]] = field(default_factory=dict)  # round -> its front
    front_constrained: list[dict[str, Any]] = field(default_factory=list)  # where a run has it
    assumptions: list[str] = field(default_factory=list)  # hardware assumptions, one line each

    def round_front(self, rnd: int) -> list[dict[str, Any]]:
        """The ``candidates.csv`` rows of the front after round ``rnd``."""
        members = set(self.round_members.get(rnd, []))
        return [c for c in self.candidates if c.get("arch") in members]

    def column(self, rows: list[dict[str, Any]], metric: str) -> np.ndarray:
        return np.array([float(r[metric]) for r in rows if r.get(metric) is not None])

    @property
    def round_numbers(self) -> list[int]:
        return [int(r["round"]) for r in self.rounds]


def read_report_data(record: RunRecord) -> ReportData:
    d = record.run_dir
    if not (d / "front.csv").exists() or not (d / "candidates.csv").exists():
        raise UserError(f"{d} has no front.csv/candidates.csv yet; a report needs a round")
    space = str(record.config.get("space") or DEFAULT_SPACE)
    rounds = read_csv(d / "rounds.csv")
    if not rounds:  # a run from before rounds.csv: its select events hold the same figures
        rounds = [
            {k: v for k, v in r.items() if k not in ("front", "archives")} for r in record.rounds
        ]
    in_force = next((r.get("constraint") for r in reversed(rounds) if r.get("constraint")), None)
    return ReportData(
        objectives=record.objectives,
        candidates=read_csv(d / "candidates.csv", space),
        front=read_csv(d / "front.csv", space),
        rounds=rounds,
        constraints=parse_constraints(in_force if isinstance(in_force, str) else None),
        exact=exact_front_points(record),
        round_members={int(r["round"]): list(r.get("front") or []) for r in record.rounds},
        front_constrained=read_csv(d / "front_constrained.csv", space),
        assumptions=_assumptions(record.config),
    )


def _assumptions(cfg: dict[str, Any]) -> list[str]:
    """What the hardware model assumes that a plot should say (optical runs: the phase
    shifter technology and the electronic references); empty for other backends."""
    from agentnas.tools.hardware.optical import energy_assumptions

    return energy_assumptions(str(cfg.get("hardware") or ""), cfg.get("backend_options"))


def exact_front_points(record: RunRecord) -> np.ndarray | None:
    """The exact front in natural units when it is cheap to know: a space with an exact
    front (:mod:`agentnas.tools.exact_front`) and table data for every objective (no
    measuring backend is run for a report)."""
    from agentnas.tools.exact_front import SPACES_WITH_EXACT_FRONT, exact_front
    from agentnas.tools.hardware.registry import get_backend
    from agentnas.tools.spaces.registry import resolve_dataset

    cfg = record.config
    space = cfg.get("space", DEFAULT_SPACE)
    if space not in SPACES_WITH_EXACT_FRONT or not cfg.get("hardware"):
        return None
    try:
        backend = get_backend(cfg["hardware"], **(cfg.get("backend_options") or {}))
        hw = [o.metric for o in record.objectives if o.source == "hardware"]
        if any(backend.all_values(m) is None for m in hw):
            return None
        dataset = resolve_dataset(space, cfg.get("dataset"))
        ef = exact_front(space, dataset, record.objectives, backend)
    except UserError:
        return None
    return ef.natural()
