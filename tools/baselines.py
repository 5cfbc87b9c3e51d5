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

import random
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.duplicate import DuplicateElimination
from pymoo.core.mutation import Mutation
from pymoo.core.problem import Problem
from pymoo.core.termination import Termination
from pymoo.operators.crossover.ux import UniformCrossover
from pymoo.operators.sampling.rnd import IntegerRandomSampling
from pymoo.optimize import minimize

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

METHODS: tuple[str, ...] = ("random", "re", "nsga2")
# the capability each method needs of a space
NEEDS: dict[str, type] = {"random": SearchSpace, "re": EvolutionarySpace, "nsga2": EncodableSpace}

# Settings tuned on CIFAR-10 accuracy vs latency, budget 500: a first grid on seeds 0..19
# (Eyeriss/FPGA), confirmed on seeds 1000..1029 (all four devices; the CLI reports seeds
# 0..n-1, so those overlap the first grid). NSGA-II: pop
# 8..50 x per-edge mutation 0..0.3 x crossover 0..0.9; small populations, one-edge
# mutation and rare crossover win (0.975 -> 0.989 on Eyeriss/FPGA), because the front is
# reached by local steps between neighbouring cells. RE: population 10..50 x sample 3..10.
# Callers may override them through run_baseline(**params).
RE_DEFAULTS = {"population": 20, "sample_size": 10}
NSGA2_DEFAULTS = {"pop_size": 16, "crossover_prob": 0.2, "edge_prob": 0.0}


class BudgetExhausted(Exception):
    """Raised by :class:`DistinctEvaluator` when a new architecture is asked for past the
    budget."""


class DistinctEvaluator:
    """Looks up objective rows by key (an architecture string), counting distinct keys."""

    def __init__(self, lookup: Callable[[Any], np.ndarray], budget: int) -> None:
        self._lookup = lookup
        self.budget = budget
        self.order: list[Any] = []  # keys, evaluation order
        self.rows: list[np.ndarray] = []
        self._pos: dict[Hashable, int] = {}

    @property
    def n(self) -> int:
        return len(self.order)

    @property
    def remaining(self) -> int:
        return self.budget - self.n

    def seen(self, key: Hashable) -> bool:
        return key in self._pos

    def __call__(self, key: Hashable) -> np.ndarray:
        if key in self._pos:
            return self.rows[self._pos[key]]
        if self.remaining <= 0:
            raise BudgetExhausted
        row = np.asarray(self._lookup(key), dtype=float)
        self._pos[key] = len(self.order)
        self.order.append(key)
        self.rows.append(row)
        return row


class _IndexKeyed:
    """An evaluator keyed by NB201 benchmark index seen through architecture strings, for
    callers that build a :class:`DistinctEvaluator` over indices (``space=None``)."""

    def __init__(self, ev: DistinctEvaluator) -> None:
        from agentnas.tools.spaces.nb201 import cell_to_index

        self._ev, self._index = ev, cell_to_index
        self.budget = ev.budget

    @property
    def n(self) -> int:
        return self._ev.n

    @property
    def remaining(self) -> int:
        return self._ev.remaining

    def seen(self, arch: str) -> bool:
        return self._ev.seen(self._index(arch))

    def __call__(self, arch: str) -> np.ndarray:
        return self._ev(self._index(arch))


def _keyed(ev: DistinctEvaluator, space: Any) -> tuple[Any, Any]:
    """(evaluator keyed by architecture, space); ``space=None`` is NB201 over indices."""
    if space is None:
        return _IndexKeyed(ev), as_space("nb201")
    return ev, space


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

    def front_indices(self, n: int | None = None) -> np.ndarray:
        """Enumeration indices of the non-dominated architectures among the first ``n``."""
        return self.indices[:n][pareto_indices(self.F[:n])]

    def front_cells(self, n: int | None = None) -> list[str]:
        """The non-dominated architectures among the first ``n`` evaluated."""
        return [self.cells[i] for i in pareto_indices(self.F[:n])]

    def hv_ratio(self, exact: ExactFront | np.ndarray, n: int | None = None) -> float:
        return hv_ratio(self.F[:n], getattr(exact, "F", exact))

    def igd(self, exact: ExactFront | np.ndarray, n: int | None = None) -> float:
        return igd(self.F[:n], getattr(exact, "F", exact))


