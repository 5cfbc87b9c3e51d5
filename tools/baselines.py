"""Baseline searches on any search space: random search, regularized evolution, NSGA-II.

Each method asks the space for the capability it needs
(:mod:`agentnas.tools.spaces.base`): random search any :class:`SearchSpace` (a
permutation of :meth:`enumerate` when the space is enumerable, uniform draws otherwise),
RE an :class:`EvolutionarySpace`, NSGA-II an :class:`EncodableSpace` (pymoo's
``Problem`` over the integer box of :meth:`bounds`).

Budget = number of DISTINCT architectures evaluated. Every method evaluates through one
:class:`DistinctEvaluator`, which counts an architecture the first time it is looked up and
refuses to go past the budget, so every run stops at exactly ``budget`` distinct ones
(or fewer if a method truly cannot propose a new one). Each run returns the architectures
in evaluation order with their minimisation rows, so HV ratio / IGD can be computed after
any prefix (:func:`agentnas.tools.metrics.prefix_scores`).

Rows: on a space with an exact front (NB201) accuracy is the benchmark's own table
(200-epoch test accuracy, the oracle) and the rows come from the exact front's objective
matrix, because these runs are reference points for HV ratio against the exact front. On
other spaces each architecture goes through :class:`~agentnas.tools.evaluation.Evaluator`
(photonic-mlp: the backend trains and scores it) and HV ratios are taken against the
union front of every run scored together (:func:`compare`).

Method details (and why):

- ``random``: a uniform permutation of the space, first ``budget`` taken.
- ``re`` (Real et al., 2019): population ``P`` of random architectures; each cycle samples
  ``S`` members, the parent is drawn uniformly from the sample's non-dominated members
  (the multi-objective reading of "best of the sample"; no scalarisation to tune), the
  child is the parent with one edit (the space's ``mutate``), and the *oldest* member is
  removed. A child already evaluated is re-drawn (it would cost no budget but teach
  nothing), falling back to an unseen random architecture after many tries.
- ``nsga2``: pymoo's NSGA-II on the space's integer encoding (NB201: the op index of each
  of the 6 edges), integer random sampling, uniform variable-wise crossover (applied
  rarely), a mutation that changes at least one variable (by default exactly one), and
  duplicate elimination against everything evaluated so far (so each offspring costs
  one unit of budget); ``minimize`` runs until the distinct-evaluation budget is used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agentnas.tools.baseline_methods import (
    NSGA2_DEFAULTS,
    RE_DEFAULTS,
    BudgetExhausted,
    DistinctEvaluator,
    nsga2,
    random_search,
    regularized_evolution,
)
from agentnas.tools.errors import UserError
from agentnas.tools.exact_front import (
    SPACES_WITH_EXACT_FRONT,
    ExactFront,
    exact_front,
    objective_lookup,
)
from agentnas.tools.hardware.base import HardwareBackend
from agentnas.tools.metrics import hv_ratio, igd, pareto_indices
from agentnas.tools.objectives import Objective, parse_objectives
from agentnas.tools.spaces.base import (
    EncodableSpace,
    EnumerableSpace,
    EvolutionarySpace,
    SearchSpace,
)
from agentnas.tools.spaces.registry import as_space, resolve_dataset

__all__ = [
    "METHODS",
    "NSGA2_DEFAULTS",
    "RE_DEFAULTS",
    "BaselineResult",
    "BaselineSummary",
    "BudgetExhausted",
    "DistinctEvaluator",
    "SearchProblem",
    "compare",
    "has_exact_front",
    "make_problem",
    "nsga2",
    "random_search",
    "regularized_evolution",
    "run_baseline",
    "run_seeds",
    "run_space_baseline",
]

METHODS: tuple[str, ...] = ("random", "re", "nsga2")
# the capability each method needs of a space
NEEDS: dict[str, type] = {"random": SearchSpace, "re": EvolutionarySpace, "nsga2": EncodableSpace}


def _finite(F: np.ndarray) -> np.ndarray:
    """Rows of designs the hardware could build (infeasible ones carry +inf)."""
    return F[np.all(np.isfinite(F), axis=1)] if len(F) else F


def _scored(evaluate: Callable[[str], dict[str, float]], arch: str) -> dict[str, float] | None:
    """Metrics of ``arch``, or None for a design the hardware refuses as infeasible (it
    costs its unit of budget, like in the agent loop, and is never on a front)."""
    try:
        return evaluate(arch)
    except UserError as exc:
        if getattr(exc, "kind", "") == "infeasible":
            return None
        raise


@dataclass
class BaselineResult:
    """One run: the distinct architectures evaluated, in order, and their minimisation
    rows."""

    method: str
    seed: int
    budget: int
    objectives: tuple[Objective, ...]
    cells: tuple[str, ...]  # architectures in evaluation order (all distinct)
    F: np.ndarray  # (n_evaluated, k), minimisation convention
    indices: np.ndarray  # position of each in the space's enumeration (NB201: benchmark index)
    params: dict[str, float] = field(default_factory=dict)

    def _front(self, n: int | None) -> np.ndarray:
        ok = np.flatnonzero(np.all(np.isfinite(self.F[:n]), axis=1))
        return ok[pareto_indices(self.F[ok])] if len(ok) else ok

    def front_indices(self, n: int | None = None) -> np.ndarray:
        """Enumeration indices of the non-dominated architectures among the first ``n``."""
        return self.indices[:n][self._front(n)]

    def front_cells(self, n: int | None = None) -> list[str]:
        """The non-dominated architectures among the first ``n`` evaluated."""
        return [self.cells[i] for i in self._front(n)]

    @property
    def n_infeasible(self) -> int:
        """Designs the hardware refused (their rows are +inf)."""
        return int(np.sum(~np.all(np.isfinite(self.F), axis=1))) if len(self.F) else 0

    def hv_ratio(self, exact: ExactFront | np.ndarray, n: int | None = None) -> float:
        return hv_ratio(_finite(self.F[:n]), getattr(exact, "F", exact))

    def igd(self, exact: ExactFront | np.ndarray, n: int | None = None) -> float:
        found = _finite(self.F[:n])
        return igd(found, getattr(exact, "F", exact)) if len(found) else float("inf")


# --------------------------------------------------------------------------- entry


def _resolve_backend(backend: HardwareBackend | str | None) -> HardwareBackend | None:
    if isinstance(backend, str):
        from agentnas.tools.hardware.registry import get_backend

        return get_backend(backend)
    return backend


def has_exact_front(space: SearchSpace | str) -> bool:
    """True when the space's true front can be computed (enumerable, with tables)."""
    return as_space(space).name in SPACES_WITH_EXACT_FRONT


