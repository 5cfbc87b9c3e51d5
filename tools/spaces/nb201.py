"""The NAS-Bench-201 cell space: 6 edges x 5 ops = 15,625 cells.

Cell strings look like ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``: node 1 takes node 0;
node 2 takes nodes 0, 1; node 3 (the output) takes nodes 0, 1, 2; a node sums its inputs.
Edges are ordered as they appear in the string: (1←0), (2←0), (2←1), (3←0), (3←1), (3←2).

Encodings: the op list (6 names), op indices (0..4 in :data:`OPS` order) and the
benchmark index 0..15,624 (NAS-Bench-201 / NATS-Bench-TSS / HW-NAS-Bench order, which is
not a formula: it is looked up in the shipped table).

Isomorphism: :func:`canonical` reproduces NATS-Bench's ``UniqueString`` for every cell
(checked against all 15,625 rows). The benchmarks trained and measured isomorphic cells
separately, so a search keeps them distinct unless asked otherwise.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterable, Sequence
from functools import cache

import numpy as np

from agentnas.tools.errors import UserError
from agentnas.tools.spaces.base import Vocabulary

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
N_EDGES = len(EDGES)
N_CELLS = len(OPS) ** N_EDGES  # 15,625

Cell = tuple[str, ...]  # six op names in EDGES order


def parse_cell(text: str) -> Cell:
    """Parse a cell string into its six ops, refusing anything malformed."""
    return _parse_cell(text)


@functools.lru_cache(maxsize=1 << 16)  # pure and hot: a run parses the space many times
def _parse_cell(text: str) -> Cell:
    s = text.strip()
    nodes = s.strip("|").split("|+|") if s.startswith("|") and s.endswith("|") else []
    if len(nodes) != 3:
        raise UserError(
            f"malformed NB201 cell string {text!r}: expected "
            "'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' with ops " + ", ".join(OPS)
        )
    ops: list[str] = []
    for node, part in enumerate(nodes, start=1):
        edges = part.split("|")
        if len(edges) != node:
            raise UserError(
                f"malformed NB201 cell string {text!r}: node {node} needs {node} inputs"
            )
        for src, edge in enumerate(edges):
            op, sep, idx = edge.partition("~")
            if not sep or idx != str(src):
                raise UserError(
                    f"malformed NB201 cell string {text!r}: edge {edge!r} should be 'op~{src}'"
                )
            if op not in OPS:
                raise UserError(
                    f"unknown op {op!r} in NB201 cell string; ops are: {', '.join(OPS)}"
                )
            ops.append(op)
    return tuple(ops)


def format_cell(ops: Sequence[str]) -> str:
    """The canonical text of a cell from its six ops (EDGES order)."""
    if len(ops) != N_EDGES or any(op not in OPS for op in ops):
        raise UserError(f"an NB201 cell has {N_EDGES} ops from {', '.join(OPS)}; got {ops!r}")
    o = list(ops)
    return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"


def normalize(text: str) -> str:
    """Validate a cell string and return it in exact canonical spelling."""
    return format_cell(parse_cell(text))


def to_op_indices(cell: str) -> tuple[int, ...]:
    return tuple(OPS.index(op) for op in parse_cell(cell))


def from_op_indices(indices: Iterable[int]) -> str:
    idx = list(indices)
    if len(idx) != N_EDGES or any(not 0 <= int(i) < len(OPS) for i in idx):
        raise UserError(f"op indices must be {N_EDGES} integers in 0..{len(OPS) - 1}; got {idx}")
    return format_cell([OPS[int(i)] for i in idx])


@cache
def _index_tables() -> tuple[tuple[str, ...], dict[str, int]]:
    from agentnas.tools.benchmark_tables import load_nb201

    strings = tuple(load_nb201().arch_str)
    return strings, {s: i for i, s in enumerate(strings)}


def cell_to_index(cell: str) -> int:
    """The NAS-Bench-201 benchmark index 0..15,624 of a cell string."""
    return _index_tables()[1][normalize(cell)]


def index_to_cell(index: int) -> str:
    if not 0 <= int(index) < N_CELLS:
        raise UserError(f"NB201 index must be in 0..{N_CELLS - 1}; got {index}")
    return _index_tables()[0][int(index)]


def all_cells() -> tuple[str, ...]:
    """Every cell, in benchmark index order."""
    return _index_tables()[0]


def canonical(cell: str) -> str:
    """Isomorphism-class string, identical to NATS-Bench's ``UniqueString``.

    A node is the sorted sum of its incoming terms; ``none`` contributes ``#`` (zero), an
    op on zero stays zero, ``skip_connect`` passes its input's expression unchanged.
    """
    ops = parse_cell(cell)
    values = ["0"]
    k = 0
    for node in (1, 2, 3):
        terms = []
        for src in range(node):
            op, value = ops[k], values[src]
            k += 1
            if op == "none" or value == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(value)
            else:
                terms.append(f"({value})@{op}")
        values.append("+".join(sorted(terms)))
    return values[3]


def representative(cell: str) -> str:
    """The member of the cell's isomorphism class with the smallest benchmark index."""
    from agentnas.tools.benchmark_tables import load_nb201

    return index_to_cell(int(load_nb201().iso_class[cell_to_index(cell)]))


