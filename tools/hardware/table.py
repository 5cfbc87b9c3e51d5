"""Backends that look NB201 metrics up in a table, and ``table:PATH`` for a user's CSV.

:class:`NB201TableBackend` holds one float array per metric, indexed by the NAS-Bench-201
benchmark index 0..15,624, so a single lookup answers ``evaluate``, ``evaluate_many`` is a
vectorised gather and ``all_values`` hands exact-front code the whole column at once. The
shipped HW-NAS-Bench and HW-NAS-Bench-360 backends are instances of it; so is a user's CSV.

A user's CSV (``table:PATH``) is keyed by ``arch_str`` (a cell string, any valid spelling)
or ``arch_idx`` (the benchmark index) — per row, one or the other or both if they agree —
and carries ``latency_ms`` and/or ``energy_mj`` (finite, >= 0); other columns are ignored.
Every problem is refused with a one-line :class:`UserError` naming the row (``row N``
counts data rows from 1, the header not included) and column, because a search that runs
on a silently mangled table produces a wrong front with no visible symptom.

A table that holds only some cells (at least :data:`~agentnas.tools.hardware.cell_model.
MIN_MEASURED`) is a :class:`PredictedTableBackend`: a model fitted on the measured cells
(:mod:`agentnas.tools.hardware.cell_model`) predicts the rest, every value is labelled
``measured`` or ``predicted``, and there is no exact front unless the user names the
device's full table as ``reference`` (``--backend-option reference=FULL.csv`` or a
backend name such as ``hwnasbench:fpga``), against which fronts are then scored.
Smaller tables refuse every cell they do not hold.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import numpy as np

from agentnas.tools.errors import UserError
from agentnas.tools.hardware.base import BackendInfo, HardwareBackend
from agentnas.tools.hardware.cell_model import MIN_MEASURED, CellModel
from agentnas.tools.hardware.registry import Family, register
from agentnas.tools.spaces.nb201 import N_CELLS, all_cells, normalize

KEY_COLUMNS: tuple[str, ...] = ("arch_str", "arch_idx")
METRIC_COLUMNS: tuple[str, ...] = ("latency_ms", "energy_mj")
_NAN_SPELLINGS = frozenset({"", "nan", "na", "n/a", "null", "none", "-"})


@cache
def _index_of() -> dict[str, int]:
    """Canonical cell string -> benchmark index (built once per process)."""
    return {s: i for i, s in enumerate(all_cells())}


def cell_index(arch: str) -> int:
    """Benchmark index of a cell string in any valid spelling; UserError if malformed."""
    index = _index_of().get(arch)  # fast path: already canonical
    return index if index is not None else _index_of()[normalize(arch)]


class NB201TableBackend(HardwareBackend):
    """Metrics looked up by NB201 index.

    ``values`` maps each metric (``latency_ms`` in ms, ``energy_mj`` in mJ) to an array of
    15,625 floats; ``covered`` (optional) marks the cells the table holds — cells outside it
    are refused rather than guessed. ``note`` is appended to refusals, to say where a
    missing metric can be found instead.
    """

    spaces = ("nb201",)

    def __init__(
        self,
        name: str,
        values: dict[str, np.ndarray],
        source: str,
        covered: np.ndarray | None = None,
        note: str = "",
    ) -> None:
        for metric, column in values.items():
            if column.shape != (N_CELLS,):
                raise ValueError(f"{metric}: expected {N_CELLS} values, got {column.shape}")
        self.name = name
        self.metrics = tuple(values)
        self.source = source
        self.note = note
        self._values = {m: np.asarray(v, dtype=np.float64) for m, v in values.items()}
        self._covered = None if covered is None or covered.all() else covered.astype(bool)

    @property
    def n_covered(self) -> int:
        """How many of the 15,625 cells the table holds."""
        return N_CELLS if self._covered is None else int(self._covered.sum())

    def require(self, metrics: Iterable[str]) -> None:
        missing = [m for m in metrics if m not in self.metrics]
        if missing:
            extra = f"; {self.note}" if self.note else ""
            raise UserError(
                f"backend '{self.name}' has no data for {', '.join(missing)}; "
                f"it provides: {', '.join(self.metrics)}{extra}"
            )

    def _indices(self, archs: Iterable[str]) -> np.ndarray:
        archs = list(archs)
        idx = np.fromiter((cell_index(a) for a in archs), dtype=np.int64, count=len(archs))
        if self._covered is not None and not self._covered[idx].all():
            first = int(np.flatnonzero(~self._covered[idx])[0])
            raise UserError(
                f"cell {normalize(archs[first])} (NB201 index {idx[first]}) is not in "
                f"'{self.name}', which holds {self.n_covered} of {N_CELLS} cells (a table "
                f"of at least {MIN_MEASURED} measured cells gets the others predicted)"
            )
        return idx

    def evaluate(self, arch: str) -> dict[str, float]:
        i = int(self._indices([arch])[0])
        return {m: float(v[i]) for m, v in self._values.items()}

    def evaluate_many(self, archs: Iterable[str]) -> list[dict[str, float]]:
        idx = self._indices(archs)
        columns = {m: v[idx].tolist() for m, v in self._values.items()}
        return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]

    def all_values(self, metric: str) -> np.ndarray:
        """All 15,625 values in index order (a read-only view)."""
        self.require([metric])
        if self._covered is not None:
            raise UserError(
                f"'{self.name}' holds {self.n_covered} of {N_CELLS} cells; values for every "
                "cell (e.g. an exact front) need a table that covers all of them"
            )
        view = self._values[metric].view()
        view.flags.writeable = False
        return view


class PredictedTableBackend(NB201TableBackend):
    """A partial table: measured cells as given, every other cell predicted.

    ``measured`` marks the cells the user's table holds; ``models`` says how each metric
    was predicted; ``reference_backend`` (optional) is the device's full table, used only
    to score (the exact front, true values next to predicted ones), never to search."""

    def __init__(
        self,
        name: str,
        values: dict[str, np.ndarray],
        source: str,
        measured: np.ndarray,
        models: dict[str, CellModel],
        reference_backend: NB201TableBackend | None = None,
    ) -> None:
        super().__init__(name, values, source)
        self.measured = np.asarray(measured, dtype=bool)
        self.models = models
        self.predicted_metrics = tuple(models)
        self._reference = reference_backend
        self.reference = None if reference_backend is None else reference_backend.name

    @property
    def n_measured(self) -> int:
        return int(self.measured.sum())

    def metric_sources(self, arch: str) -> dict[str, str]:
        label = "measured" if self.measured[cell_index(arch)] else "predicted"
        return dict.fromkeys(self.predicted_metrics, label)

    def prediction_notes(self) -> dict[str, object]:
        return {
            "measured_cells": self.n_measured,
            "models": {m: model.describe() for m, model in self.models.items()},
        }

    def reference_metrics(self, arch: str) -> dict[str, float]:
        if self._reference is None:
            return {}
        values = self._reference.evaluate(arch)
        return {m: values[m] for m in self.predicted_metrics}

    def hardware_metrics(self, arch: str) -> dict[str, float]:
        """The cheap lookup a Designer may call (measured or predicted values)."""
        return self.evaluate(arch)

    def all_values(self, metric: str) -> np.ndarray | None:
        """The reference table's true values (what an exact front is made of), or None
        without a reference: predicted values are never presented as an exact front."""
        self.require([metric])
        return None if self._reference is None else self._reference.all_values(metric)


def _reference_backend(reference: str, metrics: list[str]) -> NB201TableBackend:
    """The device's full table named by ``reference``: a CSV path or a backend name."""
    from agentnas.tools.hardware.registry import get_backend

    what = f"reference '{reference}'"
    if Path(reference).is_file():
        backend = load_table(reference)
    elif ":" in reference and not reference.startswith("table:"):
        backend = get_backend(reference)
    else:
        raise UserError(
            f"{what} is neither a CSV file nor a backend name (e.g. hwnasbench:fpga); it "
            "must be the device's full table, to score fronts found on the partial one"
        )
    if not isinstance(backend, NB201TableBackend):
        raise UserError(f"{what} is not a table of NB201 cells; it must be the full table")
    partial = isinstance(backend, PredictedTableBackend)
    if partial or backend.n_covered < N_CELLS:
        held = backend.n_measured if partial else backend.n_covered
        raise UserError(f"{what} holds {held} of {N_CELLS} cells; it must hold all")
    missing = [m for m in metrics if m not in backend.metrics]
    if missing:
        raise UserError(f"{what} has no {', '.join(missing)}, which the partial table holds")
    return backend


