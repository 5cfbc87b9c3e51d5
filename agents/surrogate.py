"""The offline policy's judgement of a candidate before it is evaluated: an additive
effect model per objective and the hypervolume a candidate would add.

Each objective is modelled as ``bias + scale·prior(arch) + Σ w·x(arch)``: ``x`` and
``prior`` come from a :class:`~agentnas.tools.spaces.base.SurrogateSpace` (NB201: cell
structure and one-hot op per edge; convolutions cost latency and buy accuracy); other
spaces give their numeric complexity features, log-scaled, and no prior; ``w`` is
fitted by ridge regression on every evaluated cell the Designer is shown. It is cheap, it
is exact for table latencies that are nearly additive in the ops, and with few points it
falls back on the prior. Accuracies are modelled as log error rate
(:func:`error_transform`). Fronts and hypervolumes come from pymoo via
:mod:`agentnas.tools.metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from agentnas.tools import metrics
from agentnas.tools.metrics import pareto_indices
from agentnas.tools.objectives import is_maximized
from agentnas.tools.spaces.base import SlotSpace, SurrogateSpace

GENERIC_RIDGE = 1.0


class GenericInputs:
    """Model inputs of a space without its own: complexity features, log-scaled when
    large, one ridge penalty for all, and no prior."""

    def __init__(self, space: Any) -> None:
        self._space = space

    def surrogate_features(self, arch: str) -> np.ndarray:
        feats = self._space.features(arch)
        vals = [float(feats[k]) for k in sorted(feats)]
        return np.array([math.log1p(v) if abs(v) > 50 else v for v in vals])

    def surrogate_penalties(self, dim: int) -> np.ndarray:
        return np.full(dim, GENERIC_RIDGE)

    def prior(self, arch: str, maximize: bool) -> float:
        return 0.0


def slot_ops(space: Any, arch: str) -> tuple[str, ...] | None:
    """The operation in each slot of the space's vocabulary (NB201: the six edge ops), or
    None for a space that is not one op per slot."""
    return space.slot_ops(arch) if isinstance(space, SlotSpace) else None


def model_inputs(space: Any) -> Any:
    """The space itself when it is a :class:`SurrogateSpace`, else :class:`GenericInputs`
    (asked once per prediction: a protocol check costs tens of microseconds)."""
    return space if isinstance(space, SurrogateSpace) else GenericInputs(space)


def encode(space: Any, arch: str) -> np.ndarray:
    """Model inputs for one architecture (see the module docstring)."""
    return np.asarray(model_inputs(space).surrogate_features(arch), dtype=float)


def penalties(space: Any, dim: int) -> np.ndarray:
    """Ridge penalty per column of :func:`encode`."""
    return np.asarray(model_inputs(space).surrogate_penalties(dim), dtype=float)


def prior(space: Any, arch: str, objective: str) -> float:
    """The space's guess of ``objective`` before data (zero for spaces without priors)."""
    return float(model_inputs(space).prior(arch, is_maximized(objective)))


