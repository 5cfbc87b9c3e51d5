"""The search-space contract: what every space offers, and the capabilities an algorithm
may ask for (in the manner of Archai's ``DiscreteSearchSpace`` → ``EvolutionarySearchSpace``
/ ``BayesOptSearchSpace``).

Every space is a :class:`SearchSpace`: it validates and canonicalises architecture strings,
draws them, gives the complexity features partitions are cut on, describes itself for
prompts and names the words heuristics and steering rules may use (:class:`Vocabulary`).
On top of that a space may offer

* :class:`EvolutionarySpace` — ``mutate`` / ``crossover`` / ``neighbours`` (RE, the
  offline Designer);
* :class:`EncodableSpace` — an integer vector per architecture inside a box ``bounds()``,
  every point of which decodes (NSGA-II through pymoo's ``Problem``);
* :class:`EnumerableSpace` — every architecture, in a fixed order (exact sampling inside a
  partition, random search without replacement, exact fronts);
* :class:`SurrogateSpace` — model inputs, ridge penalties and op-aware priors for the
  offline policy's effect model;
* :class:`IsomorphicSpace` — one representative per isomorphism class;
* :class:`SlotView` — the choice in each named slot (the user's avoid/prefer rules), and
  :class:`SlotSpace` — an architecture that is one operation per slot and back (claims
  about "op X on slot e", front patterns).

The protocols are ``runtime_checkable``, so callers ask ``isinstance(space, EnumerableSpace)``
instead of probing with ``hasattr`` or catching ``TypeError``. Random number generators are
``random.Random`` (numpy ``Generator`` where a space says so). Spaces stay pure: nothing
here imports an agent, the graph or the CLI.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Vocabulary:
    """The words a heuristic or a steering rule may name in this space.

    ``operations``: what can be placed (NB201: its five ops; photonic-mlp: activations,
    meshes, widths …). ``slots``: the places an edit changes, in the order
    :meth:`SearchSpace.edit_tokens` reports them (NB201: the six edges ``"1<-0"`` …).
    ``positions``: phrases a user may say (``"near the output"``) → the slots they mean.
    ``features``: the complexity features partitions can be cut on."""

    operations: tuple[str, ...]
    slots: tuple[str, ...] = ()
    positions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    features: tuple[str, ...] = ()

    def slots_at(self, phrase: str) -> tuple[str, ...]:
        """The slots a position phrase names (case-insensitive); () when it names none."""
        text = phrase.strip().lower()
        for name, slots in self.positions.items():
            if name.lower() == text:
                return slots
        return (phrase.strip(),) if phrase.strip() in self.slots else ()


@runtime_checkable
class SearchSpace(Protocol):
    """What every space offers (see the module docstring)."""

    name: str
    size: int  # number of architectures (distinct strings)
    datasets: tuple[str, ...]  # datasets it can be searched on; the first is the default
    default_objectives: tuple[str, ...]  # searched when the user names none
    default_hardware: str  # backend searched on when the user names none
    default_partition_feature: str  # the feature the Partitioner cuts on by default
    # where accuracy comes from when the run asks for the "table": True when the space has
    # a benchmark table of its own, False when the backend must train each candidate
    has_accuracy_table: bool

    def validate(self, arch: str) -> str:
        """The canonical spelling of a legal architecture, else ``UserError`` saying why."""
        ...

    def canonical(self, arch: str) -> str:
        """One string per equivalence class (isomorphism for NB201), for dedup."""
        ...

    def features(self, arch: str) -> dict[str, float]:
        """Complexity features for partitioning (name → value)."""
        ...

    def sample(
        self, rng: random.Random, n: int = 1, where: Callable[[str], bool] | None = None
    ) -> list[str]:
        """``n`` distinct architectures drawn uniformly (among those passing ``where``)."""
        ...

    def is_degenerate(self, arch: str) -> bool:
        """True for a legal architecture that computes nothing useful (a constant output)."""
        ...

    def cost_floor(self) -> str | None:
        """An architecture known to sit at the lowest-cost end of every front (worth one
        probe), or None."""
        ...

    def edit_tokens(self, parent: str, child: str) -> list[str]:
        """What changed from ``parent`` to ``child``, one token per edit, in the words of
        :meth:`vocabulary` (NB201: ``e3<-0=skip_connect``; others ``<feature> up|down``)."""
        ...

    def describe(self) -> str:
        """One paragraph for prompts: what an architecture string means here."""
        ...

    def vocabulary(self) -> Vocabulary: ...


@runtime_checkable
class EvolutionarySpace(SearchSpace, Protocol):
    """Local edits and recombination: what RE and the offline Designer need."""

    def mutate(self, arch: str, rng: random.Random, k: int = 1) -> str:
        """``k`` edits of ``arch``; the result always differs from it."""
        ...

    def crossover(self, a: str, b: str, rng: random.Random) -> str: ...

    def neighbours(self, arch: str) -> list[str]:
        """Every architecture one edit away."""
        ...


@runtime_checkable
class EncodableSpace(SearchSpace, Protocol):
    """Integer vectors in a box, for vector optimisers (pymoo's NSGA-II)."""

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) integer bounds, inclusive, one per variable; every point of the
        box decodes to a legal architecture."""
        ...

    def encode(self, arch: str) -> list[int]: ...

    def decode(self, vector: Sequence[int]) -> str:
        """The canonical architecture of a vector in :meth:`bounds`, else ``UserError``."""
        ...


@runtime_checkable
class EnumerableSpace(SearchSpace, Protocol):
    """Small enough to list: every architecture, canonical strings in a fixed order."""

    def enumerate(self) -> Sequence[str]: ...

    def index(self, arch: str) -> int:
        """Position of ``arch`` in :meth:`enumerate` (NB201: the benchmark index)."""
        ...


@runtime_checkable
class SlotView(Protocol):
    """What sits in each slot of :meth:`SearchSpace.vocabulary`, so the user's avoid/prefer
    rules ("avoid tanh", "no avg_pool_3x3 near the output") can judge an architecture.
    A slot may hold a word outside ``operations`` (photonic-mlp: ``k=16``, or ``""`` for
    a layer the network lacks). Small protocols: they are asked per candidate, and a check
    costs per member."""

    def slot_ops(self, arch: str) -> tuple[str, ...]:
        """The choice in each slot, in ``vocabulary().slots`` order."""
        ...


@runtime_checkable
class SlotSpace(SlotView, Protocol):
    """An architecture *is* one operation per slot, any of ``vocabulary().operations`` in
    any slot (NB201: an op per edge): claims that name "op X on slot e" judge it, their
    per-(slot, op) evidence is a prior of the surrogate, and cells drawn slot by slot from
    a front pattern are architectures (:meth:`from_slot_ops`)."""

    def from_slot_ops(self, ops: Sequence[str]) -> str:
        """The architecture with these operations, in ``vocabulary().slots`` order: the
        inverse of :meth:`slot_ops`."""
        ...


@runtime_checkable
class SurrogateSpace(SearchSpace, Protocol):
    """Space-specific inputs of the offline policy's additive effect model. A space may
    also name the one-hot knob columns of its inputs (``surrogate_choice_columns``, a
    tuple of column indices; optional): a value that no evaluated cell has then gets a
    prior spread (:func:`agentnas.agents.surrogate.unseen_spread`)."""

    # first column of a (slot, op) one-hot block in surrogate_features, slot-major with
    # ops in vocabulary order (where KB claims about "op on edge" set prior means); None
    # when the inputs have no such block
    slot_onehot_start: int | None

    def surrogate_features(self, arch: str) -> np.ndarray:
        """Model inputs (a fixed-length float vector) of one architecture."""
        ...

    def surrogate_penalties(self, dim: int) -> np.ndarray:
        """Ridge penalty per column of :meth:`surrogate_features`."""
        ...

    def prior(self, arch: str, maximize: bool) -> float:
        """A guess of an objective's value in relative units before any data: larger
        for a cell expected to score higher (accuracy when ``maximize``, cost otherwise)."""
        ...


@runtime_checkable
class IsomorphicSpace(SearchSpace, Protocol):
    """Spaces whose distinct strings can compute the same function."""

    def representative(self, arch: str) -> str: ...


def feature_tokens(space: SearchSpace, parent: str, child: str) -> list[str]:
    """``<feature> up|down`` for each complexity feature that changed: the edit tokens of
    a space without named slots."""
    fa, fb = space.features(parent), space.features(child)
    return [f"{k} {'up' if fb[k] > fa[k] else 'down'}" for k in sorted(fa) if fb.get(k) != fa[k]]