@dataclass
class SearchProblem:
    """What a run scores: the space, its dataset and objectives, and a row per
    architecture (minimisation convention)."""

    space: SearchSpace
    dataset: str
    objectives: list[Objective]
    lookup: Callable[[str], np.ndarray]
    backend: HardwareBackend | None


def make_problem(
    space: SearchSpace | str,
    dataset: str | None,
    objectives: str | Sequence[str] | Sequence[Objective] | None,
    backend: HardwareBackend | str | None,
) -> SearchProblem:
    """Resolve the settings once, so every method and seed shares the backend and its
    caches (a training backend is never rebuilt between seeds)."""
    sp = as_space(space)
    dataset = resolve_dataset(sp, dataset)
    objs = parse_objectives(objectives if objectives is not None else sp.default_objectives)
    if has_exact_front(sp):
        hw = _resolve_backend(backend)
        rows = objective_lookup(dataset, objs, hw, sp.name)
        enumerable: Any = sp  # spaces with an exact front are enumerable
        return SearchProblem(sp, dataset, objs, lambda a: rows(enumerable.index(a)), hw)
    if backend is None:
        raise UserError(f"space '{sp.name}' needs a hardware backend (--hardware)")
    from agentnas.tools.evaluation import Evaluator

    ev = Evaluator(sp, dataset, backend, [o.name for o in objs])

    def lookup(arch: str) -> np.ndarray:
        metrics = _scored(ev.evaluate, arch)
        return np.full(len(objs), np.inf) if metrics is None else ev.min_matrix([metrics])[0]

    return SearchProblem(sp, dataset, objs, lookup, ev.backend)


def run_baseline(
    method: str,
    budget: int,
    seed: int = 0,
    dataset: str | None = "cifar10",
    objectives: str | Sequence[str] | Sequence[Objective] | None = "accuracy,latency",
    backend: HardwareBackend | str | None = None,
    *,
    space: SearchSpace | str = "nb201",
    problem: SearchProblem | None = None,
    **params: float,
) -> BaselineResult:
    """Run one baseline for exactly ``budget`` distinct architectures of ``space``
    (1..its size); ``problem`` (from :func:`make_problem`) replaces the settings."""
    if method not in METHODS:
        raise UserError(f"unknown baseline method '{method}'; available: {', '.join(METHODS)}")
    pb = problem or make_problem(space, dataset, objectives, backend)
    sp = pb.space
    if not isinstance(sp, NEEDS[method]):
        raise UserError(
            f"baseline '{method}' needs a space offering {NEEDS[method].__name__}; "
            f"'{sp.name}' does not"
        )
    if not 1 <= int(budget) <= sp.size:
        raise UserError(f"budget must be 1..{sp.size} distinct architectures; got {budget}")
    ev = DistinctEvaluator(pb.lookup, int(budget))
    used = _run_method(method, ev, seed, sp, len(pb.objectives), params)
    indices = [sp.index(a) for a in ev.order] if isinstance(sp, EnumerableSpace) else []
    return BaselineResult(
        method=method,
        seed=seed,
        budget=int(budget),
        objectives=tuple(pb.objectives),
        cells=tuple(ev.order),
        F=np.array(ev.rows, dtype=float).reshape(ev.n, len(pb.objectives)),
        indices=np.array(indices or range(ev.n), dtype=int),
        params=used,
    )


