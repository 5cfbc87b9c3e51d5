"""Baseline searches on NAS-Bench-201: random search, regularized evolution, NSGA-II.

Budget = number of DISTINCT architectures evaluated. Every method evaluates through one
:class:`DistinctEvaluator`, which counts a cell the first time it is looked up and
refuses to go past the budget, so every run stops at exactly ``budget`` distinct cells
(or fewer if a method truly cannot propose a new one). Each run returns the cells in
evaluation order with their minimisation rows, so HV ratio / IGD can be computed after
any prefix (:func:`agentnas.tools.metrics.prefix_scores`).

Accuracy is the benchmark's own table (200-epoch test accuracy, the oracle), because
these runs are reference points for HV ratio against the exact front.

Method details (and why):

- ``random``: a uniform permutation of the 15,625 cells, first ``budget`` taken.
- ``re`` (Real et al., 2019): population ``P`` of random cells; each cycle samples ``S``
  members, the parent is drawn uniformly from the sample's non-dominated members (the
  multi-objective reading of "best of the sample"; no scalarisation to tune), the child is
  the parent with one edge mutated (:func:`~agentnas.tools.spaces.nb201.mutate`), and
  the *oldest* member is removed. A child already evaluated is re-drawn (it would cost no
  budget but teach nothing), falling back to an unseen random cell after many tries.
- ``nsga2``: pymoo's NSGA-II on the 6-integer op encoding (ops in
  :data:`~agentnas.tools.spaces.nb201.OPS` order), integer random sampling, uniform
  edge-wise crossover (applied rarely), an edge mutation that changes at least one op
  (by default exactly one), and
  duplicate elimination against everything evaluated so far (so each offspring costs
  one unit of budget); ``minimize`` runs until the distinct-evaluation budget is used.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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
from agentnas.tools.exact_front import ExactFront, exact_front, objective_lookup
from agentnas.tools.hardware.base import HardwareBackend
from agentnas.tools.metrics import hv_ratio, igd, pareto_indices
from agentnas.tools.objectives import Objective, parse_objectives
from agentnas.tools.spaces import nb201

METHODS: tuple[str, ...] = ("random", "re", "nsga2")

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
    """Raised by :class:`DistinctEvaluator` when a new cell is asked for past the budget."""


class DistinctEvaluator:
    """Looks up objective rows by benchmark index, counting distinct cells."""

    def __init__(self, lookup: Callable[[int], np.ndarray], budget: int) -> None:
        self._lookup = lookup
        self.budget = budget
        self.order: list[int] = []  # benchmark indices, evaluation order
        self.rows: list[np.ndarray] = []
        self._pos: dict[int, int] = {}

    @property
    def n(self) -> int:
        return len(self.order)

    @property
    def remaining(self) -> int:
        return self.budget - self.n

    def seen(self, index: int) -> bool:
        return index in self._pos

    def __call__(self, index: int) -> np.ndarray:
        index = int(index)
        if index in self._pos:
            return self.rows[self._pos[index]]
        if self.remaining <= 0:
            raise BudgetExhausted
        row = np.asarray(self._lookup(index), dtype=float)
        self._pos[index] = len(self.order)
        self.order.append(index)
        self.rows.append(row)
        return row


@dataclass
class BaselineResult:
    """One run: the distinct cells evaluated, in order, and their minimisation rows."""

    method: str
    seed: int
    budget: int
    objectives: tuple[Objective, ...]
    indices: np.ndarray  # benchmark indices in evaluation order (all distinct)
    F: np.ndarray  # (n_evaluated, k), minimisation convention
    params: dict[str, float] = field(default_factory=dict)

    @property
    def cells(self) -> tuple[str, ...]:
        strings = nb201.all_cells()
        return tuple(strings[i] for i in self.indices)

    def front_indices(self, n: int | None = None) -> np.ndarray:
        """Benchmark indices of the non-dominated cells among the first ``n`` evaluated."""
        F = self.F[:n]
        return self.indices[:n][pareto_indices(F)]

    def hv_ratio(self, exact: ExactFront, n: int | None = None) -> float:
        return hv_ratio(self.F[:n], exact.F)

    def igd(self, exact: ExactFront, n: int | None = None) -> float:
        return igd(self.F[:n], exact.F)


# --------------------------------------------------------------------------- methods


def random_search(ev: DistinctEvaluator, seed: int) -> None:
    """Evaluate a uniform random permutation of the space until the budget is spent."""
    for i in np.random.default_rng(seed).permutation(nb201.N_CELLS)[: ev.budget]:
        ev(int(i))


def _pareto_pick(F: np.ndarray, rng: random.Random) -> int:
    """Position of a uniformly drawn non-dominated row of ``F``."""
    return int(rng.choice(list(pareto_indices(F))))


def regularized_evolution(
    ev: DistinctEvaluator, seed: int, population: int = 20, sample_size: int = 10
) -> None:
    """Real et al. (2019) aging evolution with a Pareto tournament (see module doc)."""
    if not 2 <= sample_size <= population:
        raise UserError(f"RE needs 2 <= sample_size <= population; got {sample_size}, {population}")
    rng = random.Random(seed)
    pop: list[int] = []  # oldest first
    for cell in nb201.sample(rng, min(population, ev.budget)):
        i = nb201.cell_to_index(cell)
        ev(i)
        pop.append(i)
    while ev.remaining > 0:
        sample = rng.sample(pop, sample_size)
        parent = sample[_pareto_pick(np.array([ev(i) for i in sample]), rng)]
        child = _new_child(ev, nb201.index_to_cell(parent), rng)
        if child is None:
            break
        ev(child)
        pop.append(child)
        pop.pop(0)  # age-based removal: the oldest dies, not the worst


def _new_child(ev: DistinctEvaluator, parent: str, rng: random.Random) -> int | None:
    for attempt in range(100):
        k = 1 + attempt // 25  # widen the step when one-edge neighbours are used up
        child = nb201.cell_to_index(nb201.mutate(parent, rng, k=k))
        if not ev.seen(child):
            return child
    unseen = [i for i in range(nb201.N_CELLS) if not ev.seen(i)]
    return rng.choice(unseen) if unseen else None


class _CellProblem(Problem):
    """6 integer variables (op index per edge) -> the evaluator's rows. Past the budget a
    candidate gets +inf without being looked up (the search learns nothing from it), and
    the termination stops the run right after that generation."""

    def __init__(self, ev: DistinctEvaluator, n_obj: int) -> None:
        super().__init__(n_var=nb201.N_EDGES, n_obj=n_obj, xl=0, xu=len(nb201.OPS) - 1, vtype=int)
        self.ev = ev

    def _evaluate(self, X, out, *args, **kwargs) -> None:
        rows = []
        for x in np.asarray(X).astype(int):
            i = _index_of(x)
            try:
                rows.append(self.ev(i))
            except BudgetExhausted:
                rows.append(np.full(self.n_obj, np.inf))
        out["F"] = np.array(rows)


def _index_of(x: np.ndarray) -> int:
    return nb201.cell_to_index(nb201.from_op_indices(x))


class _EdgeMutation(Mutation):
    """Each edge takes a different op with probability ``edge_prob``; at least one edge
    always changes, so a mutant never equals its parent (``edge_prob=0``: exactly one
    edge, i.e. a step to one of the 24 NB201 neighbours)."""

    def __init__(self, edge_prob: float) -> None:
        super().__init__(prob=1.0)
        self.edge_prob = edge_prob

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        X = np.asarray(X).astype(int).copy()
        n_ops = len(nb201.OPS)
        for x in X:
            mask = random_state.random(len(x)) < self.edge_prob
            if not mask.any():
                mask[random_state.integers(len(x))] = True
            for e in np.flatnonzero(mask):
                x[e] = (x[e] + random_state.integers(1, n_ops)) % n_ops  # a different op
        return X


class _SeenElimination(DuplicateElimination):
    """Duplicates within a batch, against the population, and against every cell the
    evaluator has already paid for."""

    def __init__(self, ev: DistinctEvaluator) -> None:
        super().__init__()
        self.ev = ev

    def _do(self, pop, other, is_duplicate):
        keys = [tuple(int(v) for v in x) for x in pop.get("X")]
        if other is None:
            batch: set[tuple[int, ...]] = set()
            for j, key in enumerate(keys):
                if key in batch or self.ev.seen(_index_of(np.array(key))):
                    is_duplicate[j] = True
                batch.add(key)
        else:
            taken = {tuple(int(v) for v in x) for x in other.get("X")}
            for j, key in enumerate(keys):
                if key in taken:
                    is_duplicate[j] = True
        return is_duplicate


class _DistinctBudget(Termination):
    """Stops once the evaluator has spent its budget, or after 20 generations without a
    single new cell (the operators can no longer propose one)."""

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
) -> None:
    """NSGA-II (Deb et al., 2002) through pymoo's ``minimize`` (see module doc)."""
    algorithm = NSGA2(
        pop_size=int(pop_size),
        sampling=IntegerRandomSampling(),
        crossover=UniformCrossover(prob=crossover_prob),
        mutation=_EdgeMutation(edge_prob),
        eliminate_duplicates=_SeenElimination(ev),
    )
    # no copies: the operators and the termination must share this run's evaluator.
    # Over-budget candidates of the last generation carry +inf, which makes crowding
    # distances NaN in that final survival step only; the run ends right after it.
    with np.errstate(invalid="ignore"):
        minimize(
            _CellProblem(ev, n_obj),
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


def run_baseline(
    method: str,
    budget: int,
    seed: int = 0,
    dataset: str = "cifar10",
    objectives: str | Sequence[str] | Sequence[Objective] = "accuracy,latency",
    backend: HardwareBackend | str | None = None,
    **params: float,
) -> BaselineResult:
    """Run one baseline for exactly ``budget`` distinct NB201 cells (1..15,625)."""
    if method not in METHODS:
        raise UserError(f"unknown baseline method '{method}'; available: {', '.join(METHODS)}")
    if not 1 <= int(budget) <= nb201.N_CELLS:
        raise UserError(f"budget must be 1..{nb201.N_CELLS} distinct cells; got {budget}")
    objs = parse_objectives(objectives)
    hw = _resolve_backend(backend)
    ev = DistinctEvaluator(objective_lookup(dataset, objs, hw), int(budget))
    if method == "random":
        used: dict[str, float] = {}
        random_search(ev, seed)
    elif method == "re":
        used = {**RE_DEFAULTS, **params}
        regularized_evolution(ev, seed, int(used["population"]), int(used["sample_size"]))
    else:
        used = {**NSGA2_DEFAULTS, **params}
        nsga2(ev, seed, len(objs), int(used["pop_size"]), used["crossover_prob"], used["edge_prob"])
    return BaselineResult(
        method=method,
        seed=seed,
        budget=int(budget),
        objectives=tuple(objs),
        indices=np.array(ev.order, dtype=int),
        F=np.array(ev.rows, dtype=float).reshape(ev.n, len(objs)),
        params=used,
    )


@dataclass(frozen=True)
class BaselineSummary:
    method: str
    budget: int
    seeds: tuple[int, ...]
    hv_ratios: tuple[float, ...]
    igds: tuple[float, ...]

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


def run_seeds(
    method: str,
    budget: int,
    seeds: Sequence[int],
    dataset: str = "cifar10",
    objectives: str | Sequence[str] | Sequence[Objective] = "accuracy,latency",
    backend: HardwareBackend | str | None = None,
    **params: float,
) -> BaselineSummary:
    """HV ratio and IGD of one method over several seeds, against the exact front."""
    objs = parse_objectives(objectives)
    hw = _resolve_backend(backend)
    exact = exact_front("nb201", dataset, objs, hw)
    runs = [run_baseline(method, budget, s, dataset, objs, hw, **params) for s in seeds]
    return BaselineSummary(
        method=method,
        budget=int(budget),
        seeds=tuple(seeds),
        hv_ratios=tuple(r.hv_ratio(exact) for r in runs),
        igds=tuple(r.igd(exact) for r in runs),
    )
