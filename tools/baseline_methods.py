"""The three baseline methods on any space, through the capability each needs
(:mod:`agentnas.tools.spaces.base`), and the evaluator that counts distinct architectures
(the budget). :mod:`agentnas.tools.baselines` runs and scores them; see its docstring for
what each method does and why.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable
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
from agentnas.tools.metrics import pareto_indices
from agentnas.tools.spaces.base import (
    EncodableSpace,
    EnumerableSpace,
    EvolutionarySpace,
    SearchSpace,
)
from agentnas.tools.spaces.registry import as_space

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
