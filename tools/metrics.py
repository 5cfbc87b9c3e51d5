"""Pareto fronts and the two indicators every search is scored with: HV ratio and IGD.

All inputs are *minimisation matrices* (see :mod:`agentnas.tools.objectives`: accuracy is
negated). Choices, stated once:

- Normalisation: ``(F - ideal) / (nadir - ideal)`` with ideal/nadir of the **exact**
  front, so the exact front spans [0, 1] in every objective. A degenerate objective
  (ideal == nadir) is divided by 1 instead of 0.
- HV ratio = HV(found) / HV(exact), both in that normalised space with reference point
  1.1 in each objective (pymoo's ``HV``, computed by moocore). Found points beyond the
  reference contribute nothing (moocore drops points that do not dominate it), so the
  ratio is in [0, 1] and equals 1 exactly when the found set reaches every exact point.
- IGD = mean distance from each exact point to its nearest found *non-dominated* point,
  in the same normalised space (pymoo's ``IGD``); 0 means the whole front was found.
  Dominated found points are dropped first so that IGD, like HV, scores only a front.
- Duplicated objective vectors are all non-dominated (none strictly dominates the other):
  fronts count cells, as the benchmark tables measured isomorphic cells separately.
"""

from __future__ import annotations

import numpy as np
from pymoo.indicators.hv import HV
from pymoo.indicators.igd import IGD
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

REFERENCE = 1.1  # reference point coordinate in the normalised space


def _as_matrix(F: np.ndarray) -> np.ndarray:
    F = np.asarray(F, dtype=float)
    if F.ndim == 1:
        F = F[None, :]
    return F


def pareto_indices(F: np.ndarray) -> np.ndarray:
    """Row indices (sorted) of the non-dominated rows of a minimisation matrix."""
    F = _as_matrix(F)
    if len(F) == 0:
        return np.zeros(0, dtype=int)
    idx = NonDominatedSorting().do(F, only_non_dominated_front=True)
    return np.sort(np.asarray(idx, dtype=int))


def pareto_front(F: np.ndarray) -> np.ndarray:
    """The non-dominated rows of ``F`` (in their original order)."""
    F = _as_matrix(F)
    return F[pareto_indices(F)]


def normalise(F: np.ndarray, ideal: np.ndarray, nadir: np.ndarray) -> np.ndarray:
    """Map ``F`` so that ``ideal`` -> 0 and ``nadir`` -> 1 in every objective."""
    ideal, nadir = np.asarray(ideal, dtype=float), np.asarray(nadir, dtype=float)
    span = np.where(nadir > ideal, nadir - ideal, 1.0)
    return (_as_matrix(F) - ideal) / span


def ideal_nadir(front_F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ideal (column minima) and nadir (column maxima) of a front."""
    F = _as_matrix(front_F)
    return F.min(axis=0), F.max(axis=0)


def hypervolume(F_norm: np.ndarray, reference: float = REFERENCE) -> float:
    """Hypervolume of normalised points w.r.t. ``reference`` in every objective."""
    F = _as_matrix(F_norm)
    if len(F) == 0:
        return 0.0
    return float(HV(ref_point=np.full(F.shape[1], reference))(F))


def hv_ratio(found_F: np.ndarray, exact_F: np.ndarray) -> float:
    """HV(found) / HV(exact), normalised by the exact front's ideal and nadir (0..1)."""
    exact = _as_matrix(exact_F)
    found = _as_matrix(found_F)
    if len(found) == 0:
        return 0.0
    ideal, nadir = ideal_nadir(exact)
    ref_hv = hypervolume(normalise(exact, ideal, nadir))
    return hypervolume(normalise(found, ideal, nadir)) / ref_hv


def igd(found_F: np.ndarray, exact_F: np.ndarray) -> float:
    """IGD of the found front to the exact front, in the exact front's normalised space."""
    exact = _as_matrix(exact_F)
    found = _as_matrix(found_F)
    if len(found) == 0:
        return float("inf")
    ideal, nadir = ideal_nadir(exact)
    pf = normalise(exact, ideal, nadir)
    return float(IGD(pf)(normalise(pareto_front(found), ideal, nadir)))


def prefix_scores(
    found_F: np.ndarray, exact_F: np.ndarray, checkpoints: list[int]
) -> list[tuple[int, float, float]]:
    """(n, HV ratio, IGD) after the first ``n`` evaluations, for each checkpoint ``n``."""
    found = _as_matrix(found_F)
    return [(n, hv_ratio(found[:n], exact_F), igd(found[:n], exact_F)) for n in checkpoints]