def live_ops(ops: tuple[int, ...]) -> tuple[int, ...]:
    """``ops`` (operation indices per edge, :data:`EDGES` order) with every edge that
    carries nothing from input to output set to none: what the cell really computes."""
    none = OPS.index("none")
    from_input = {0}
    for k, (dst, src) in enumerate(EDGES):
        if src in from_input and ops[k] != none:
            from_input.add(dst)
    to_output = {3}
    for k in reversed(range(len(EDGES))):
        dst, src = EDGES[k]
        if dst in to_output and ops[k] != none:
            to_output.add(src)
    return tuple(
        op if src in from_input and dst in to_output else none
        for (dst, src), op in zip(EDGES, ops, strict=True)
    )


def is_degenerate(cell: str) -> bool:
    """True when no path carries the input to the output (the output is constant zero)."""
    # op names hold no "0", so the input node appears in the expression iff "0" does
    return "0" not in canonical(cell)


def op_counts(cell: str) -> dict[str, int]:
    ops = parse_cell(cell)
    return {f"n_{op}": ops.count(op) for op in OPS}


def features(cell: str) -> dict[str, float]:
    """Complexity features used for partitioning: op counts (e.g. ``n_nor_conv_3x3``),
    plus ``params`` (M) and ``flops`` (M) of the real network when the shipped table has
    them (CIFAR-10 head, 32x32 input)."""
    return dict(_features(cell))  # a copy: callers may change it


@functools.lru_cache(maxsize=1 << 15)  # every run reads all 15,625 cells' features
def _features(cell: str) -> tuple[tuple[str, float], ...]:
    feats: dict[str, float] = dict(op_counts(cell))
    from agentnas.tools.benchmark_tables import load_nb201

    tables = load_nb201()
    if tables.params_m is not None:
        i = cell_to_index(cell)
        feats["params"] = float(tables.params_m[i])
        feats["flops"] = float(tables.flops_m[i])
    return tuple(feats.items())


def sample(rng: random.Random, n: int = 1, where: Callable[[str], bool] | None = None) -> list[str]:
    """``n`` distinct cells drawn uniformly (optionally among those satisfying ``where``,
    e.g. a partition's membership test)."""
    pool = all_cells() if where is None else [c for c in all_cells() if where(c)]
    if n > len(pool):
        raise UserError(f"cannot draw {n} distinct cells from a pool of {len(pool)}")
    return rng.sample(list(pool), n)


def mutate(cell: str, rng: random.Random, k: int = 1) -> str:
    """Change ``k`` distinct edges to a different op each."""
    if not 1 <= k <= N_EDGES:
        raise UserError(f"mutation must change 1..{N_EDGES} edges; got {k}")
    ops = list(parse_cell(cell))
    for e in rng.sample(range(N_EDGES), k):
        ops[e] = rng.choice([op for op in OPS if op != ops[e]])
    return format_cell(ops)


def crossover(a: str, b: str, rng: random.Random) -> str:
    """Edge-wise uniform crossover: each edge's op comes from either parent."""
    pa, pb = parse_cell(a), parse_cell(b)
    return format_cell([x if rng.random() < 0.5 else y for x, y in zip(pa, pb, strict=True)])


def neighbours(cell: str) -> list[str]:
    """All 24 cells one edge away."""
    ops = parse_cell(cell)
    out = []
    for e in range(N_EDGES):
        for op in OPS:
            if op != ops[e]:
                out.append(format_cell([*ops[:e], op, *ops[e + 1 :]]))
    return out


