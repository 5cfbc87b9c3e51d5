"""``agentnas pick``: the best evaluated cell that satisfies conditions such as
``latency_ms < 3`` (highest accuracy; ties broken by the other objectives, in order).

Conditions name a metric (``latency_ms``), a column of the run's CSV files in its unit
(``energy_nj`` on ``photonic-mlp``) or an objective (``latency``), a comparison
(``< <= > >= = !=``) and a number, optionally with a unit (``3 ms``, ``0.003 s``,
``5 mJ``, ``20 nJ``, ``93 %``); several are joined by ``and`` or commas.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentnas.graph.run_record import RunRecord
from agentnas.tools.csv_units import column
from agentnas.tools.errors import UserError
from agentnas.tools.objectives import OBJECTIVES

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "!=": operator.ne,
    "==": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
    "=": operator.eq,
}
# unit -> (metric it measures, factor to that metric's unit)
_UNITS: dict[str, tuple[str, float]] = {
    "ms": ("latency_ms", 1.0),
    "s": ("latency_ms", 1000.0),
    "us": ("latency_ms", 1e-3),
    "µs": ("latency_ms", 1e-3),
    "mj": ("energy_mj", 1.0),
    "j": ("energy_mj", 1000.0),
    "uj": ("energy_mj", 1e-3),
    "µj": ("energy_mj", 1e-3),
    "nj": ("energy_mj", 1e-6),
    "pj": ("energy_mj", 1e-9),
    "ns": ("latency_ms", 1e-6),
    "%": ("accuracy", 1.0),
}
_CONDITION = re.compile(
    r"^\s*([A-Za-z_][\w]*)\s*(<=|>=|!=|==|<|>|=)\s*(-?\d+(?:\.\d*)?(?:e-?\d+)?)\s*([a-zµ%]*)\s*$",
    re.I,
)
EXAMPLE = "latency_ms < 3 and accuracy >= 90"


@dataclass(frozen=True)
class Condition:
    metric: str
    op: str
    value: float

    def holds(self, metrics: dict[str, Any]) -> bool:
        v = metrics.get(self.metric)
        return v is not None and _OPS[self.op](float(v), self.value)

    @property
    def text(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


def columns(record: RunRecord) -> list[str]:
    """What a condition can name in this run: every metric its cells have, and round,
    partition."""
    return [*sorted({k for c in record.cells for k in c["metrics"]}), "partition", "round"]


def parse_conditions(text: str, record: RunRecord) -> list[Condition]:
    parts = [p for p in re.split(r"\s*(?:,|\band\b|&&)\s*", text.strip()) if p]
    if not parts:
        raise UserError(f"--where needs a condition, e.g. '{EXAMPLE}'")
    known = columns(record)
    names = {o.name: o.metric for o in OBJECTIVES.values()}
    # the CSV files' column names (energy_nj, accuracy_pct on photonic-mlp) in their units
    space = str(record.config.get("space") or "")
    in_csv = {column(k, space)[0]: (k, column(k, space)[1]) for k in known}
    out = []
    for part in parts:
        m = _CONDITION.match(part)
        if not m:
            raise UserError(f"cannot read condition '{part}'; write it like '{EXAMPLE}'")
        metric, scale = names.get(m.group(1), m.group(1)), 1.0
        if metric not in known and metric in in_csv:
            metric, scale = in_csv[metric]
        if metric not in known:
            shown = sorted({*known, *in_csv})
            raise UserError(
                f"unknown column '{m.group(1)}' in '{part}'; this run has: {', '.join(shown)}"
            )
        value = float(m.group(3)) / scale
        unit = m.group(4).lower()
        if unit:
            value *= scale  # a unit says the number's scale
            if unit not in _UNITS or _UNITS[unit][0] != metric:
                fits = [u for u, (mm, _) in _UNITS.items() if mm == metric]
                raise UserError(
                    f"unit '{m.group(4)}' does not fit {metric} in '{part}'; "
                    f"accepted: {', '.join(fits) or 'none (a plain number)'}"
                )
            value *= _UNITS[unit][1]
        out.append(Condition(metric, m.group(2), value))
    return out


def _values(cell: dict[str, Any]) -> dict[str, Any]:
    return {**cell["metrics"], "partition": cell["partition"], "round": cell["round"]}


def pick(record: RunRecord, conditions: list[Condition]) -> dict[str, Any]:
    """The best cell satisfying every condition (failed/infeasible cells excluded), or a
    UserError that says how close the run came."""
    usable = [c for c in record.cells if c["status"] not in ("failed", "infeasible")]
    fits = [c for c in usable if all(k.holds(_values(c)) for k in conditions)]
    if not fits:
        raise UserError(_closest(usable, conditions))
    first = next((o for o in record.objectives if o.metric == "accuracy"), record.objectives[0])
    rest = [o for o in record.objectives if o is not first]

    def key(c: dict[str, Any]) -> tuple[float, ...]:
        return tuple(float(c["metrics"].get(o.metric, 0.0)) * o.sign for o in [first, *rest])

    return min(fits, key=key)


def _closest(cells: list[dict[str, Any]], conditions: list[Condition]) -> str:
    what = " and ".join(k.text for k in conditions)
    for k in conditions:
        have = [float(c["metrics"][k.metric]) for c in cells if k.metric in c["metrics"]]
        if have and not any(_OPS[k.op](v, k.value) for v in have):
            best = min(have) if k.op in ("<", "<=") else max(have)
            return f"no evaluated cell satisfies {what}: the closest {k.metric} is {best:.4g}"
    return f"no evaluated cell satisfies {what} (each condition alone is met by some cell)"
