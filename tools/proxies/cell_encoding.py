"""Features of an NB201 cell read from its graph alone (no network, no data, no table).

The zero-cost predictor uses them next to the proxies: on NAS-Bench-201 the structure of
a cell (how many convolutions lie on its input → output paths, whether a path skips them,
which edges carry nothing) explains much of its accuracy, and it costs nothing to compute.

* live operation counts: operations on the edges that carry something from the input
  to the output (an edge feeding a node that reaches nothing counts as ``none``);
* the four input → output paths, (3←0), (1←0)(3←1), (2←0)(3←2), (1←0)(2←1)(3←2): for
  each, whether it is open (no ``none`` on it), and on an open path the number of 3x3
  convolutions, of convolutions, of skips and of poolings (−1 on a closed path);
* summaries over open paths: how many, the most/fewest/total convolutions, the most and
  total 3x3 convolutions, total poolings, open paths with no convolution, whether a path
  is all skips, and whether the cell is degenerate (no open path: its output is zero).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from agentnas.tools.spaces.nb201 import OPS, live_ops, normalize, to_op_indices

NONE, SKIP, CONV1, CONV3, POOL = (OPS.index(o) for o in OPS)
PATHS: tuple[tuple[int, ...], ...] = ((3,), (0, 4), (1, 5), (0, 2, 5))  # edge indices
_PATH_STATS = ("open", "n_conv3", "n_conv", "n_skip", "n_pool")
ENCODING_FEATURES: tuple[str, ...] = (
    *(f"live_n_{op}" for op in OPS),
    *(f"path{p}_{s}" for p in range(len(PATHS)) for s in _PATH_STATS),
    "open_paths",
    "max_conv_on_path",
    "min_conv_on_path",
    "conv_on_paths",
    "max_conv3_on_path",
    "conv3_on_paths",
    "pool_on_paths",
    "open_paths_without_conv",
    "all_skip_path",
    "degenerate",
)


def _path_stats(ops: tuple[int, ...]) -> tuple[list[float], list[tuple[int, int, int, int]]]:
    per_path: list[float] = []
    open_stats = []
    for path in PATHS:
        on = [ops[e] for e in path]
        if NONE in on:
            per_path += [0.0, -1.0, -1.0, -1.0, -1.0]
            continue
        stats = (
            on.count(CONV3),
            on.count(CONV3) + on.count(CONV1),
            on.count(SKIP),
            on.count(POOL),
        )
        per_path += [1.0, *map(float, stats)]
        open_stats.append(stats)
    return per_path, open_stats


@cache
def _encode(cell: str) -> tuple[float, ...]:
    ops = to_op_indices(cell)
    live = live_ops(ops)
    counts = [float(live.count(i)) for i in range(len(OPS))]
    per_path, open_stats = _path_stats(ops)
    n_open = len(open_stats)
    conv = [s[1] for s in open_stats]
    conv3 = [s[0] for s in open_stats]
    summary = [
        n_open,
        max(conv, default=-1),
        min(conv, default=-1),
        sum(conv),
        max(conv3, default=-1),
        sum(conv3),
        sum(s[3] for s in open_stats),
        sum(1 for c in conv if c == 0),
        int(any(s[2] == len(p) for s, p in zip(open_stats, _open_paths(ops), strict=True))),
        int(n_open == 0),
    ]
    return (*counts, *per_path, *map(float, summary))


def _open_paths(ops: tuple[int, ...]) -> list[tuple[int, ...]]:
    return [p for p in PATHS if all(ops[e] != NONE for e in p)]


def encoding_features(cell: str) -> np.ndarray:
    """The :data:`ENCODING_FEATURES` of ``cell`` as a float vector."""
    return np.asarray(_encode(normalize(cell)), dtype=np.float64)