EDGE_LABELS: tuple[str, ...] = tuple(f"{dst}<-{src}" for dst, src in EDGES)
# phrases heuristics and steering rules may use for groups of edges
POSITIONS: dict[str, tuple[str, ...]] = {
    "near the output": tuple(
        lab for lab, (dst, _) in zip(EDGE_LABELS, EDGES, strict=True) if dst == 3
    ),
    "near the input": tuple(
        lab for lab, (_, src) in zip(EDGE_LABELS, EDGES, strict=True) if src == 0
    ),
    "the residual": ("3<-0",),
    "every edge": EDGE_LABELS,
}
# the all-none cell: zero cost on every device, the lowest-cost end of any front
ALL_NONE = format_cell(("none",) * N_EDGES)


def edit_tokens(parent: str, child: str) -> list[str]:
    """``e3<-0=skip_connect`` for each edge whose op changed from ``parent`` to ``child``."""
    a, b = parse_cell(parent), parse_cell(child)
    return [f"e{EDGE_LABELS[e]}={y}" for e, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]


class NB201Space:
    """The NB201 space behind :class:`~agentnas.tools.spaces.base.SearchSpace` and every
    capability of :mod:`agentnas.tools.spaces.base` (evolutionary, encodable as six op
    indices, enumerable in benchmark order, surrogate inputs, isomorphism)."""

    name = "nb201"
    size = N_CELLS
    datasets = ("cifar10", "cifar100", "ImageNet16-120")
    default_objectives = ("accuracy", "latency")
    default_hardware = "hwnasbench:fpga"
    default_partition_feature = "n_nor_conv_3x3"
    has_accuracy_table = True

    def validate(self, arch: str) -> str:
        return normalize(arch)

    def canonical(self, arch: str) -> str:
        return canonical(arch)

    def features(self, arch: str) -> dict[str, float]:
        return features(arch)

    def representative(self, arch: str) -> str:
        return representative(arch)

    def is_degenerate(self, arch: str) -> bool:
        return is_degenerate(arch)

    def cost_floor(self) -> str | None:
        return ALL_NONE

    def edit_tokens(self, parent: str, child: str) -> list[str]:
        return edit_tokens(parent, child)

    def vocabulary(self) -> Vocabulary:
        return Vocabulary(
            operations=OPS,
            slots=EDGE_LABELS,
            positions=POSITIONS,
            features=(*(f"n_{op}" for op in OPS), "params", "flops"),
        )

    def sample(
        self, rng: random.Random, n: int = 1, where: Callable[[str], bool] | None = None
    ) -> list[str]:
        return sample(rng, n, where)

    def mutate(self, arch: str, rng: random.Random, k: int = 1) -> str:
        return mutate(arch, rng, k)

    def crossover(self, a: str, b: str, rng: random.Random) -> str:
        return crossover(a, b, rng)

    def neighbours(self, arch: str) -> list[str]:
        return neighbours(arch)

    def enumerate(self) -> tuple[str, ...]:
        return all_cells()

    def index(self, arch: str) -> int:
        """Benchmark index 0..15,624 (the row of the shipped tables)."""
        return cell_to_index(arch)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(N_EDGES, dtype=int), np.full(N_EDGES, len(OPS) - 1, dtype=int)

    def encode(self, arch: str) -> list[int]:
        return list(to_op_indices(arch))

    def decode(self, vector: Sequence[int]) -> str:
        return from_op_indices(vector)

    def slot_ops(self, arch: str) -> tuple[str, ...]:
        return parse_cell(arch)

    def from_slot_ops(self, ops: Sequence[str]) -> str:
        return format_cell(ops)

    # the one-hot (edge, op) block follows the structure columns
    slot_onehot_start = 19

    def surrogate_features(self, arch: str) -> np.ndarray:
        from agentnas.tools.spaces import nb201_surrogate

        return nb201_surrogate.surrogate_features(arch)

    def surrogate_penalties(self, dim: int) -> np.ndarray:
        from agentnas.tools.spaces import nb201_surrogate

        return nb201_surrogate.surrogate_penalties(dim)

    def prior(self, arch: str, maximize: bool) -> float:
        from agentnas.tools.spaces import nb201_surrogate

        return nb201_surrogate.prior(arch, maximize)

    def describe(self) -> str:
        """One paragraph for prompts: what an architecture string means here."""
        return (
            "NAS-Bench-201 cell: 4 nodes; node j sums op(node i) over i<j; string "
            "'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' lists the 6 edges (1<-0),(2<-0),(2<-1),"
            "(3<-0),(3<-1),(3<-2); ops: " + ", ".join(OPS) + ". The cell is stacked 15 times "
            "(C=16, N=5) with two residual reduction blocks."
        )
