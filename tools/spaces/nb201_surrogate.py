"""NB201's inputs to the offline policy's effect model: cell structure, one-hot ops, and
op-aware priors (what a NAS engineer expects of a cell before measuring it).

Model inputs: 19 structure columns (which input→output paths are alive, how many
convolutions each carries, pooling on live paths, the residual, live conv/pool counts)
then the 30-column one-hot of the op on each edge. Priors are in relative units (the model
fits their scale per objective). Accuracy: convs learn, skip keeps gradients flowing,
pooling and none lose information. Cost (latency, energy, params, FLOPs): a 3x3 conv costs
most, then 1x1, pooling a little, skip/none nothing.
"""

from __future__ import annotations

import functools

import numpy as np

from agentnas.tools.spaces.nb201 import OPS, parse_cell

ACCURACY_PRIOR = {
    "none": -1.0,
    "skip_connect": 0.0,
    "avg_pool_3x3": -0.3,
    "nor_conv_1x1": 0.6,
    "nor_conv_3x3": 1.0,
}
COST_PRIOR = {
    "none": 0.0,
    "skip_connect": 0.02,
    "avg_pool_3x3": 0.15,
    "nor_conv_1x1": 0.35,
    "nor_conv_3x3": 1.0,
}

# the four input->output paths of an NB201 cell, as edge indices (EDGES order)
PATHS = ((3,), (0, 4), (1, 5), (0, 2, 5))
_CONV_DEPTH = {"nor_conv_1x1": 0.6, "nor_conv_3x3": 1.0}
STRUCT_RIDGE = 10.0  # few, informative structure columns
ONEHOT_RIDGE = 30.0  # many op-per-edge columns: shrink harder
N_STRUCT = 19


def structure(ops: tuple[str, ...]) -> list[float]:
    """What a NAS engineer reads off a cell: which input->output paths are alive, how
    many convolutions each carries (its depth), pooling on live paths, the residual
    (skip on edge 3<-0), and conv/pool counts on live edges only (dead ops are wasted)."""
    alive = [all(ops[e] != "none" for e in p) for p in PATHS]
    depth = [
        sum(_CONV_DEPTH.get(ops[e], 0.0) for e in p) * a for p, a in zip(PATHS, alive, strict=False)
    ]
    pools = [
        sum(ops[e] == "avg_pool_3x3" for e in p) * a for p, a in zip(PATHS, alive, strict=False)
    ]
    live = {e for p, a in zip(PATHS, alive, strict=False) if a for e in p}
    return [
        *map(float, alive), *depth, *map(float, pools),
        max(depth), sum(depth), float(sum(alive)), float(ops[3] == "skip_connect"),
        float(sum(ops[e] == "nor_conv_3x3" for e in live)),
        float(sum(ops[e] == "nor_conv_1x1" for e in live)),
        float(sum(ops[e] == "avg_pool_3x3" for e in live)),
    ]  # fmt: skip


def surrogate_features(cell: str) -> np.ndarray:
    """Structure columns then the one-hot op per edge (49 floats; a fresh array)."""
    return np.array(_surrogate_features(cell))


@functools.lru_cache(maxsize=1 << 15)  # pure, and asked for the same cells every round
def _surrogate_features(cell: str) -> tuple[float, ...]:
    ops = parse_cell(cell)
    onehot = np.zeros(len(ops) * len(OPS))
    for e, op in enumerate(ops):
        onehot[e * len(OPS) + OPS.index(op)] = 1.0
    return tuple(np.concatenate([structure(ops), onehot]).tolist())


def surrogate_penalties(dim: int) -> np.ndarray:
    return np.r_[np.full(N_STRUCT, STRUCT_RIDGE), np.full(dim - N_STRUCT, ONEHOT_RIDGE)]


def prior(cell: str, maximize: bool) -> float:
    table = ACCURACY_PRIOR if maximize else COST_PRIOR
    return float(sum(table[op] for op in parse_cell(cell)))