def _run_method(
    method: str, ev: DistinctEvaluator, seed: int, space: Any, n_obj: int, params: dict
) -> dict[str, float]:
    if method == "random":
        random_search(ev, seed, space)
        return {}
    if method == "re":
        used = {**RE_DEFAULTS, **params}
        pop, size = int(used["population"]), int(used["sample_size"])
        regularized_evolution(ev, seed, pop, size, space=space)
        return used
    used = {**NSGA2_DEFAULTS, **params}
    pop, cx, mut = int(used["pop_size"]), used["crossover_prob"], used["edge_prob"]
    nsga2(ev, seed, n_obj, pop, cx, mut, space=space)
    return used


@dataclass(frozen=True)
class BaselineSummary:
    """HV ratio and IGD of one method over seeds. ``reference``: ``"exact front"`` or
    ``"union front"`` (the non-dominated points of every run scored together)."""

    method: str
    budget: int
    seeds: tuple[int, ...]
    hv_ratios: tuple[float, ...]
    igds: tuple[float, ...]
    reference: str = "exact front"
    front_sizes: tuple[int, ...] = ()
    runs: tuple[BaselineResult, ...] = ()

    @property
    def hv_mean(self) -> float:
        return float(np.mean(self.hv_ratios))

    @property
    def hv_std(self) -> float:
        return float(np.std(self.hv_ratios))

    @property
    def igd_mean(self) -> float:
        return float(np.mean(self.igds))

    @property
    def igd_std(self) -> float:
        return float(np.std(self.igds))


def _summaries(
    runs: dict[str, list[BaselineResult]], budget: int, seeds: Sequence[int], pb: SearchProblem
) -> dict[str, BaselineSummary]:
    """Score every run against the exact front, or the union front of all of them."""
    if has_exact_front(pb.space):
        ref_F = exact_front(pb.space.name, pb.dataset, pb.objectives, pb.backend).F
        reference = "exact front"
    else:
        every = _finite(np.vstack([r.F for rs in runs.values() for r in rs]))
        if not len(every):
            raise UserError("every design evaluated was infeasible on this hardware")
        ref_F = every[pareto_indices(every)]
        reference = "union front"
    return {
        m: BaselineSummary(
            method=m,
            budget=int(budget),
            seeds=tuple(seeds),
            hv_ratios=tuple(r.hv_ratio(ref_F) for r in rs),
            igds=tuple(r.igd(ref_F) for r in rs),
            reference=reference,
            front_sizes=tuple(len(r.front_cells()) for r in rs),
            runs=tuple(rs),
        )
        for m, rs in runs.items()
    }


def compare(
    methods: Sequence[str],
    budget: int,
    seeds: Sequence[int],
    dataset: str | None = None,
    objectives: str | Sequence[str] | Sequence[Objective] | None = None,
    backend: HardwareBackend | str | None = None,
    *,
    space: SearchSpace | str = "nb201",
    **params: float,
) -> dict[str, BaselineSummary]:
    """Several methods over the same seeds, scored together: against the exact front
    where the space has one, else against the union front of every run here."""
    pb = make_problem(space, dataset, objectives, backend)
    runs = {m: [run_baseline(m, budget, s, problem=pb, **params) for s in seeds] for m in methods}
    return _summaries(runs, budget, seeds, pb)


def run_seeds(
    method: str,
    budget: int,
    seeds: Sequence[int],
    dataset: str | None = "cifar10",
    objectives: str | Sequence[str] | Sequence[Objective] | None = "accuracy,latency",
    backend: HardwareBackend | str | None = None,
    *,
    space: SearchSpace | str = "nb201",
    **params: float,
) -> BaselineSummary:
    """HV ratio and IGD of one method over several seeds, against the exact front (or
    the union front of these runs on a space without one)."""
    return compare([method], budget, seeds, dataset, objectives, backend, space=space, **params)[
        method
    ]


def run_space_baseline(
    evaluator: Any, method: str, budget: int, seed: int, **params: float
) -> tuple[list[str], list[dict[str, float]]]:
    """One baseline scored by an :class:`~agentnas.tools.evaluation.Evaluator` (the
    metrics an agent run optimises: same accuracy source, same backend), on its space:
    the architectures in evaluation order and their metrics."""
    seen: dict[str, dict[str, float]] = {}

    def lookup(arch: str) -> np.ndarray:
        metrics = _scored(evaluator.evaluate, arch)
        if metrics is None:  # infeasible: spent, not returned (it has no metrics)
            return np.full(len(evaluator.objectives), np.inf)
        seen[arch] = metrics
        return evaluator.min_matrix([metrics])[0]

    pb = SearchProblem(
        evaluator.space, evaluator.dataset, list(evaluator.objectives), lookup, evaluator.backend
    )
    result = run_baseline(method, budget, seed, problem=pb, **params)
    kept = [a for a in result.cells if a in seen]
    return kept, [seen[a] for a in kept]