# --------------------------------------------------------------------------- methods


def random_search(ev: DistinctEvaluator, seed: int, space: SearchSpace | None = None) -> None:
    """Evaluate a uniform random permutation of the space until the budget is spent."""
    ev, space = _keyed(ev, space)
    if isinstance(space, EnumerableSpace):
        pool = space.enumerate()
        for i in np.random.default_rng(seed).permutation(len(pool))[: ev.budget]:
            ev(pool[int(i)])
        return
    for arch in space.sample(random.Random(seed), ev.budget):
        ev(arch)


def _pareto_pick(F: np.ndarray, rng: random.Random) -> int:
    """Position of a uniformly drawn non-dominated row of ``F``."""
    return int(rng.choice(list(pareto_indices(F))))


def regularized_evolution(
    ev: DistinctEvaluator,
    seed: int,
    population: int = 20,
    sample_size: int = 10,
    *,
    space: EvolutionarySpace | None = None,
) -> None:
    """Real et al. (2019) aging evolution with a Pareto tournament (see module doc)."""
    ev, space = _keyed(ev, space)
    if not 2 <= sample_size <= population:
        raise UserError(f"RE needs 2 <= sample_size <= population; got {sample_size}, {population}")
    rng = random.Random(seed)
    pop: list[str] = []  # oldest first
    for arch in space.sample(rng, min(population, ev.budget)):
        ev(arch)
        pop.append(arch)
    while ev.remaining > 0:
        sample = rng.sample(pop, min(sample_size, len(pop)))
        parent = sample[_pareto_pick(np.array([ev(a) for a in sample]), rng)]
        child = _new_child(ev, space, parent, rng)
        if child is None:
            break
        ev(child)
        pop.append(child)
        pop.pop(0)  # age-based removal: the oldest dies, not the worst


def _new_child(
    ev: DistinctEvaluator, space: EvolutionarySpace, parent: str, rng: random.Random
) -> str | None:
    for attempt in range(100):
        k = 1 + attempt // 25  # widen the step when one-edit neighbours are used up
        child = space.mutate(parent, rng, k=k)
        if not ev.seen(child):
            return child
    if isinstance(space, EnumerableSpace):
        unseen = [a for a in space.enumerate() if not ev.seen(a)]
        return rng.choice(unseen) if unseen else None
    for _ in range(1000):
        (arch,) = space.sample(rng, 1)
        if not ev.seen(arch):
            return arch
    return None


class _VectorProblem(Problem):
    """The space's integer box -> the evaluator's rows. Past the budget a candidate gets
    +inf without being looked up (the search learns nothing from it), and the termination
    stops the run right after that generation."""

    def __init__(self, ev: DistinctEvaluator, space: EncodableSpace, n_obj: int) -> None:
        xl, xu = space.bounds()
        super().__init__(n_var=len(xl), n_obj=n_obj, xl=xl, xu=xu, vtype=int)
        self.ev = ev
        self.space = space

    def _evaluate(self, X, out, *args, **kwargs) -> None:
        rows = []
        for x in np.asarray(X).astype(int):
            try:
                rows.append(self.ev(self.space.decode(x)))
            except BudgetExhausted:
                rows.append(np.full(self.n_obj, np.inf))
        out["F"] = np.array(rows)