class AdditiveModel:
    """Ridge fit of one objective; ``predict`` works with any number of points (no data:
    the prior alone, scaled to a unit spread)."""

    def __init__(self, penalty: np.ndarray, prior_mean: np.ndarray | None = None) -> None:
        self.penalty = penalty
        # prior means of the per-feature weights (claims from the KB); zero = plain ridge
        self.prior_mean = np.zeros_like(penalty) if prior_mean is None else prior_mean
        self.coef: np.ndarray | None = None
        self.mean = 0.0

    def fit(self, x: np.ndarray, p: np.ndarray, y: np.ndarray) -> AdditiveModel:
        n, d = x.shape
        if n == 0:
            self.coef = None
            return self
        self.mean = float(y.mean())
        a = np.hstack([np.ones((n, 1)), p[:, None], x])
        # penalise the per-feature weights, lightly the prior's scale, not the bias
        pen = np.r_[0.0, 0.05, self.penalty]
        lhs = a.T @ a + np.diag(pen)
        rhs = a.T @ y + pen * np.r_[0.0, 0.0, self.prior_mean]
        self.coef = np.linalg.solve(lhs + 1e-9 * np.eye(d + 2), rhs)
        return self

    def predict(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        if self.coef is None:
            return p.astype(float)
        a = np.hstack([np.ones((x.shape[0], 1)), p[:, None], x])
        return a @ self.coef


def error_transform(objective: str, y: np.ndarray) -> tuple[Any, Any]:
    """(forward, inverse) maps of an accuracy's target: the model fits ``log(error)``.

    Accuracy is bounded above and its error rate spans orders of magnitude (a degenerate
    NB201 cell at 10 %, good ones at 5-6 % error), so a linear model of the raw value is
    dragged by the poor cells; modelling log error rate is the usual remedy. Measured on
    NB201 (Kendall tau of the fitted model over all cells, 100 random training cells,
    5 draws): 0.52 raw -> 0.64 log error; among the 200 best cells 0.21 -> 0.28. The
    upper bound is 100 (% accuracies) or 1 (fractions), +0.5 % so the log stays finite.
    Costs and other objectives are modelled as they are (identity maps)."""
    if not is_maximized(objective) or len(y) == 0 or np.max(y) > 100.0 or np.min(y) < 0.0:
        return (lambda v: v), (lambda v: v)
    top = 100.0 if np.max(y) > 1.0 else 1.0
    upper = top * 1.005
    return (
        lambda v: -np.log(np.maximum(upper - v, 1e-9 * top)),
        lambda v: upper - np.exp(-np.minimum(v, 50.0)),
    )


KAPPA = 2.0  # bootstrap spreads of optimism (measured: +0.02 HV ratio on fpga at 100 evals)
N_BOOT = 8


def error_slope(objective: str, y: np.ndarray) -> float:
    """d target / d value of :func:`error_transform` at the data's mean: converts a claim's
    effect (accuracy points) into the units the model fits (log error rate)."""
    fwd, _ = error_transform(objective, y)
    if len(y) == 0:
        return 1.0
    m = float(np.mean(y))
    h = 1e-3 * max(1.0, abs(m))
    return float((fwd(np.array([m + h])) - fwd(np.array([m - h])))[0] / (2 * h))


UNSEEN_SPREAD = 1.0  # prior spread of a never-seen choice, in target standard deviations


def unseen_spread(inputs: Any, xs: np.ndarray, xc: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per candidate, a prior spread (target units) for the choices it makes that no
    evaluated cell shows, on spaces that name their choice columns
    (``surrogate_choice_columns``: one-hot knob values such as an activation); zeros
    elsewhere.

    Why: a column that never varies in the data keeps its prior weight in every bootstrap
    fit, so the bootstrap gives a never-tried value no spread and ``KAPPA`` optimism never
    reaches it; a small-budget search then stays with the knob values of its first cells.
    Each unseen column adds ``UNSEEN_SPREAD`` times the target's spread in the data (in
    quadrature), the weight such a column could take once the value is tried."""
    cols = list(getattr(inputs, "surrogate_choice_columns", None) or ())
    if not cols or len(y) < 2:
        return np.zeros(len(xc))
    one_value = np.ptp(xs[:, cols], axis=0) == 0  # columns with a single value in the data
    new = (xc[:, cols] != xs[0, cols]) & one_value
    return UNSEEN_SPREAD * float(np.std(y)) * np.sqrt(new.sum(axis=1))


PRIOR_STRENGTH = 1.0  # ridge pseudo-observations per unit of a claim's evidence
EVIDENCE_HALF = 10.0  # evidence at which a column's prior mean counts half


def claim_prior(
    space: Any, objective: str, y_raw: np.ndarray, priors: dict[str, Any] | None, dim: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """(prior means, extra penalty) for the :func:`encode` columns from the claims' per
    (edge, op) values (:func:`agentnas.agents.claim_use.op_priors`), for spaces whose
    surrogate inputs hold a (slot, op) one-hot block (NB201)."""
    got = (priors or {}).get(objective)
    start = getattr(model_inputs(space), "slot_onehot_start", None)
    if got is None or start is None:
        return None
    values, evidence = got
    stop = start + values.size
    mean, extra = np.zeros(dim), np.zeros(dim)
    ev = evidence.reshape(-1)
    # the claims were measured near fronts: convert their units where the good cells are
    # (upper quartile), and trust a column's claim in proportion to its evidence
    slope = error_slope(objective, np.array([np.percentile(y_raw, 75)]) if len(y_raw) else y_raw)
    mean[start:stop] = slope * values.reshape(-1) * ev / (ev + EVIDENCE_HALF)
    extra[start:stop] = PRIOR_STRENGTH * ev
    return mean, extra


def predict_objectives(
    space: Any,
    data: Sequence[Any],
    cands: Sequence[str],
    objectives: Sequence[str],
    *,
    seed: int,
    priors: dict[str, Any] | None = None,
    extra: Sequence[Any] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted value (n_cands, n_obj) of every objective, and its bootstrap spread (zero
    with fewer than 6 evaluated cells). ``data`` items have ``arch`` and ``metrics``.
    ``priors`` (objective -> per (edge, op) values and evidence, from the KB's measured
    claims) become the prior means of the op-per-edge weights (:func:`claim_prior`).
    ``extra``: more measured cells (earlier runs' reused evaluations) that join ``data``
    for each objective they carry."""
    inputs = model_inputs(space)

    def x_of(arch: str) -> np.ndarray:
        return np.asarray(inputs.surrogate_features(arch), dtype=float)

    xc = np.array([x_of(a) for a in cands])
    pen = np.asarray(inputs.surrogate_penalties(xc.shape[1]), dtype=float)
    pred = np.zeros((len(cands), len(objectives)))
    std = np.zeros_like(pred)
    known = {s.arch for s in data}
    xs_data = np.array([x_of(s.arch) for s in data]) if data else None
    rng = np.random.default_rng(seed)
    for j, o in enumerate(objectives):
        up = is_maximized(o)
        pc = np.array([float(inputs.prior(a, up)) for a in cands])
        more = [s for s in extra if o in s.metrics and s.arch not in known]
        d_o = [*data, *more]
        if not d_o:
            pred[:, j] = AdditiveModel(pen).predict(xc, pc)
            continue
        xs = xs_data if not more else np.array([x_of(s.arch) for s in d_o])
        y_raw = np.array([s.metrics[o] for s in d_o])
        fwd, inv = error_transform(o, y_raw)
        y = fwd(y_raw)
        p = np.array([float(inputs.prior(s.arch, up)) for s in d_o])
        cp = claim_prior(space, o, y_raw, priors, xc.shape[1])
        pen_o, mu = (pen, None) if cp is None else (pen + cp[1], cp[0])
        target = AdditiveModel(pen_o, mu).fit(xs, p, y).predict(xc, pc)
        pred[:, j] = inv(target)
        if len(d_o) > 5:
            boots = []
            for _ in range(N_BOOT):
                idx = rng.integers(0, len(d_o), len(d_o))
                model = AdditiveModel(pen_o, mu).fit(xs[idx], p[idx], y[idx])
                boots.append(inv(model.predict(xc, pc)))
            std[:, j] = np.std(boots, axis=0)
        unseen = unseen_spread(inputs, xs, xc, y)
        if unseen.any():  # in the objective's units: the upward move of the target
            std[:, j] = np.hypot(std[:, j], np.abs(inv(target + unseen) - pred[:, j]))
    return pred, std


def to_min(values: np.ndarray, objectives: Sequence[str]) -> np.ndarray:
    """Objective matrix (n, m) turned into minimisation (accuracy negated)."""
    sign = np.array([-1.0 if is_maximized(o) else 1.0 for o in objectives])
    return values * sign


def nondominated(points: np.ndarray) -> np.ndarray:
    """Boolean mask of non-dominated rows (minimisation); duplicates are all kept.

    pymoo's sorting (:func:`agentnas.tools.metrics.pareto_indices`): measured 10 us for 60
    points against 520 us for the former pure-Python loop."""
    mask = np.zeros(points.shape[0], dtype=bool)
    if points.shape[0]:
        mask[pareto_indices(points)] = True
    return mask


def hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume (minimisation) of ``points`` w.r.t. ``ref`` (a point per objective),
    through pymoo (:func:`agentnas.tools.metrics.hypervolume`); points beyond ``ref`` add
    nothing. Measured 8.5 us for a 6-point 2-D front, as fast as the former own sweep
    (11 us), so the inner loop of the Designer uses pymoo too."""
    if len(points) == 0:
        return 0.0
    shift = float(ref[0])
    # tools.metrics takes one reference coordinate for every objective: shift the points
    # so that ``ref`` becomes (r, r, ...)
    return metrics.hypervolume(points - ref + shift, shift)


def dominance_gap(point: np.ndarray, front: np.ndarray) -> float:
    """How far (normalised units) ``point`` must move to stop being dominated: 0 when it
    is non-dominated. Used to rank candidates with no predicted hypervolume gain."""
    if len(front) == 0:
        return 0.0
    return float(max(0.0, np.max(np.min(point - front, axis=1))))