def _predicted(
    path: Path, keys: np.ndarray, values: dict[str, np.ndarray], reference: str | None
) -> PredictedTableBackend:
    """The partial table at ``path`` with every cell it lacks predicted."""
    from agentnas.tools.hardware.cell_model import predict_all

    ref = None if reference is None else _reference_backend(str(reference), list(values))
    measured = np.zeros(N_CELLS, dtype=bool)
    measured[keys] = True
    full, models = {}, {}
    for metric, column in values.items():
        predicted, model = predict_all(metric, keys, column[keys])
        full[metric] = np.where(measured, column, predicted)
        models[metric] = model
    scored = f", scored against {ref.name}" if ref is not None else ""
    return PredictedTableBackend(
        name=f"table:{path}",
        values=full,
        source=f"user table {path} ({len(keys)} of {N_CELLS} cells measured, the rest "
        f"predicted{scored})",
        measured=measured,
        models=models,
        reference_backend=ref,
    )


# ---------------------------------------------------------------- user CSV (table:PATH)


def _row_error(row: int, message: str) -> UserError:
    return UserError(f"row {row + 1}: {message}")


def _parse_index(text: str, row: int) -> int:
    try:
        value = float(text)
    except ValueError:
        raise _row_error(row, f"arch_idx {text!r} is not an integer") from None
    if not value.is_integer():
        raise _row_error(row, f"arch_idx {text!r} is not an integer")
    if not 0 <= value < N_CELLS:
        raise _row_error(row, f"arch_idx {int(value)} is out of range 0..{N_CELLS - 1}")
    return int(value)