class _VariableMutation(Mutation):
    """Each variable takes a different value of its range with probability ``edge_prob``;
    at least one variable always changes, so a mutant's vector never equals its parent's
    (``edge_prob=0``: exactly one; on NB201 a step to one of the 24 neighbours)."""

    def __init__(self, edge_prob: float) -> None:
        super().__init__(prob=1.0)
        self.edge_prob = edge_prob

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        X = np.asarray(X).astype(int).copy()
        xl, xu = np.asarray(problem.xl, dtype=int), np.asarray(problem.xu, dtype=int)
        width = xu - xl + 1
        free = np.flatnonzero(width > 1)
        for x in X:
            mask = random_state.random(len(x)) < self.edge_prob
            mask &= width > 1
            if not mask.any():
                mask[free[random_state.integers(len(free))]] = True
            for e in np.flatnonzero(mask):
                step = random_state.integers(1, width[e])  # a different value
                x[e] = xl[e] + (x[e] - xl[e] + step) % width[e]
        return X


class _SeenElimination(DuplicateElimination):
    """Duplicates (same architecture) within a batch, against the population, and against
    every architecture the evaluator has already paid for."""

    def __init__(self, ev: DistinctEvaluator, space: EncodableSpace) -> None:
        super().__init__()
        self.ev = ev
        self.space = space

    def _keys(self, pop) -> list[str]:
        return [self.space.decode([int(v) for v in x]) for x in pop.get("X")]

    def _do(self, pop, other, is_duplicate):
        keys = self._keys(pop)
        if other is None:
            batch: set[str] = set()
            for j, key in enumerate(keys):
                if key in batch or self.ev.seen(key):
                    is_duplicate[j] = True
                batch.add(key)
        else:
            taken = set(self._keys(other))
            for j, key in enumerate(keys):
                if key in taken:
                    is_duplicate[j] = True
        return is_duplicate


class _DistinctBudget(Termination):
    """Stops once the evaluator has spent its budget, or after 20 generations without a
    single new architecture (the operators can no longer propose one)."""

    def __init__(self, ev: DistinctEvaluator) -> None:
        super().__init__()
        self.ev = ev
        self._last, self._stalled = -1, 0

    def _update(self, algorithm) -> float:
        self._stalled = self._stalled + 1 if self.ev.n == self._last else 0
        self._last = self.ev.n
        if self._stalled >= 20:
            return 1.0
        return min(1.0, self.ev.n / self.ev.budget)


def nsga2(
    ev: DistinctEvaluator,
    seed: int,
    n_obj: int,
    pop_size: int = 16,
    crossover_prob: float = 0.2,
    edge_prob: float = 0.0,
    *,
    space: EncodableSpace | None = None,
) -> None:
    """NSGA-II (Deb et al., 2002) through pymoo's ``minimize`` (see module doc)."""
    ev, space = _keyed(ev, space)
    algorithm = NSGA2(
        pop_size=int(pop_size),
        sampling=IntegerRandomSampling(),
        crossover=UniformCrossover(prob=crossover_prob),
        mutation=_VariableMutation(edge_prob),
        eliminate_duplicates=_SeenElimination(ev, space),
    )
    # no copies: the operators and the termination must share this run's evaluator.
    # Over-budget candidates of the last generation carry +inf, which makes crowding
    # distances NaN in that final survival step only; the run ends right after it.
    with np.errstate(invalid="ignore"):
        minimize(
            _VectorProblem(ev, space, n_obj),
            algorithm,
            _DistinctBudget(ev),
            seed=seed,
            copy_algorithm=False,
            copy_termination=False,
            verbose=False,
        )


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
        return ev.min_matrix([ev.evaluate(arch)])[0]

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
        every = np.vstack([r.F for rs in runs.values() for r in rs])
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
        seen[arch] = evaluator.evaluate(arch)
        return evaluator.min_matrix([seen[arch]])[0]

    pb = SearchProblem(
        evaluator.space, evaluator.dataset, list(evaluator.objectives), lookup, evaluator.backend
    )
    result = run_baseline(method, budget, seed, problem=pb, **params)
    return list(result.cells), [seen[a] for a in result.cells]
