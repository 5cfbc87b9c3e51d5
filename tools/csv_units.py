"""Column names with units and 4-significant-digit values for a run's CSV files.

Metrics keep one internal name everywhere (``energy_mj``, ``latency_ms``, …, so
backends never mix units); the files a user reads show each space's natural unit in the
column name. For ``photonic-mlp`` (energies of nJ, latencies of ns): ``energy_nj`` and
every ``energy_<component>_nj`` / ``ref_<device>_energy_nj``, ``latency_ns``,
``accuracy_pct`` / ``robust_accuracy_pct`` / ``clean_accuracy_pct`` /
``robust_accuracy_std_pct``, ``degradation_pp`` (percentage points), and counts
(``mzi_count``, ``macs``, ``params``) as integers. :func:`metrics_from_row` reads such a
row back into internal names and units.
"""

from __future__ import annotations

from collections.abc import Mapping

PERCENT = ("accuracy", "robust_accuracy", "clean_accuracy", "robust_accuracy_std")
COUNTS = ("mzi_count", "macs", "params")
SPACES_WITH_UNITS = ("photonic-mlp",)


def column(metric: str, space: str) -> tuple[str, float]:
    """(column name, factor from the internal value) of ``metric`` in ``space``'s CSVs."""
    if space not in SPACES_WITH_UNITS:
        return metric, 1.0
    if metric.endswith("_mj"):
        return metric.removesuffix("_mj") + "_nj", 1e6
    if metric == "latency_ms":
        return "latency_ns", 1e6
    if metric in PERCENT:
        return f"{metric}_pct", 1.0
    if metric == "degradation":
        return "degradation_pp", 1.0
    return metric, 1.0


def sig4(value: float) -> str:
    """4 significant digits, plain notation where it is short (``356.4``, ``0.03009``)."""
    v = float(f"{value:.4g}")
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def cell(metric: str, value: object, space: str) -> object:
    """A metric's value as written in ``space``'s CSVs (unchanged for other spaces)."""
    if space not in SPACES_WITH_UNITS or not isinstance(value, int | float):
        return value
    if metric in COUNTS:
        return str(round(float(value)))
    return sig4(float(value) * column(metric, space)[1])


def metrics_from_row(row: Mapping[str, str], space: str) -> dict[str, float]:
    """The numeric columns of a CSV row under their internal names and units."""
    back: dict[str, tuple[str, float]] = {}
    if space in SPACES_WITH_UNITS:
        for name in row:
            if name.endswith("_nj"):
                back[name] = (name.removesuffix("_nj") + "_mj", 1e-6)
            elif name == "latency_ns":
                back[name] = ("latency_ms", 1e-6)
            elif name.endswith("_pct"):
                back[name] = (name.removesuffix("_pct"), 1.0)
            elif name == "degradation_pp":
                back[name] = ("degradation", 1.0)
    out: dict[str, float] = {}
    for name, text in row.items():
        try:
            value = float(text)
        except (TypeError, ValueError):
            continue
        key, factor = back.get(name, (name, 1.0))
        out[key] = value * factor
    return out