def _row_keys(frame) -> np.ndarray:
    """NB201 index of every row, from arch_str and/or arch_idx (they must agree)."""
    strs = frame["arch_str"].str.strip() if "arch_str" in frame else None
    idxs = frame["arch_idx"].str.strip() if "arch_idx" in frame else None
    keys = np.empty(len(frame), dtype=np.int64)
    for row in range(len(frame)):
        s = strs.iat[row] if strs is not None else ""
        k = idxs.iat[row] if idxs is not None else ""
        from_str = from_idx = None
        if s:
            try:
                from_str = cell_index(s)
            except UserError as exc:
                raise _row_error(row, f"unknown architecture: {exc}") from None
        if k:
            from_idx = _parse_index(k, row)
        if from_str is None and from_idx is None:
            raise _row_error(row, "no architecture: arch_str/arch_idx is empty")
        if from_str is not None and from_idx is not None and from_str != from_idx:
            raise _row_error(
                row, f"arch_str is NB201 index {from_str} but arch_idx says {from_idx}"
            )
        keys[row] = from_str if from_str is not None else from_idx
    return keys


def _metric_column(column, name: str) -> np.ndarray:
    import pandas as pd

    text = column.str.strip()
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    for row in np.flatnonzero(~np.isfinite(numbers) | (numbers < 0)):
        raw = text.iat[row]
        if raw.lower() in _NAN_SPELLINGS:
            raise _row_error(row, f"column {name} is empty/NaN; every row needs a value")
        if np.isnan(numbers[row]):
            raise _row_error(row, f"column {name} has non-numeric value {raw!r}")
        if not np.isfinite(numbers[row]):
            raise _row_error(row, f"column {name} has non-finite value {raw!r}")
        raise _row_error(row, f"column {name} has negative value {raw!r}; it must be >= 0")
    return numbers


def load_table(path: str | Path, reference: str | None = None) -> NB201TableBackend:
    """Read and validate a user's CSV; every problem is one UserError naming row/column.

    A table of :data:`MIN_MEASURED` cells or more that does not hold every cell gets the
    others predicted; ``reference`` names the device's full table to score against."""
    import pandas as pd

    where = f"table file '{path}'"
    accepted = (
        "a CSV with an arch_str (cell string) or arch_idx (0..15624) column and "
        "latency_ms and/or energy_mj columns"
    )
    if not str(path).strip():
        raise UserError(f"table:PATH needs a path to {accepted}")
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{where} does not exist or is not a file; expected {accepted}")
    unreadable = (
        OSError,
        UnicodeDecodeError,
        pd.errors.ParserError,
        pd.errors.ParserWarning,
        pd.errors.EmptyDataError,
    )
    try:
        with warnings.catch_warnings():
            # a row longer than the header is an error, not a silently dropped field or
            # (pandas' default) an implicit index column
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, skipinitialspace=True, index_col=False
            )
    except unreadable as exc:
        reason = (
            "a row has more fields than the header"
            if isinstance(exc, pd.errors.ParserWarning)
            else " ".join(str(exc).split()) or type(exc).__name__
        )
        raise UserError(f"cannot read {where} as CSV ({reason}); expected {accepted}") from None
    frame = frame.fillna("")  # short rows: missing fields count as empty cells
    frame.columns = [str(c).strip() for c in frame.columns]
    found = ", ".join(frame.columns) or "none"
    if not any(c in frame.columns for c in KEY_COLUMNS):
        raise UserError(f"{where} has no arch_str or arch_idx column (columns: {found})")
    metrics = [c for c in METRIC_COLUMNS if c in frame.columns]
    if not metrics:
        raise UserError(
            f"{where} has no metric column; give latency_ms and/or energy_mj (columns: {found})"
        )
    if frame.empty:
        raise UserError(f"{where} has a header but no rows")
    try:
        keys = _row_keys(frame)
        columns = {m: _metric_column(frame[m], m) for m in metrics}
    except UserError as exc:
        raise UserError(f"{where}, {exc}") from None

    order = np.argsort(keys, kind="stable")
    repeats = np.flatnonzero(np.diff(keys[order]) == 0)
    if repeats.size:
        first, second = sorted((int(order[repeats[0]]), int(order[repeats[0] + 1])))
        cell = all_cells()[keys[first]]
        raise UserError(
            f"{where}: rows {first + 1} and {second + 1} are the same cell {cell} "
            f"(NB201 index {keys[first]}); give each cell once"
        )

    covered = np.zeros(N_CELLS, dtype=bool)
    covered[keys] = True
    values = {}
    for metric, column in columns.items():
        full = np.full(N_CELLS, np.nan)
        full[keys] = column
        values[metric] = full
    if reference is not None and (covered.all() or len(keys) < MIN_MEASURED):
        why = "holds every cell" if covered.all() else f"holds fewer than {MIN_MEASURED} cells"
        raise UserError(
            f"{where} {why}, so nothing is predicted; 'reference' is for a partial table "
            f"of at least {MIN_MEASURED} cells"
        )
    if not covered.all() and len(keys) >= MIN_MEASURED:
        return _predicted(path, keys, values, reference)
    return NB201TableBackend(
        name=f"table:{path}",
        values=values,
        source=f"user table {path} ({len(keys)} cells)",
        covered=covered,
    )


def _describe() -> list[BackendInfo]:
    return [
        BackendInfo(
            name="table:PATH",
            metrics=list(METRIC_COLUMNS),
            spaces=["nb201"],
            source="your CSV: arch_str or arch_idx column, latency_ms and/or energy_mj columns; "
            f"a partial table (>= {MIN_MEASURED} cells) gets the rest predicted, labelled as "
            "such (option reference=FULL.csv|BACKEND to score against the full table)",
        )
    ]


register(Family("table", load_table, _describe))
